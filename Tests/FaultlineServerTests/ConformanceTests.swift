import FaultlineCore
import FaultlineTestSupport
import FaultlineTesting
import Foundation
import Testing

/// Every status of DESIGN section 2's seed table over a raw socket: the exact status line, the headers that must
/// and must not be there, and whether a body follows, for GET and HEAD over HTTP/1.1 and HTTP/1.0.
@Suite("Status conformance over raw sockets")
struct ConformanceTests {
    static let scenario = """
        version: 1
        rules:
          - pathRegex: '^/s/(?<code>30[123578])$'
            status: "{code}"
            location: /target
          - pathRegex: '^/s/(?<code>[0-9]{3})$'
            status: "{code}"
            body: "body of {code}\\n"
        """

    static let codes: [Int] =
        [100, 101, 102, 103, 200, 204, 205, 206, 301, 302, 303, 304, 305, 307, 308]
        + Array(400...417) + [451, 499] + Array(500...505)

    @Test(arguments: ["GET", "HEAD"], ["HTTP/1.1", "HTTP/1.0"])
    func everyStatusBehavesAsARealServersWould(method: String, version: String) async throws {
        try await withServer(Self.scenario) { server in
            for code in Self.codes {
                let client = try RawHTTPClient(port: server.port)
                try client.send("\(method) /s/\(code) \(version)\r\nHost: x\r\n\r\n")
                let label = "\(method) /s/\(code) \(version)"
                if code == 499 {
                    #expect(try client.readToEnd() == [], "\(label): no byte is written")
                    continue
                }
                let response = try client.readResponse(bodyExpected: false)
                let reason = StatusReason.phrase(for: code)
                #expect(response.statusLine == "HTTP/1.1 \(code) \(reason)", "\(label)")
                #expect(response.header("Date").flatMap(HTTPDate.parse) != nil, "\(label): Date")
                let bodiless = code < 200 || code == 204 || code == 304
                let expectedLength: Int? =
                    if bodiless { nil } else if code == 205 { 0 } else if (301...308).contains(code) {
                        ResponsePlannerTestsAccess.redirectPageLength(status: code, location: "/target")
                    } else { "body of \(code)\n".utf8.count }
                #expect(
                    response.header("Content-Length").flatMap(Int.init) == expectedLength,
                    "\(label): Content-Length"
                )
                #expect(response.header("Transfer-Encoding") == nil, "\(label): never chunked")
                if bodiless || code == 205 {
                    #expect(response.header("Content-Type") == nil, "\(label): no Content-Type")
                }
                switch code {
                case 301, 302, 303, 305, 307, 308: #expect(response.header("Location") == "/target", "\(label)")
                case 401: #expect(response.header("WWW-Authenticate") == #"Basic realm="faultline""#, "\(label)")
                case 405: #expect(response.header("Allow") != nil, "\(label)")
                case 407: #expect(response.header("Proxy-Authenticate") == #"Basic realm="faultline""#, "\(label)")
                case 416:
                    #expect(response.header("Content-Range") == "bytes */\("body of 416\n".utf8.count)", "\(label)")
                case 206: #expect(response.header("Content-Range") == "bytes 0-11/12", "\(label)")
                case 200: #expect(response.header("Accept-Ranges") == "bytes", "\(label)")
                default: break
                }
                // What follows the head: the body for GET, nothing for HEAD and bodiless statuses.
                let sendsBody = method == "GET" && !bodiless && code != 205
                if version == "HTTP/1.0" || code < 200 {
                    #expect(response.header("Connection") == "close", "\(label): Connection: close")
                    let rest = try client.readToEnd()
                    #expect(rest.count == (sendsBody ? expectedLength ?? 0 : 0), "\(label): body bytes then close")
                } else {
                    #expect(response.header("Connection") == nil, "\(label): stays open")
                    if sendsBody {
                        #expect(try client.readBytes(count: expectedLength ?? 0).count == expectedLength ?? 0)
                    }
                    // The connection is still in step: the next response parses.
                    try client.send("GET /s/200 HTTP/1.1\r\nHost: x\r\n\r\n")
                    #expect(try client.readResponse().text == "body of 200\n", "\(label): keep-alive still in step")
                }
            }
        }
    }
}

/// Lengths the planner produces, for expectations.
enum ResponsePlannerTestsAccess {
    static func redirectPageLength(status: Int, location: String) -> Int {
        let plan = ResponsePlanner.plan(
            ResolvedResponse(status: status, location: location),
            for: IncomingRequest(method: "GET", target: "/"),
            date: "x"
        )
        return Int(plan.bodyLength)
    }
}
