/// Exactly what the server puts on the wire for one exchange, decided without a socket.
public struct ResponsePlan: Sendable {
    /// How the exchange ends.
    public enum Action: Sendable, Equatable {
        /// Send the head (and the body, if any).
        case respond
        /// Close the connection without writing a byte (`status: 499`, as nginx logs a client that left).
        case drop
    }

    public var action: Action
    /// The wait before the status line.
    public var delay: Duration
    public var status: Int
    public var reason: String
    /// The header fields in the order they are sent.
    public var headers: [HeaderField]
    /// The body to send after the head; `.none` for HEAD and bodiless statuses.
    public var body: ResolvedBody
    /// How many body bytes follow the head.
    public var bodyLength: Int64
    /// Close the connection once the response is sent.
    public var closeAfter: Bool

}
