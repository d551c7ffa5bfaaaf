import CFaultlineSystem
public import FaultlineCore
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Appends journal entries, one line each, to a file (or standard output) off the event loops: callers hand
/// entries over and return at once; a serial queue formats and writes them in batches, so neither the JSON nor
/// the access-log formatting costs the event loop anything.
///
/// A file that cannot be written (a full disk, `/dev/full`, a file whose folder was removed after start) never
/// stops the server, and is never given up on silently either: the first failure is reported, with the system's
/// reason, through `reportProblem` (standard error by default), once per file. A file removed while the server runs
/// is made again at the same path when its folder is still there.
public final class JournalWriter: Sendable {
    /// How each entry becomes a line.
    public enum Format: Sendable {
        /// One JSON object per line, as `GET /__faultline/journal` shows entries.
        case json
        /// nginx's "combined" access-log format.
        case accessLog
    }

    /// Why a file cannot be opened for writing: the system's reason (`strerror`), such as "No such file or directory".
    public struct OpenError: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { self.reason }
    }

    /// What the writer holds between batches: the open descriptor, and whether a failure was reported.
    private struct Output {
        /// `nil` while the file cannot be opened again.
        var descriptor: Int32?
        var reported = false
    }

    private let path: String
    private let ownsDescriptor: Bool
    private let format: Format
    private let reportProblem: @Sendable (String) -> Void
    private let output: Mutex<Output>
    private let queue = DispatchQueue(label: "faultline.journal-writer")
    private let pending = Mutex<(entries: [JournalEntry], scheduled: Bool)>(([], false))

    /// Opens `path` for appending, creating it if needed; `-` means standard output. Throws `OpenError` with the
    /// system's reason when the file cannot be opened.
    ///
    /// - Parameter reportProblem: where a file that cannot be written is reported (once per file), a whole sentence;
    ///   standard error by default.
    public init(
        path: String,
        format: Format,
        reportProblem: @escaping @Sendable (String) -> Void = JournalWriter.standardError
    ) throws {
        self.path = path
        self.format = format
        self.reportProblem = reportProblem
        if path == "-" {
            self.ownsDescriptor = false
            self.output = Mutex(Output(descriptor: STDOUT_FILENO))
            return
        }
        let descriptor = Self.open(path)
        guard descriptor >= 0 else { throw OpenError(path: path, reason: Self.reason(errno)) }
        self.ownsDescriptor = true
        self.output = Mutex(Output(descriptor: descriptor))
    }

    /// Writes a problem to standard error as one line.
    public static let standardError: @Sendable (String) -> Void = { message in
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }

    /// Queues one entry.
    public func write(_ entry: JournalEntry) {
        let schedule = self.pending.withLock { pending in
            pending.entries.append(entry)
            defer { pending.scheduled = true }
            return !pending.scheduled
        }
        if schedule {
            self.queue.async { self.drain() }
        }
    }

    /// Writes everything queued so far, then returns.
    public func flush() {
        self.queue.sync { self.drain() }
    }

    /// What the messages call the file.
    private var name: String {
        let kind = self.format == .json ? "the journal file" : "the access log"
        return self.path == "-" ? "\(kind) on standard output" : "\(kind) \(self.path)"
    }

    /// Runs on the queue only.
    private func drain() {
        let entries = self.pending.withLock { pending in
            defer {
                pending.entries = []
                pending.scheduled = false
            }
            return pending.entries
        }
        guard !entries.isEmpty else { return }
        var bytes: [UInt8]
        switch self.format {
        case .json:
            bytes = JournalEntry.jsonLines(entries)
        case .accessLog:
            bytes = []
            for entry in entries {
                bytes += entry.accessLogLine.utf8
                bytes.append(UInt8(ascii: "\n"))
            }
        }
        // A full disk or a closed pipe loses these lines, never the server; the first loss is reported.
        if let problem = self.writeAll(bytes) {
            let first = self.output.withLock { output in
                defer { output.reported = true }
                return !output.reported
            }
            if first {
                self.reportProblem("faultline: cannot write \(self.name): \(problem); its entries are not saved")
            }
        }
    }

    /// Writes `bytes`, making the file again first if it was removed; the reason when it cannot.
    private func writeAll(_ bytes: [UInt8]) -> String? {
        let descriptor: Int32
        switch self.currentDescriptor() {
        case .success(let open): descriptor = open
        case .failure(let removed): return removed.reason
        }
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { pointer in
                posixWrite(descriptor, pointer.baseAddress, pointer.count)
            }
            if written < 0 {
                if errno == EINTR { continue }
                return Self.reason(errno)
            }
            offset += written
        }
        return nil
    }

    /// Why the file cannot be written at all now.
    private struct Removed: Error {
        let reason: String
    }

    /// The descriptor to write to: the open one, or, when the file was removed (no link is left to it: deleted, or
    /// its folder removed), the file made again at its path.
    private func currentDescriptor() -> Result<Int32, Removed> {
        self.output.withLock { output in
            if self.ownsDescriptor, let descriptor = output.descriptor {
                if faultline_link_count(descriptor) == 0 {
                    posixClose(descriptor)
                    output.descriptor = nil
                }
            }
            if let descriptor = output.descriptor { return .success(descriptor) }
            let reopened = Self.open(self.path)
            guard reopened >= 0 else {
                return .failure(Removed(reason: "it was removed, and making it again failed: \(Self.reason(errno))"))
            }
            output.descriptor = reopened
            return .success(reopened)
        }
    }

    private static func open(_ path: String) -> Int32 {
        posixOpen(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
    }

    private static func reason(_ code: Int32) -> String {
        String(cString: strerror(code))
    }

    deinit {
        if self.ownsDescriptor, let descriptor = self.output.withLock({ $0.descriptor }) { posixClose(descriptor) }
    }
}

#if canImport(Glibc)
private func posixWrite(_ descriptor: CInt, _ bytes: UnsafeRawPointer?, _ count: Int) -> Int {
    Glibc.write(descriptor, bytes, count)
}
private func posixOpen(_ path: String, _ flags: CInt, _ mode: mode_t) -> CInt { Glibc.open(path, flags, mode) }
@discardableResult private func posixClose(_ descriptor: CInt) -> CInt { Glibc.close(descriptor) }
#elseif canImport(Darwin)
private func posixWrite(_ descriptor: CInt, _ bytes: UnsafeRawPointer?, _ count: Int) -> Int {
    Darwin.write(descriptor, bytes, count)
}
private func posixOpen(_ path: String, _ flags: CInt, _ mode: mode_t) -> CInt { Darwin.open(path, flags, mode) }
@discardableResult private func posixClose(_ descriptor: CInt) -> CInt { Darwin.close(descriptor) }
#endif
