import NIOCore

/// An upstream's response body between the HTTP client that receives it and the writer that sends it on. It holds at
/// most about `highWater` bytes: beyond, the client's next read waits (the future given back for a piece is completed
/// only once the writer has taken the buffered bytes below `lowWater`), so a slow client slows the upstream instead of
/// filling Faultline's memory. While the writer waits (past the event loop's turn in which it asked) and the upstream
/// sends nothing for `idleTimeout`, the body fails.
///
/// Bound to one event loop: every call comes on it.
final class UpstreamBodySource: IncomingBody {
    /// How many bytes may wait for the writer before the upstream is held back.
    static let highWater = 256 * 1024
    /// How far the writer must drain before the upstream may go on.
    static let lowWater = 64 * 1024

    private enum State {
        case open
        /// Nobody reads the body: what arrives is dropped.
        case discarding
        case finished
        case failed(String)
        case cancelled
    }

    private let eventLoop: any EventLoop
    private let idleTimeout: TimeAmount
    private var pieces = CircularBuffer<ByteBuffer>(initialCapacity: 4)
    private var buffered = 0
    private var state = State.open
    /// The HTTP client's read waits on this while the buffer is full.
    private var demand: EventLoopPromise<Void>?
    private var readable: (() -> Void)?
    private var idleTimer: Scheduled<Void>?
    /// Called when the writer gives up on the body or the upstream falls silent: stop the upstream request.
    var onCancel: ((_ reason: String?) -> Void)?
    /// Body bytes received from the upstream.
    private(set) var received: Int64 = 0

    init(eventLoop: any EventLoop, idleTimeout: TimeAmount) {
        self.eventLoop = eventLoop
        self.idleTimeout = idleTimeout
    }

    // MARK: - From the upstream

    /// A piece of the body arrived; the future says when the next may be read.
    func append(_ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        guard case .open = self.state else { return self.eventLoop.makeSucceededVoidFuture() }
        self.cancelIdleTimer()
        self.received += Int64(buffer.readableBytes)
        if buffer.readableBytes > 0 {
            self.pieces.append(buffer)
            self.buffered += buffer.readableBytes
            self.notify()
        }
        guard self.buffered >= Self.highWater else { return self.eventLoop.makeSucceededVoidFuture() }
        let promise = self.demand ?? self.eventLoop.makePromise(of: Void.self)
        self.demand = promise
        return promise.futureResult
    }

    /// The body is complete.
    func finish() {
        switch self.state {
        case .open, .discarding: break
        default: return
        }
        self.state = .finished
        self.cancelIdleTimer()
        self.notify()
    }

    /// The body broke off.
    func fail(_ reason: String) {
        guard case .open = self.state else { return }
        self.state = .failed(reason)
        self.cancelIdleTimer()
        self.releaseDemand()
        self.notify()
    }

    // MARK: - To the writer

    func read(upTo limit: Int) -> IncomingBodyRead {
        if var first = self.pieces.first {
            let piece: ByteBuffer
            if first.readableBytes <= limit {
                piece = self.pieces.removeFirst()
            } else {
                piece = first.readSlice(length: max(1, limit)) ?? ByteBuffer()
                self.pieces[self.pieces.startIndex] = first
            }
            self.buffered -= piece.readableBytes
            if self.buffered <= Self.lowWater { self.releaseDemand() }
            return .bytes(piece)
        }
        switch self.state {
        case .open:
            self.releaseDemand()
            return .wait
        case .finished:
            return .end
        case .failed(let reason):
            return .failed(reason)
        case .cancelled, .discarding:
            return .failed("the body was abandoned")
        }
    }

    func stillWaiting() {
        guard case .open = self.state, self.pieces.isEmpty else { return }
        self.armIdleTimer()
    }

    func whenReadable(_ callback: @escaping () -> Void) {
        if !self.pieces.isEmpty {
            callback()
            return
        }
        if case .open = self.state {
            self.readable = callback
        } else {
            callback()
        }
    }

    func cancel() {
        guard case .open = self.state else { return }
        self.state = .cancelled
        self.pieces.removeAll()
        self.buffered = 0
        self.cancelIdleTimer()
        self.readable = nil
        self.releaseDemand()
        self.onCancel?(nil)
    }

    /// Nobody will read the body: what is buffered and what arrives later is dropped, and the upstream is never held.
    func discardFromNowOn() {
        guard case .open = self.state else { return }
        self.state = .discarding
        self.pieces.removeAll()
        self.buffered = 0
        self.readable = nil
        self.cancelIdleTimer()
        self.releaseDemand()
    }

    // MARK: - Helpers

    private func notify() {
        guard let readable = self.readable else { return }
        self.readable = nil
        readable()
    }

    private func releaseDemand() {
        guard let demand = self.demand else { return }
        self.demand = nil
        demand.succeed()
    }

    private func armIdleTimer() {
        guard self.idleTimer == nil else { return }
        let seconds = Double(self.idleTimeout.nanoseconds) / 1e9
        self.idleTimer = self.eventLoop.assumeIsolated().scheduleTask(in: self.idleTimeout) {
            self.idleTimer = nil
            guard case .open = self.state else { return }
            let reason =
                "timed out: the upstream sent nothing for \(DurationText.seconds(seconds)) in the middle of its body"
            self.fail(reason)
            self.onCancel?(reason)
        }
    }

    private func cancelIdleTimer() {
        self.idleTimer?.cancel()
        self.idleTimer = nil
    }
}

@available(*, unavailable)
extension UpstreamBodySource: Sendable {}

/// Durations in the words of a message.
enum DurationText {
    /// `30 s`, `1.5 s`, `250 ms`.
    static func seconds(_ seconds: Double) -> String {
        if seconds < 1 { return "\(Int((seconds * 1000).rounded())) ms" }
        let rounded = (seconds * 10).rounded() / 10
        return rounded == rounded.rounded() ? "\(Int(rounded)) s" : "\(rounded) s"
    }
}
