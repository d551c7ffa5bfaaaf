import Crypto
import FaultlineCore
import Foundation
import NIOCore
import NIOPosix

/// Copies one upstream answer into an `UpstreamRecording` as it streams: the head, then the body, in memory up to
/// 64 KiB and beyond that into a temporary file written on the thread pool (each piece's future completes once it is
/// written, so the upstream is read no faster than the disk takes it). The exchange is recorded only when the
/// upstream's answer is complete; a broken one is discarded with its file.
///
/// Bound to one event loop.
final class RecordingTap {
    private let recording: UpstreamRecording
    private let request: IncomingRequest
    private let eventLoop: any EventLoop
    private let threadPool: NIOThreadPool?
    private var head: UpstreamHead?
    private var memory: [UInt8] = []
    /// The temporary file, once the body outgrew memory; its handle once it is open.
    private var filePath: String?
    private var handle: FileHandle?
    private var size: Int64 = 0
    private var hasher = SHA256()
    /// The file writes so far, in order.
    private var written: EventLoopFuture<Void>
    private var broken = false

    init(recording: UpstreamRecording, request: IncomingRequest, eventLoop: any EventLoop, threadPool: NIOThreadPool?) {
        self.recording = recording
        self.request = request
        self.eventLoop = eventLoop
        self.threadPool = threadPool
        self.written = eventLoop.makeSucceededVoidFuture()
    }

    func head(_ head: UpstreamHead) {
        self.head = head
    }

    /// A piece of the body; the future completes when it is safely kept.
    func append(_ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        guard !self.broken else { return self.eventLoop.makeSucceededVoidFuture() }
        buffer.withUnsafeReadableBytes { self.hasher.update(bufferPointer: $0) }
        self.size += Int64(buffer.readableBytes)
        if self.filePath == nil, self.memory.count + buffer.readableBytes <= RecordedScenario.inlineLimit {
            self.memory.append(contentsOf: buffer.readableBytesView)
            return self.eventLoop.makeSucceededVoidFuture()
        }
        guard let threadPool = self.threadPool else {
            self.broken = true
            return self.eventLoop.makeSucceededVoidFuture()
        }
        var pending = Data(self.memory)
        self.memory = []
        pending.append(contentsOf: buffer.readableBytesView)
        let data = pending
        let path = self.filePath ?? self.recording.newBodyPath()
        self.filePath = path
        let eventLoop = self.eventLoop
        self.written = self.written.assumeIsolated().flatMap { () -> EventLoopFuture<Void> in
            let existing = self.handle
            return threadPool.runIfActive(eventLoop: eventLoop) { () throws -> FileHandle in
                let handle = try existing ?? Self.create(path)
                try handle.write(contentsOf: data)
                return handle
            }.assumeIsolated().map { handle in
                self.handle = handle
            }.nonisolated()
        }.nonisolated()
        self.written.assumeIsolated().whenFailure { _ in self.broken = true }
        return self.written.recover { _ in }
    }

    private static func create(_ path: String) throws -> FileHandle {
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]),
            let handle = FileHandle(forWritingAtPath: path)
        else { throw CocoaError(.fileWriteUnknown) }
        return handle
    }

    /// The answer is complete: record it once its last piece is written.
    func finish() {
        guard let head = self.head else { return }
        self.written.assumeIsolated().whenComplete { result in
            self.closeFile()
            guard case .success = result, !self.broken else {
                self.removeFile()
                return
            }
            let body: RecordedBody
            if let path = self.filePath {
                let digest = self.hasher.finalize().map { String(format: "%02x", $0) }.joined()
                body = .file(path: path, size: self.size, digest: digest)
            } else {
                body = .bytes(self.memory)
            }
            self.recording.add(
                RecordedExchange(
                    method: self.request.method,
                    path: self.request.path,
                    query: self.request.query,
                    status: head.status,
                    headers: head.headers,
                    body: body
                )
            )
        }
    }

    /// The answer broke off: nothing is recorded.
    func discard() {
        self.broken = true
        self.written.assumeIsolated().whenComplete { _ in
            self.closeFile()
            self.removeFile()
        }
    }

    private func closeFile() {
        try? self.handle?.close()
        self.handle = nil
    }

    private func removeFile() {
        guard let path = self.filePath else { return }
        self.filePath = nil
        try? FileManager.default.removeItem(atPath: path)
    }
}

@available(*, unavailable)
extension RecordingTap: Sendable {}
