import Synchronization

/// Live counters of a running server, read by tests and the control API.
public final class ServerStatistics: Sendable {
    private let connections = Atomic<Int>(0)
    private let delays = Atomic<Int>(0)
    private let connectionIDs = Atomic<Int>(0)

    public init() {}

    /// Connections open now.
    public var openConnections: Int { self.connections.load(ordering: .relaxed) }

    /// Responses waiting out a `delay` now; a client that leaves takes its pending delay with it.
    public var pendingDelays: Int { self.delays.load(ordering: .relaxed) }

    /// A new connection's number, from 1.
    func nextConnectionID() -> Int { self.connectionIDs.add(1, ordering: .relaxed).newValue }

    func connectionOpened() { self.connections.add(1, ordering: .relaxed) }
    func connectionClosed() { self.connections.subtract(1, ordering: .relaxed) }
    func delayScheduled() { self.delays.add(1, ordering: .relaxed) }
    func delayEnded() { self.delays.subtract(1, ordering: .relaxed) }
}
