import Foundation
import Synchronization

/// Appends lines to a file (or standard output) off the event loops: callers hand lines over and return at once;
/// a serial queue writes them in batches.
public final class LineWriter: Sendable {
    private let handle: FileHandle
    private let ownsHandle: Bool
    private let queue = DispatchQueue(label: "faultline.line-writer")
    private let pending = Mutex<(lines: [String], scheduled: Bool)>(([], false))

    /// Opens `path` for appending, creating it if needed; `-` means standard output.
    public init(path: String) throws {
        if path == "-" {
            self.handle = FileHandle.standardOutput
            self.ownsHandle = false
            return
        }
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
            }
        }
        self.handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        self.handle.seekToEndOfFile()
        self.ownsHandle = true
    }

    /// Queues one line (without its newline).
    public func write(_ line: String) {
        let schedule = self.pending.withLock { pending in
            pending.lines.append(line)
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

    private func drain() {
        let lines = self.pending.withLock { pending in
            defer {
                pending.lines = []
                pending.scheduled = false
            }
            return pending.lines
        }
        guard !lines.isEmpty else { return }
        // A full disk or a closed pipe loses these lines, never the server.
        try? self.handle.write(contentsOf: Data((lines.joined(separator: "\n") + "\n").utf8))
    }

    deinit {
        if self.ownsHandle { try? self.handle.close() }
    }
}
