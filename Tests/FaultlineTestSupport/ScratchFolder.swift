public import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A temporary folder removed when the value goes, for the files a test writes.
public final class ScratchFolder: @unchecked Sendable {
    public let url: URL

    public init(prefix: String = "faultline-test") throws {
        self.url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "\(prefix)-\(UInt64.random(in: 0...UInt64.max))"
        )
        try FileManager.default.createDirectory(at: self.url, withIntermediateDirectories: true)
        // Servers started by the tests (nginx's workers) run as another user and read from here.
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: self.url.path)
    }

    deinit {
        try? FileManager.default.removeItem(at: self.url)
    }

    /// Writes `text` to `name` in the folder and returns its path.
    @discardableResult
    public func write(_ name: String, _ text: String) throws -> String {
        try self.write(name, Data(text.utf8))
    }

    /// Writes `data` to `name` in the folder (making its folders) and returns its path.
    @discardableResult
    public func write(_ name: String, _ data: Data) throws -> String {
        let url = self.url.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url)
        return url.path
    }

    /// The path of `name` in the folder.
    public func path(_ name: String) -> String { self.url.appendingPathComponent(name).path }
}

/// Loopback ports for tests.
public enum LoopbackPort {
    /// A port nothing listens on now (bound, then closed), for a refused connection.
    public static func unused() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw ProcessError(message: "socket() failed") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
            }
        }
        guard bound else { throw ProcessError(message: "bind() failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
