import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Opens many connections at once without a thread each: non-blocking sockets and `poll`, so a test can hold
/// thousands of requests in flight from one thread.
public enum ConcurrentClients {
    /// What one connection saw.
    public struct Outcome: Sendable {
        /// Everything read until the server closed (or the deadline).
        public var bytes: [UInt8] = []
        /// Seconds from sending the request to the end of the response.
        public var seconds: Double = 0
        /// Whether the server closed the connection (EOF) rather than the deadline passing.
        public var closed = false
        /// The errno that ended the connection, if one did.
        public var error: Int32?

        /// The status line, when a response arrived.
        public var statusLine: String? {
            let text = String(decoding: self.bytes.prefix(200), as: UTF8.self)
            return text.split(separator: "\r\n").first.map(String.init)
        }
    }

    /// Raises the soft limit on open files to the hard limit, so a test can open thousands of sockets.
    public static func raiseOpenFileLimit() {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        limit.rlim_cur = limit.rlim_max
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }

    /// Connects `count` clients to `127.0.0.1:port`, sends `request` on each (with `Connection: close` expected
    /// in it, so each response ends with a close), and reads until every server closes or `timeout` passes.
    public static func run(count: Int, port: Int, request: String, timeout: Double) -> [Outcome] {
        self.raiseOpenFileLimit()
        var descriptors: [Int32] = []
        var outcomes = [Outcome](repeating: Outcome(), count: count)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var started = [Double](repeating: 0, count: count)
        for index in 0..<count {
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            let connected = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            if connected != 0 { outcomes[index].error = errno }
            let bytes = Array(request.utf8)
            _ = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            started[index] = Self.now()
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
            descriptors.append(descriptor)
        }
        var open = Set(0..<count)
        let deadline = Self.now() + timeout
        var buffer = [UInt8](repeating: 0, count: 16384)
        while !open.isEmpty, Self.now() < deadline {
            var polls = open.map { pollfd(fd: descriptors[$0], events: Int16(POLLIN), revents: 0) }
            let indices = Array(open)
            let ready = poll(&polls, nfds_t(polls.count), 100)
            if ready <= 0 { continue }
            for (position, entry) in polls.enumerated() where entry.revents != 0 {
                let index = indices[position]
                let received = buffer.withUnsafeMutableBytes { recv(entry.fd, $0.baseAddress, $0.count, 0) }
                if received > 0 {
                    outcomes[index].bytes += buffer[..<received]
                } else {
                    if received < 0 {
                        if errno == EAGAIN { continue }
                        outcomes[index].error = errno
                    }
                    outcomes[index].closed = received == 0
                    outcomes[index].seconds = Self.now() - started[index]
                    open.remove(index)
                }
            }
        }
        for descriptor in descriptors { close(descriptor) }
        return outcomes
    }

    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
