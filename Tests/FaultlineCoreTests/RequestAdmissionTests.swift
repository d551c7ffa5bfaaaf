import FaultlineCore
import Testing

@Suite("Request admission: limits, versions and Expect before any rule")
struct RequestAdmissionTests {
    var limits: Limits {
        var limits = Limits()
        limits.maxURILength = 20
        limits.maxHeaderSize = 64
        limits.maxBodySize = 100
        return limits
    }

    func verdict(
        _ target: String = "/",
        version: (Int, Int) = (1, 1),
        headers: [(String, String)] = []
    ) -> RequestAdmission.Verdict {
        let request = IncomingRequest(
            method: "POST",
            target: target,
            headers: headers.map { HeaderField($0.0, $0.1) },
            version: version
        )
        return RequestAdmission.check(
            request,
            headerBytes: RequestAdmission.headerBytes(request.headers),
            limits: self.limits
        )
    }

    @Test func refusesWhatIsOverTheLimits() {
        #expect(self.verdict() == .admit)
        #expect(
            self.verdict(version: (2, 0))
                == .refuse(status: 505, message: "HTTP/2.0 is not supported; use HTTP/1.1 or HTTP/1.0")
        )
        #expect(
            self.verdict(version: (1, 2))
                == .refuse(status: 505, message: "HTTP/1.2 is not supported; use HTTP/1.1 or HTTP/1.0")
        )
        #expect(
            self.verdict("/" + String(repeating: "a", count: 20))
                == .refuse(status: 414, message: "the request target is longer than 20B")
        )
        #expect(self.verdict("/" + String(repeating: "a", count: 19)) == .admit, "exactly the limit is fine")
        #expect(
            self.verdict(headers: [("X-Long", String(repeating: "v", count: 60))])
                == .refuse(status: 431, message: "the header section is larger than 64B")
        )
        #expect(
            self.verdict(headers: [("Content-Length", "101")])
                == .refuse(status: 413, message: "the request body is larger than 100B")
        )
        #expect(self.verdict(headers: [("Content-Length", "100")]) == .admit)
    }

    @Test func expectContinueDecidesBeforeTheBodyOnHTTP11Only() {
        #expect(self.verdict(headers: [("Expect", "100-continue")]) == .decideBeforeBody)
        #expect(self.verdict(headers: [("Expect", "100-Continue")]) == .decideBeforeBody)
        #expect(
            self.verdict(version: (1, 0), headers: [("Expect", "100-continue")]) == .admit,
            "RFC 9110 10.1.1: ignored for HTTP/1.0"
        )
        #expect(
            self.verdict(headers: [("Expect", "something-else")])
                == .refuse(status: 417, message: "the expectation 'something-else' cannot be met")
        )
    }

    @Test func aRuleChosenEarlyAsksForTheBodyOnlyWhenItWillUseIt() throws {
        let engine = try engine(
            "version: 1\nrules:\n  - {path: /ok, status: 201}\n  - {path: /no, status: 401}\n  - {path: /hang, fault: hang}\n  - {path: /drop, fault: drop}\n"
        )
        #expect(engine.decide(request("/ok", method: "POST")).earlyAnswer == .askForBody)
        #expect(engine.decide(request("/no", method: "POST")).earlyAnswer == .answerWithoutBody)
        #expect(engine.decide(request("/hang", method: "POST")).earlyAnswer == .hangWithoutBody)
        #expect(engine.decide(request("/drop", method: "POST")).earlyAnswer == .answerWithoutBody)
    }
}
