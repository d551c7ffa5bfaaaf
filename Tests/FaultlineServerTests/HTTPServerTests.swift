import FaultlineCore
import FaultlineServer
import FaultlineTestSupport
import FaultlineTesting
import Foundation
import Testing

@Suite("HTTP/1.1 server over real sockets")
struct HTTPServerTests {
    @Test func sendsExactlyWhatTheRuleSays() async throws {
        try await withServer(
            """
            version: 1
            defaults: {headers: {Server: faultline}}
            rules:
              - path: /api/orders
                status: 503
                reason: Busy
                headers: {X-Request-Id: abc}
                body: "try later\\n"
                retryAfter: 2
            """
        ) { server in
            let client = try RawHTTPClient(port: server.port)
            try client.send("GET /api/orders HTTP/1.1\r\nHost: localhost\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.statusLine == "HTTP/1.1 503 Busy")
            #expect(
                response.headerNames == [
                    "Date", "Content-Type", "Content-Length", "Retry-After", "Server", "X-Request-Id",
                ]
            )
            #expect(response.header("Content-Type") == "text/plain; charset=utf-8")
            #expect(response.header("Content-Length") == "10")
            #expect(response.header("Retry-After") == "2")
            #expect(response.header("Server") == "faultline")
            #expect(response.text == "try later\n")
            let date = try #require(response.header("Date"))
            let sent = try #require(HTTPDate.parse(date))
            #expect(abs(Double(sent) - Date().timeIntervalSince1970) < 5)
        }
    }

