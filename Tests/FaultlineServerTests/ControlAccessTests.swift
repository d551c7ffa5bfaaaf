import FaultlineCore
import Foundation
import Testing

@testable import FaultlineServer

#if canImport(Glibc)
import Glibc
#endif

/// Who may use the control API, decided without a socket.
@Suite("Control API access rules")
struct ControlAccessTests {
    func request(_ method: String, _ headers: [(String, String)]) -> IncomingRequest {
        IncomingRequest(method: method, target: "/__faultline/reset", headers: headers.map { HeaderField($0.0, $0.1) })
    }

    @Test func loopbackNamesAndTheListenersOwnAddressAreAccepted() {
        let access = ControlAccess(adminToken: nil, adminHosts: [])
        for host in [
            "localhost", "localhost:8080", "LOCALHOST.", "127.0.0.1", "127.0.0.1:9", "127.1.2.3:80", "[::1]",
            "[::1]:8080", "api.localhost:1",
        ] {
            #expect(
                access.check(
                    self.request("POST", [("Host", host)]),
                    clientIsLoopback: true,
                    listenerAddress: "127.0.0.1"
                ) == nil,
                "\(host)"
            )
        }
        #expect(
            access.check(
                self.request("GET", [("Host", "10.0.0.5:8080")]),
                clientIsLoopback: true,
                listenerAddress: "10.0.0.5"
            ) == nil
        )
        #expect(
            access.check(self.request("GET", []), clientIsLoopback: true, listenerAddress: nil) == nil,
            "no Host (HTTP/1.0) is no browser"
        )
    }

    @Test func aReboundNameIsRefusedUnlessGivenWithAdminHost() {
        let access = ControlAccess(adminToken: nil, adminHosts: [])
        for host in [
            "evil.example", "evil.example:8080", "127.0.0.1.evil.example", "localhost.evil.example", "[::2]", "x",
            "127.0.0.1@evil",
        ] {
            let refusal = access.check(
                self.request("POST", [("Host", host)]),
                clientIsLoopback: true,
                listenerAddress: "127.0.0.1"
            )
            #expect(refusal?.status == 403, "\(host)")
        }
        let named = ControlAccess(adminToken: nil, adminHosts: ["Faultline.CI:8080"])
        #expect(
            named.check(self.request("POST", [("Host", "faultline.ci")]), clientIsLoopback: true, listenerAddress: nil)
                == nil
        )
        #expect(
            named.check(
                self.request("POST", [("Host", "faultline.ci:9000")]),
                clientIsLoopback: true,
                listenerAddress: nil
            ) == nil
        )
        #expect(
            access.check(
                self.request("GET", [("Host", "a"), ("Host", "localhost")]),
                clientIsLoopback: true,
                listenerAddress: nil
            )?.status == 400
        )
    }

    @Test func changesFromAnotherSiteAreRefused() {
        let access = ControlAccess(adminToken: nil, adminHosts: [])
        let host = ("Host", "127.0.0.1:8080")
        for origin in [
            "http://evil.example", "https://evil.example:8080", "null", "file://", "http://localhost.evil.example",
        ] {
            #expect(
                access.check(
                    self.request("POST", [host, ("Origin", origin)]),
                    clientIsLoopback: true,
                    listenerAddress: nil
                )?.status == 403,
                "\(origin)"
            )
            #expect(
                access.check(
                    self.request("DELETE", [host, ("Origin", origin)]),
                    clientIsLoopback: true,
                    listenerAddress: nil
                )?.status == 403
            )
            #expect(
                access.check(
                    self.request("PUT", [host, ("Origin", origin)]),
                    clientIsLoopback: true,
                    listenerAddress: nil
                )?.status == 403
            )
        }
        #expect(
            access.check(
                self.request("GET", [host, ("Origin", "http://evil.example")]),
                clientIsLoopback: true,
                listenerAddress: nil
            ) == nil,
            "a read changes nothing; CORS keeps its answer from the page"
        )
        #expect(
            access.check(
                self.request("POST", [host, ("Origin", "http://localhost:8080")]),
                clientIsLoopback: true,
                listenerAddress: nil
            ) == nil
        )
        #expect(
            access.check(
                self.request("POST", [host, ("Origin", "http://127.0.0.1:3000")]),
                clientIsLoopback: true,
                listenerAddress: nil
            ) == nil
        )
        #expect(
            access.check(
                self.request("POST", [host, ("Sec-Fetch-Site", "cross-site")]),
                clientIsLoopback: true,
                listenerAddress: nil
            )?.status == 403
        )
    }

    @Test func theTokenIsComparedWholeAndTheSchemeCaseInsensitively() {
        let access = ControlAccess(adminToken: "s3cret", adminHosts: [])
        let host = ("Host", "localhost")
        #expect(access.check(self.request("GET", [host]), clientIsLoopback: true, listenerAddress: nil)?.status == 401)
        #expect(
            access.check(
                self.request("GET", [host, ("Authorization", "Bearer s3cret")]),
                clientIsLoopback: false,
                listenerAddress: nil
            ) == nil
        )
        #expect(
            access.check(
                self.request("GET", [host, ("Authorization", "bearer s3cret")]),
                clientIsLoopback: false,
                listenerAddress: nil
            ) == nil
        )
        for wrong in [
            "Bearer s3cre", "Bearer s3cret2", "Bearer S3CRET", "Basic s3cret", "Bearer", "s3cret", "Bearer  ",
        ] {
            #expect(
                access.check(
                    self.request("GET", [host, ("Authorization", wrong)]),
                    clientIsLoopback: true,
                    listenerAddress: nil
                )?.status == 401,
                "\(wrong)"
            )
        }
        #expect(ConstantTime.equals(Array("abc".utf8), Array("abc".utf8)))
        #expect(!ConstantTime.equals(Array("abc".utf8), Array("abd".utf8)))
        #expect(!ConstantTime.equals(Array("abc".utf8), Array("abc\0".utf8)))
        #expect(!ConstantTime.equals([], Array("a".utf8)))
    }
}

/// The fallback check for kernels without `openat2`: where an open descriptor really leads.
@Suite("Body file descriptors")
struct BodyFileDescriptorTests {
    @Test func anOpenFileKnowsWhichFolderItLiesIn() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "faultline-fd-\(UInt64.random(in: 0...UInt64.max))"
        )
        .resolvingSymlinksInPath()
        try FileManager.default.createDirectory(
            at: folder.appendingPathComponent("inner"),
            withIntermediateDirectories: true
        )
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("inner/a.txt")
        try Data("a".utf8).write(to: file)
        let descriptor = open(file.path, O_RDONLY)
        #expect(descriptor >= 0)
        defer { close(descriptor) }
        #expect(BodyFileOpener.lies(descriptor, inside: folder.path))
        #expect(BodyFileOpener.lies(descriptor, inside: folder.appendingPathComponent("inner").path))
        #expect(!BodyFileOpener.lies(descriptor, inside: folder.appendingPathComponent("inn").path))
        #expect(!BodyFileOpener.lies(descriptor, inside: "/nowhere"))
    }
}
