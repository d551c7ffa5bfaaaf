import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A small Server-Sent Events reader over AsyncHTTPClient, as a Swift client reads a stream: the body as it
/// arrives, split into events at blank lines, each event stamped with the moment its last byte arrived.
struct SSEClient {
    /// One event as a client dispatches it (WHATWG's field rules, simplified to what the tests send).
    struct Event: Equatable, CustomStringConvertible {
        var type: String?
        var id: String?
        var retry: Int?
        var data: [String] = []
        var comments: [String] = []

        var description: String { "event(\(self.type ?? "-"), id \(self.id ?? "-"), data \(self.data))" }
    }

    /// What a read of a stream gave: its events with their arrival (seconds after the request was sent), the
    /// response's head, and the error that ended the body early, if any.
    struct Reading {
        var status: UInt = 0
        var headers: [(String, String)] = []
        var events: [Event] = []
        var arrivals: [Double] = []
        var error: (any Error)?
    }

    let client: HTTPClient

    /// Reads the stream at `url`, sending `headers`; `deadline` bounds the whole read. With `stopAfter`, the client
    /// leaves the stream (closes the connection) once it has that many events, as `EventSource.close()` does.
    func read(
        _ url: String,
        headers: [(String, String)] = [],
        stopAfter: Int? = nil,
        deadline: TimeAmount = .seconds(30)
    ) async -> Reading {
        var request = HTTPClientRequest(url: url)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let start = ContinuousClock.now
        func seconds() -> Double {
            let elapsed = ContinuousClock.now - start
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        }
        var reading = Reading()
        do {
            let response = try await self.client.execute(request, timeout: deadline)
            reading.status = response.status.code
            reading.headers = response.headers.map { ($0.name, $0.value) }
            var pending: [UInt8] = []
            body: for try await buffer in response.body {
                pending += buffer.readableBytesView
                while let end = Self.blankLine(in: pending) {
                    reading.events.append(Self.parse(pending[..<end.start]))
                    reading.arrivals.append(seconds())
                    pending.removeFirst(end.end)
                    if let stopAfter, reading.events.count >= stopAfter { break body }
                }
            }
        } catch {
            reading.error = error
        }
        return reading
    }

    /// Where the first blank line (`\n\n`) ends an event.
    static func blankLine(in bytes: [UInt8]) -> (start: Int, end: Int)? {
        guard bytes.count >= 2 else { return nil }
        for index in 1..<bytes.count where bytes[index] == UInt8(ascii: "\n") && bytes[index - 1] == UInt8(ascii: "\n")
        {
            return (index - 1, index + 1)
        }
        return nil
    }

    static func parse(_ bytes: ArraySlice<UInt8>) -> Event {
        var event = Event()
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false) {
            let (field, value): (Substring, Substring)
            if let colon = line.firstIndex(of: ":") {
                field = line[..<colon]
                var rest = line[line.index(after: colon)...]
                if rest.first == " " { rest = rest.dropFirst() }
                value = rest
            } else {
                (field, value) = (line, "")
            }
            switch field {
            case "": event.comments.append(String(value))
            case "event": event.type = String(value)
            case "id": event.id = String(value)
            case "retry": event.retry = Int(value)
            case "data": event.data.append(String(value))
            default: break
            }
        }
        return event
    }
}
