public import FaultlineCore
import Foundation
import Synchronization

/// Appends journal entries, one line each, to a file (or standard output) off the event loops: callers hand
/// entries over and return at once; a serial queue formats and writes them in batches, so neither the JSON nor
/// the access-log formatting costs the event loop anything.
public final class JournalWriter: Sendable {
    /// How each entry becomes a line.
    public enum Format: Sendable {
        /// One JSON object per line, as `GET /__faultline/journal` shows entries.
        case json
        /// nginx's "combined" access-log format.
        case accessLog
    }

    private let handle: FileHandle
    private let ownsHandle: Bool
    private let format: Format
    private let queue = DispatchQueue(label: "faultline.journal-writer")
    private let pending = Mutex<(entries: [JournalEntry], scheduled: Bool)>(([], false))

    /// Opens `path` for appending, creating it if needed; `-` means standard output.
    public init(path: String, format: Format) throws {
        self.format = format
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

    private func drain() {
        let entries = self.pending.withLock { pending in
            defer {
                pending.entries = []
                pending.scheduled = false
            }
            return pending.entries
        }
        guard !entries.isEmpty else { return }
        var text = ""
        for entry in entries {
            switch self.format {
            case .json: text += entry.json
            case .accessLog: text += entry.accessLogLine
            }
            text += "\n"
        }
        // A full disk or a closed pipe loses these lines, never the server.
        try? self.handle.write(contentsOf: Data(text.utf8))
    }

    deinit {
        if self.ownsHandle { try? self.handle.close() }
    }
}