    @Test func keepsConnectionsAliveAndAnswersPipelinedRequestsInOrder() async throws {
        try await withServer(
            """
            version: 1
            rules:
              - {path: /slow, body: slow, delay: 300ms}
              - {path: /fast, body: fast}
              - {path: /third, body: third}
            """
        ) { server in
            let client = try RawHTTPClient(port: server.port)
            try client.send("GET /fast HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try client.readResponse().text == "fast")
            try client.send("GET /third HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try client.readResponse().text == "third")

            // Three requests in one write: the slow one first must still be answered first.
            try client.send(
                "GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /fast HTTP/1.1\r\nHost: x\r\n\r\nGET /third HTTP/1.1\r\nHost: x\r\n\r\n"
            )
            let bodies = try (0..<3).map { _ in try client.readResponse().text }
            #expect(bodies == ["slow", "fast", "third"])
            #expect(try !client.isClosedByServer(within: 0.2))
        }
    }

    @Test func followsHTTP10AndConnectionClose() async throws {
        try await withServer("version: 1\nrules:\n  - {path: /x, body: hi}\n") { server in
            let plain10 = try RawHTTPClient(port: server.port)
            try plain10.send("GET /x HTTP/1.0\r\n\r\n")
            let response = try plain10.readResponse()
            #expect(response.statusLine == "HTTP/1.1 200 OK")
            #expect(response.header("Connection") == "close")
            #expect(response.text == "hi")
            #expect(try plain10.isClosedByServer())

            let keepAlive10 = try RawHTTPClient(port: server.port)
            try keepAlive10.send("GET /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            #expect(try keepAlive10.readResponse().header("Connection") == "keep-alive")
            try keepAlive10.send("GET /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            #expect(try keepAlive10.readResponse().text == "hi")

            let close11 = try RawHTTPClient(port: server.port)
            try close11.send("GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            let closing = try close11.readResponse()
            #expect(closing.header("Connection") == "close")
            #expect(try close11.isClosedByServer())
        }
    }

    @Test func answersAHalfClosedClientThenCloses() async throws {
        try await withServer("version: 1\nrules:\n  - {path: /x, body: hi}\n  - {path: /slow, delay: 10s}\n") {
            server in
            let client = try RawHTTPClient(port: server.port)
            try client.send("GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
            client.shutdownWrite()
            #expect(try client.readResponse().text == "hi")
            #expect(try client.isClosedByServer())

            // Closing the sending side while the response waits on its delay means the client gave up (nginx's 499).
            let impatient = try RawHTTPClient(port: server.port)
            try impatient.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(await eventually { server.server.statistics.pendingDelays == 1 })
            impatient.shutdownWrite()
            #expect(try impatient.isClosedByServer(within: 20))
            #expect(await eventually { server.server.statistics.pendingDelays == 0 })
        }
    }

    @Test func headSendsTheHeadersOfGetAndNoBody() async throws {
        try await withServer("version: 1\nrules:\n  - {path: /x, body: hello, headers: {X-A: b}}\n") { server in
            let client = try RawHTTPClient(port: server.port)
            try client.send("GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
            let get = try client.readResponse()
            try client.send("HEAD /x HTTP/1.1\r\nHost: x\r\n\r\nGET /x HTTP/1.1\r\nHost: x\r\n\r\n")
            let head = try client.readResponse(bodyExpected: false)
            #expect(head.headerNames == get.headerNames)
            #expect(head.header("Content-Length") == "5")
            // The next response starts right after HEAD's head: no stray body bytes in between.
            #expect(try client.readResponse().text == "hello")
        }
    }

    @Test func delaysAreTimedOnTheEventLoop() async throws {
        try await withServer("version: 1\nrules:\n  - {path: /d, delay: 400ms}\n") { server in
            let client = try RawHTTPClient(port: server.port)
            let start = now()
            try client.send("GET /d HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try client.readResponse().status == 200)
            let elapsed = now() - start
            #expect(elapsed >= 0.4 && elapsed < 3, "took \(elapsed) s")
        }
    }

    @Test func aClientThatLeavesDuringADelayCancelsIt() async throws {
        try await withServer("version: 1\nrules:\n  - {path: /d, delay: 30s}\n  - {path: /ok}\n") { server in
            do {
                let client = try RawHTTPClient(port: server.port)
                try client.send("GET /d HTTP/1.1\r\nHost: x\r\n\r\n")
                #expect(await eventually { server.server.statistics.pendingDelays == 1 })
            }
            // The client is gone (its socket closed); the 30 s timer must go with it, long before it would fire.
            #expect(await eventually { server.server.statistics.pendingDelays == 0 })
            #expect(await eventually { server.server.statistics.openConnections == 0 })
            let other = try RawHTTPClient(port: server.port)
            try other.send("GET /ok HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try other.readResponse().status == 200)
        }
    }

    @Test func manyDelayedRequestsWaitTogetherNotInTurn() async throws {
        try await withServer("version: 1\nrules:\n  - {path: /d, delay: 1s}\n", threads: 2) { server in
            let start = now()
            let outcomes = ConcurrentClients.run(
                count: 1000,
                port: server.port,
                request: "GET /d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                timeout: 30
            )
            let elapsed = now() - start
            let answered = outcomes.filter { $0.statusLine == "HTTP/1.1 200 OK" && $0.closed }.count
            #expect(answered == 1000)
            // Each waits its own second on a timer; nothing queues behind anything else. The bound is loose because
            // these machines are shared; a serialised server would take 1000 s.
            #expect(elapsed < 10, "1000 delayed requests took \(elapsed) s")
            #expect(outcomes.allSatisfy { $0.seconds >= 0.99 })
        }
    }

    @Test func servesBodyFilesAndGeneratedBytes() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "faultline-files-\(UInt64.random(in: 0...UInt64.max))"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let content = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try Data(content).write(to: directory.appendingPathComponent("blob.bin"))
        try await withServer(
            "version: 1\nrules:\n  - {path: /file, bodyFile: blob.bin}\n  - {path: /gen, bodySize: 20MiB}\n",
            baseDirectory: directory.path
        ) { server in
            let client = try RawHTTPClient(port: server.port)
            try client.send("GET /file HTTP/1.1\r\nHost: x\r\n\r\n")
            let file = try client.readResponse()
            #expect(file.header("Content-Type") == "application/octet-stream")
            #expect(file.header("Content-Length") == "300000")
            #expect(file.body == content)
            try client.send("GET /gen HTTP/1.1\r\nHost: x\r\n\r\n")
            let generated = try client.readResponse()
            #expect(generated.body.count == 20 * 1024 * 1024)
            #expect(
                Array(generated.body.prefix(4096))
                    == GeneratedBytes(key: 0x4661_756C_746C_696E).bytes(offset: 0, count: 4096)
            )
            #expect(
                Array(generated.body.suffix(100))
                    == GeneratedBytes(key: 0x4661_756C_746C_696E).bytes(offset: 20 * 1024 * 1024 - 100, count: 100)
            )
        }
    }

    @Test func unmatchedRequestsGetAnExplaining404WithDefaultHeaders() async throws {
        try await withServer(
            "version: 1\ndefaults: {headers: {Server: faultline}}\nrules:\n  - {name: orders, method: POST, path: /orders}\n"
        ) { server in
            let client = try RawHTTPClient(port: server.port)
            try client.send("GET /order HTTP/1.1\r\nHost: x\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.statusLine == "HTTP/1.1 404 Not Found")
            #expect(response.header("Server") == "faultline")
            #expect(
                response.text
                    == "Faultline: no rule matched GET /order\n\nClosest rules:\n- orders (<test>:4:5): the method GET is not POST; "
                    + "the path /order does not match the path /orders\n"
            )
            try client.send("GET /orders HTTP/1.1\r\nHost: x\r\n\r\n")
            let wrongMethod = try client.readResponse()
            #expect(wrongMethod.statusLine == "HTTP/1.1 405 Method Not Allowed")
            #expect(wrongMethod.header("Allow") == "POST")
            #expect(wrongMethod.header("Server") == "faultline")
        }
    }

    @Test func status499ClosesWithoutAByte() async throws {
        try await withServer("version: 1\nrules:\n  - {path: /drop, status: 499}\n") { server in
            let client = try RawHTTPClient(port: server.port)
            try client.send("GET /drop HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try client.readToEnd() == [])
        }
    }

    @Test func malformedRequestsGet400AndAClose() async throws {
        try await withServer("version: 1\nrules:\n  - {path: /x}\n") { server in
            let client = try RawHTTPClient(port: server.port)
            try client.send("GET /x HTTP/1.1\r\nHost: x\r\n\r\nGET /x HTTP/1.1\r\nthis header has no colon\r\n\r\n")
            #expect(try client.readResponse().status == 200)
            let error = try client.readResponse()
            #expect(error.statusLine == "HTTP/1.1 400 Bad Request")
            #expect(error.header("Connection") == "close")
            #expect(try client.isClosedByServer())
        }
    }

    @Test func templatesThatCannotBeFilledGet400() async throws {
        try await withServer("version: 1\nrules:\n  - path: /delay/{d}\n    delay: '{d}'\n") { server in
            let client = try RawHTTPClient(port: server.port)
            try client.send("GET /delay/forever HTTP/1.1\r\nHost: x\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.status == 400)
            #expect(response.text.contains("'forever' is not a duration"))
        }
    }

    @Test func theControlAPIAnswersHealth() async throws {
        try await withServer("version: 1\nseed: 5\nrules:\n  - {path: /x}\n") { server in
            let client = try RawHTTPClient(port: server.port)
            try client.send("GET /__faultline/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.status == 200)
            #expect(response.text == "{\"status\":\"ok\",\"rules\":1,\"seed\":5,\"journalDropped\":0}\n")
        }
    }
}
