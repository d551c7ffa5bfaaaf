import FaultlineCore
import FaultlineServer
import FaultlineTestSupport
import FaultlineTesting
import Foundation
import Testing

/// Ranges, conditional requests, Expect, interim responses and limits over real sockets.
@Suite("HTTP semantics over real sockets")
struct HTTPSemanticsServerTests {
    /// A folder with a 300 000-byte file, removed at the end.
    final class Files {
        let directory: URL
        let content: [UInt8]

        init() throws {
            self.directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "faultline-ranges-\(UInt64.random(in: 0...UInt64.max))"
            )
            try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
            self.content = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 8) }
            try Data(self.content).write(to: self.directory.appendingPathComponent("data.bin"))
        }

        deinit { try? FileManager.default.removeItem(at: self.directory) }
    }

    static let generated = GeneratedBytes(key: 0x4661_756C_746C_696E)

    func get(_ client: RawHTTPClient, _ path: String, _ headers: [String] = []) throws -> RawResponse {
        try client.send("GET \(path) HTTP/1.1\r\nHost: x\r\n" + headers.map { $0 + "\r\n" }.joined() + "\r\n")
        return try client.readResponse()
    }

    @Test func rangesMatchTheSourceForFilesGeneratedBytesAndText() async throws {
        let files = try Files()
        let text = Array("The quick brown fox jumps over the lazy dog".utf8)
        try await withServer(
            """
            version: 1
            rules:
              - {path: /file, bodyFile: data.bin}
              - {path: /gen, bodySize: 300000}
              - {path: /text, body: "The quick brown fox jumps over the lazy dog"}
            """,
            baseDirectory: files.directory.path
        ) { server in
            let client = try RawHTTPClient(port: server.port)
            let sources: [(String, [UInt8])] = [
                ("/file", files.content), ("/gen", Self.generated.bytes(offset: 0, count: 300_000)), ("/text", text),
            ]
            for (path, source) in sources {
                let length = source.count
                let single = try self.get(client, path, ["Range: bytes=10-19"])
                #expect(single.statusLine == "HTTP/1.1 206 Partial Content", "\(path)")
                #expect(single.header("Content-Range") == "bytes 10-19/\(length)")
                #expect(single.body == Array(source[10...19]))
                let suffix = try self.get(client, path, ["Range: bytes=-7"])
                #expect(suffix.body == Array(source[(length - 7)...]))
                #expect(suffix.header("Content-Range") == "bytes \(length - 7)-\(length - 1)/\(length)")
                let open = try self.get(client, path, ["Range: bytes=\(length - 30)-"])
                #expect(open.body == Array(source[(length - 30)...]))

                let multi = try self.get(client, path, ["Range: bytes=0-4, 20-24, -3"])
                #expect(multi.status == 206)
                let boundary = try #require(multi.header("Content-Type").flatMap(Multipart.boundary(of:)))
                let parts = try #require(Multipart.parts(of: multi.body, boundary: boundary))
                #expect(parts.count == 3)
                #expect(
                    parts.map(\.body) == [Array(source[0...4]), Array(source[20...24]), Array(source[(length - 3)...])]
                )
                #expect(
                    parts.map { $0.headers["content-range"] ?? "" } == [
                        "bytes 0-4/\(length)", "bytes 20-24/\(length)", "bytes \(length - 3)-\(length - 1)/\(length)",
                    ]
                )

                let unsatisfiable = try self.get(client, path, ["Range: bytes=\(length)-"])
                #expect(unsatisfiable.statusLine == "HTTP/1.1 416 Range Not Satisfiable")
                #expect(unsatisfiable.header("Content-Range") == "bytes */\(length)")

                let malformed = try self.get(client, path, ["Range: bytes=oops"])
                #expect(malformed.status == 200)
                #expect(malformed.body == source)
                #expect(malformed.header("Accept-Ranges") == "bytes")

                let etag = try #require(malformed.header("ETag"))
                let hit = try self.get(client, path, ["Range: bytes=0-1", "If-Range: \(etag)"])
                #expect(hit.status == 206)
                let miss = try self.get(client, path, ["Range: bytes=0-1", #"If-Range: "stale""#])
                #expect(miss.status == 200)
                #expect(miss.body.count == length)
            }
        }
    }

    @Test func conditionalRequestsGet304And412() async throws {
        try await withServer(
            """
            version: 1
            rules:
              - path: /doc
                method: [GET, PUT]
                etag: v1
                lastModified: "Wed, 21 Oct 2026 07:28:00 GMT"
                headers: {Cache-Control: max-age=60, X-Private: yes}
                body: document
            """
        ) { server in
            let client = try RawHTTPClient(port: server.port)
            let full = try self.get(client, "/doc")
            #expect(full.header("ETag") == #""v1""#)
            #expect(full.header("Last-Modified") == "Wed, 21 Oct 2026 07:28:00 GMT")
            let cached = try self.get(client, "/doc", [#"If-None-Match: "v0", "v1""#])
            #expect(cached.statusLine == "HTTP/1.1 304 Not Modified")
            #expect(cached.header("ETag") == #""v1""#)
            #expect(cached.header("Cache-Control") == "max-age=60")
            #expect(cached.header("X-Private") == nil)
            #expect(cached.header("Content-Length") == nil)
            #expect(try self.get(client, "/doc", ["If-Modified-Since: Wed, 21 Oct 2026 07:28:00 GMT"]).status == 304)
            #expect(try self.get(client, "/doc", ["If-Modified-Since: Tue, 20 Oct 2026 07:28:00 GMT"]).status == 200)
            #expect(
                try self.get(
                    client,
                    "/doc",
                    [#"If-None-Match: "v0""#, "If-Modified-Since: Wed, 21 Oct 2026 07:28:00 GMT"]
                ).status == 200
            )
            #expect(try self.get(client, "/doc", [#"If-Match: "v0""#]).statusLine == "HTTP/1.1 412 Precondition Failed")
            #expect(try self.get(client, "/doc", ["If-Unmodified-Since: Tue, 20 Oct 2026 07:28:00 GMT"]).status == 412)
            try client.send("PUT /doc HTTP/1.1\r\nHost: x\r\nIf-None-Match: *\r\nContent-Length: 0\r\n\r\n")
            #expect(try client.readResponse().status == 412, "If-None-Match on PUT fails with 412, not 304")
        }
    }

    @Test func expect100ContinueIsAnsweredBeforeTheBody() async throws {
        try await withServer(
            """
            version: 1
            rules:
              - {name: upload, method: POST, path: /upload, status: 201, body: stored}
              - {method: POST, path: /private, auth: {bearer: t}}
            """
        ) { server in
            let client = try RawHTTPClient(port: server.port)
            try client.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
            let interim = try client.readResponse()
            #expect(interim.statusLine == "HTTP/1.1 100 Continue")
            try client.send("hello")
            let final = try client.readResponse()
            #expect(final.status == 201)
            #expect(final.text == "stored")

            // A rule that refuses answers at once, without asking for the body, and closes.
            let refused = try RawHTTPClient(port: server.port)
            try refused.send("POST /private HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
            let unauthorized = try refused.readResponse()
            #expect(unauthorized.status == 401)
            #expect(unauthorized.header("Connection") == "close")

            let odd = try RawHTTPClient(port: server.port)
            try odd.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nExpect: something-else\r\n\r\n")
            #expect(try odd.readResponse().statusLine == "HTTP/1.1 417 Expectation Failed")

            // The rule was chosen (and counted) at the head: a client that leaves before its body is journaled
            // under that rule (its body cut short by the close is a 400, as nginx logs it).
            let quitter = try RawHTTPClient(port: server.port)
            try quitter.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
            #expect(try quitter.readResponse().status == 100)
            quitter.shutdownWrite()
            #expect(await eventually { server.journal().count == 4 })
            let left = try #require(server.journal().last)
            #expect(left.target == "/upload")
            #expect(left.rule == "upload")
            #expect(left.status == 400)
        }
    }

    @Test func interimResponsesComeBeforeTheFinalOne() async throws {
        try await withServer(
            """
            version: 1
            rules:
              - path: /page
                interim:
                  - {status: 103, headers: {Link: "</style.css>; rel=preload; as=style"}}
                body: page
            """
        ) { server in
            let second = try RawHTTPClient(port: server.port)
            try second.send("GET /page HTTP/1.1\r\nHost: x\r\n\r\n")
            let early = try second.readResponse()
            #expect(early.statusLine == "HTTP/1.1 103 Early Hints")
            #expect(early.header("Link") == "</style.css>; rel=preload; as=style")
            let final = try second.readResponse()
            #expect(final.statusLine == "HTTP/1.1 200 OK")
            #expect(final.text == "page")
            let old = try RawHTTPClient(port: server.port)
            try old.send("GET /page HTTP/1.0\r\n\r\n")
            #expect(try old.readResponse().status == 200, "no 1xx for an HTTP/1.0 client")
        }
    }

    @Test func limitsAnswer413414431And408() async throws {
        try await withServer(
            """
            version: 1
            limits: {maxBodySize: 1KiB, maxURILength: 100, maxHeaderSize: 1KiB, requestTimeout: 300ms}
            rules:
              - {path: /**}
            """
        ) { server in
            let big = try RawHTTPClient(port: server.port)
            try big.send(
                "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n\r\n" + String(repeating: "x", count: 2000)
            )
            let tooLarge = try big.readResponse()
            #expect(tooLarge.statusLine == "HTTP/1.1 413 Content Too Large")
            #expect(tooLarge.header("Connection") == "close")
            #expect(try big.isClosedByServer(within: 20))

            let chunked = try RawHTTPClient(port: server.port)
            try chunked.send(
                "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n"
                    + String(repeating: "y", count: 2048) + "\r\n0\r\n\r\n"
            )
            #expect(try chunked.readResponse().status == 413)

            let long = try RawHTTPClient(port: server.port)
            try long.send("GET /" + String(repeating: "a", count: 200) + " HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try long.readResponse().statusLine == "HTTP/1.1 414 URI Too Long")

            let headers = try RawHTTPClient(port: server.port)
            try headers.send("GET /a HTTP/1.1\r\nHost: x\r\nX-Big: " + String(repeating: "h", count: 2000) + "\r\n\r\n")
            #expect(try headers.readResponse().statusLine == "HTTP/1.1 431 Request Header Fields Too Large")

            let slow = try RawHTTPClient(port: server.port)
            try slow.send("GET /a HTTP/1.1\r\nHost: ")
            let timeout = try slow.readResponse()
            #expect(timeout.statusLine == "HTTP/1.1 408 Request Timeout")
            #expect(try slow.isClosedByServer(within: 20))

            let fine = try RawHTTPClient(port: server.port)
            try fine.send("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789")
            #expect(try fine.readResponse().status == 200)
        }
    }

    @Test func unsupportedVersionsAndMethods() async throws {
        try await withServer("version: 1\nrules:\n  - {path: /a, requireContentLength: true}\n") { server in
            for version in ["HTTP/1.2", "HTTP/2.0", "HTTP/3.1"] {
                let client = try RawHTTPClient(port: server.port)
                try client.send("GET /a \(version)\r\nHost: x\r\n\r\n")
                #expect(try client.readResponse().statusLine == "HTTP/1.1 505 HTTP Version Not Supported", "\(version)")
            }
            let unknown = try RawHTTPClient(port: server.port)
            try unknown.send("BREW /a HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try unknown.readResponse().statusLine == "HTTP/1.1 501 Not Implemented")

            let chunked = try RawHTTPClient(port: server.port)
            try chunked.send("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
            #expect(try chunked.readResponse().statusLine == "HTTP/1.1 411 Length Required")
        }
    }

    @Test func authAndRateLimitsOverTheWire() async throws {
        try await withServer(
            """
            version: 1
            rules:
              - {path: /private, auth: {basic: "user:pass"}, body: secret}
              - {path: /limited, rateLimit: {requests: 2, per: 1m}}
            """
        ) { server in
            let client = try RawHTTPClient(port: server.port)
            let refused = try self.get(client, "/private")
            #expect(refused.statusLine == "HTTP/1.1 401 Unauthorized")
            #expect(refused.header("WWW-Authenticate") == #"Basic realm="faultline", charset="UTF-8""#)
            let credentials = Data("user:pass".utf8).base64EncodedString()
            #expect(try self.get(client, "/private", ["Authorization: Basic \(credentials)"]).text == "secret")
            #expect(try self.get(client, "/limited").status == 200)
            #expect(try self.get(client, "/limited").status == 200)
            let limited = try self.get(client, "/limited")
            #expect(limited.statusLine == "HTTP/1.1 429 Too Many Requests")
            let retryAfter = try #require(limited.header("Retry-After").flatMap(Int.init))
            #expect((58...60).contains(retryAfter))
        }
    }

    @Test func upgradeRequestsCloseAfterTheirAnswer() async throws {
        try await withServer("version: 1\nrules:\n  - {path: /a, body: plain}\n") { server in
            let client = try RawHTTPClient(port: server.port)
            try client.send(
                "GET /a HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n"
            )
            let response = try client.readResponse()
            #expect(response.text == "plain")
            #expect(response.header("Connection") == "close")
            #expect(try client.isClosedByServer())
        }
    }
}
