import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A blocking TCP client for tests that must see exactly the bytes on the wire: it sends raw request text and
/// parses responses itself, so nothing between the test and the server tidies them up.
public final class RawHTTPClient {
    /// Why a socket call failed.
    public struct SocketError: Error, CustomStringConvertible {
        public let operation: String
        public let code: Int32
        public var description: String {
            "\(self.operation) failed: \(String(cString: strerror(self.code))) (\(self.code))"
        }
        /// Whether the peer reset the connection (TCP RST).
        public var isReset: Bool { self.code == ECONNRESET }
        /// Whether the read timed out.
        public var isTimeout: Bool { self.code == EAGAIN || self.code == EWOULDBLOCK }
    }

    private let descriptor: Int32
    /// Bytes read but not yet consumed by a parsed response.
    private var pending: [UInt8] = []
    private var sawEOF = false

    /// Connects to `host:port` (IPv4 or IPv6 literal), with `timeout` on every read.
    public init(host: String = "127.0.0.1", port: Int, timeout: Double = 30) throws {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let info = result else {
            throw SocketError(operation: "getaddrinfo", code: EINVAL)
        }
        defer { freeaddrinfo(result) }
        let descriptor = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw SocketError(operation: "socket", code: errno) }
        guard connect(descriptor, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            let code = errno
            close(descriptor)
            throw SocketError(operation: "connect", code: code)
        }
        self.descriptor = descriptor
        self.setReadTimeout(timeout)
    }

    deinit {
        close(self.descriptor)
    }

    /// Changes the read timeout.
    public func setReadTimeout(_ seconds: Double) {
        var value = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - Double(Int(seconds))) * 1_000_000))
        setsockopt(self.descriptor, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Sends text as is (write `\r\n` yourself).
    public func send(_ text: String) throws {
        try self.send(Array(text.utf8))
    }

    /// Sends bytes as they are.
    public func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { pointer in
                Glibc.send(self.descriptor, pointer.baseAddress, pointer.count, Int32(MSG_NOSIGNAL))
            }
            guard written > 0 else { throw SocketError(operation: "send", code: errno) }
            offset += written
        }
    }

    /// Closes the sending side (a half-close), as `nc -N` does after the request.
    public func shutdownWrite() {
        shutdown(self.descriptor, Int32(SHUT_WR))
    }

    /// Closes the connection with an RST (SO_LINGER 0), as a client that gives up abruptly.
    public func resetConnection() {
        var option = linger(l_onoff: 1, l_linger: 0)
        setsockopt(self.descriptor, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
        shutdown(self.descriptor, Int32(SHUT_RDWR))
    }

    /// Reads one response. `bodyExpected: false` is for answers to HEAD, which carry headers but no body.
    public func readResponse(bodyExpected: Bool = true) throws -> RawResponse {
        var headEnd: Int?
        while headEnd == nil {
            headEnd = self.findHeadEnd()
            if headEnd == nil {
                guard try self.fill() else {
                    throw SocketError(operation: "read (connection closed before a full head)", code: EPIPE)
                }
            }
        }
        guard let headEnd else { throw SocketError(operation: "read", code: EPROTO) }
        let headText = String(decoding: self.pending[..<headEnd], as: UTF8.self)
        self.pending.removeFirst(headEnd + 4)
        var response = RawResponse(head: headText)
        let status = response.status
        let bodiless = !bodyExpected || status < 200 || status == 204 || status == 304
        if bodiless { return response }
        if let length = response.header("Content-Length").flatMap(Int.init) {
            while self.pending.count < length {
                guard try self.fill() else { break }
            }
            let take = min(length, self.pending.count)
            response.body = Array(self.pending[..<take])
            self.pending.removeFirst(take)
        } else if response.header("Transfer-Encoding")?.lowercased() == "chunked" {
            response.body = try self.readChunkedBody()
        } else {
            // No length: the body runs until the server closes.
            while try self.fill() {}
            response.body = self.pending
            self.pending = []
        }
        return response
    }

    /// Reads a chunked body to its last chunk and the trailer section's end, and returns it decoded.
    private func readChunkedBody() throws -> [UInt8] {
        var body: [UInt8] = []
        while true {
            let line = try self.readLine()
            let sizeText = line.split(separator: ";", maxSplits: 1).first.map(String.init) ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16), size >= 0 else {
                throw SocketError(operation: "read (a chunk size line '\(line)')", code: EPROTO)
            }
            if size == 0 {
                while try !self.readLine().isEmpty {}
                return body
            }
            let data = try self.readBytes(count: size + 2)
            guard data.count == size + 2, data[size] == 13, data[size + 1] == 10 else {
                throw SocketError(
                    operation: "read (a chunk of \(size) bytes cut short or not ended by CRLF)",
                    code: EPROTO
                )
            }
            body += data[..<size]
        }
    }

    /// Reads one line ending in CRLF, without it.
    private func readLine() throws -> String {
        while true {
            if let end = self.pending.indices.dropLast().first(where: {
                self.pending[$0] == 13 && self.pending[$0 + 1] == 10
            }) {
                defer { self.pending.removeFirst(end + 2) }
                return String(decoding: self.pending[..<end], as: UTF8.self)
            }
            guard try self.fill() else {
                throw SocketError(operation: "read (connection closed inside a chunked body)", code: EPIPE)
            }
        }
    }

    /// Reads exactly `count` bytes (fewer if the server closes first).
    public func readBytes(count: Int) throws -> [UInt8] {
        while self.pending.count < count {
            guard try self.fill() else { break }
        }
        let take = min(count, self.pending.count)
        defer { self.pending.removeFirst(take) }
        return Array(self.pending[..<take])
    }

    /// Reads everything until the server closes, or throws the error that ended the connection.
    public func readToEnd() throws -> [UInt8] {
        while try self.fill() {}
        defer { self.pending = [] }
        return self.pending
    }

    /// Reads until the server closes or the connection fails, returning what arrived and the error, if any.
    public func readUntilEnd() -> (bytes: [UInt8], error: SocketError?) {
        var failure: SocketError?
        do {
            while try self.fill() {}
        } catch let error as SocketError {
            failure = error
        } catch {
            failure = SocketError(operation: "recv", code: EIO)
        }
        defer { self.pending = [] }
        return (self.pending, failure)
    }

    /// Whether the server has closed the connection (reads EOF within `timeout` seconds, with no more data).
    public func isClosedByServer(within timeout: Double = 2) throws -> Bool {
        self.setReadTimeout(timeout)
        do {
            return try !self.fill()
        } catch let error as SocketError where error.isTimeout {
            return false
        }
    }

    /// Reads once; false at EOF.
    private func fill() throws -> Bool {
        if self.sawEOF { return false }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = buffer.withUnsafeMutableBytes { recv(self.descriptor, $0.baseAddress, $0.count, 0) }
        if count < 0 { throw SocketError(operation: "recv", code: errno) }
        if count == 0 {
            self.sawEOF = true
            return false
        }
        self.pending += buffer[..<count]
        return true
    }

    private func findHeadEnd() -> Int? {
        guard self.pending.count >= 4 else { return nil }
        for index in 0...(self.pending.count - 4)
        where self.pending[index] == 13 && self.pending[index + 1] == 10 && self.pending[index + 2] == 13
            && self.pending[index + 3] == 10
        {
            return index
        }
        return nil
    }
}

/// A response as read off the wire.
public struct RawResponse: Sendable {
    /// The status line and header lines, without the final blank line.
    public let head: String
    public var body: [UInt8] = []

    public init(head: String) {
        self.head = head
    }

    /// The status line, such as `HTTP/1.1 200 OK`.
    public var statusLine: String {
        String(self.head.split(separator: "\r\n", omittingEmptySubsequences: false).first ?? "")
    }

    /// The status code.
    public var status: Int {
        let parts = self.statusLine.split(separator: " ")
        return parts.count > 1 ? Int(parts[1]) ?? 0 : 0
    }

    /// The header fields in order, names as sent.
    public var headers: [(name: String, value: String)] {
        self.head.split(separator: "\r\n", omittingEmptySubsequences: false).dropFirst().compactMap { line in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
    }

    /// The header names in order, as sent.
    public var headerNames: [String] { self.headers.map(\.name) }

    /// The first value of a header, by case-insensitive name.
    public func header(_ name: String) -> String? {
        self.headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The body as UTF-8 text.
    public var text: String { String(decoding: self.body, as: UTF8.self) }
}
