import NIOCore

/// A response body that arrives while it is being sent (a proxied answer's), read by a writer with back-pressure: the
/// writer takes what is there when the client can take it, and asks to be called back when more arrives. Nothing in
/// it is HTTP/1: an HTTP/2 stream's writer reads it the same way.
protocol IncomingBody: AnyObject {
    /// The next piece of at most `limit` bytes, if there is one.
    func read(upTo limit: Int) -> IncomingBodyRead
    /// Calls `callback` once, when `read` has something new to say (a piece, the end, a failure).
    func whenReadable(_ callback: @escaping () -> Void)
    /// The writer is still waiting after everything that arrived with the last read was handled: the source is slow,
    /// not just between two pieces of one read (the upstream may now be held to its silence limit).
    func stillWaiting()
    /// The writer is done with the body (it is sent, cut by a fault, or the client left): stop the source.
    func cancel()
}

/// What reading an incoming body gives.
enum IncomingBodyRead {
    /// A piece of the body.
    case bytes(ByteBuffer)
    /// Nothing yet: call `whenReadable`.
    case wait
    /// The body is complete.
    case end
    /// The body broke off; the reason is a sentence for the log.
    case failed(String)
}
