import FaultlineCore
import Foundation
import NIOCore

/// What every handler of one connection knows of it: its number, where it came from and on which listener, and what
/// TLS negotiated. Made once per connection by `ConnectionFrontHandler`; lives on the connection's event loop.
final class ConnectionInfo {
    /// The connection's number, for the journal (from 1, per server).
    var id = 0
    /// The listener's address, such as `127.0.0.1:8080`.
    var listener = "-"
    /// The listener's address without port, for the control API's host check.
    var listenerAddress: String?
    /// The client's address.
    var client = "-"
    /// Whether the client is on this machine.
    var clientIsLoopback = false
    /// When the connection opened.
    var connectedAt = NIODeadline.now()
    var connectedWallClock = Date().timeIntervalSince1970
    /// The negotiated TLS version, such as `TLSv1.3`.
    var tlsVersion: String?
    /// The client certificate's subject, when it presented one.
    var clientSubject: String?
    /// Requests whose heads arrived on this connection.
    var requestsSeen = 0
    /// A connection-only journal entry (a failed handshake) was written.
    var connectionJournaled = false

    init() {}

    /// Fills in the addresses of an active channel.
    func fill(from channel: any Channel, id: Int) {
        self.id = id
        if let local = channel.localAddress {
            self.listener = Self.describe(local)
            self.listenerAddress = local.ipAddress
        }
        self.client = channel.remoteAddress?.ipAddress ?? "-"
        self.clientIsLoopback = channel.remoteAddress?.isLoopback ?? false
        self.connectedAt = .now()
        self.connectedWallClock = Date().timeIntervalSince1970
    }

    /// A listener's address as the journal names it: `127.0.0.1:8080`, `[::1]:8080`.
    static func describe(_ address: SocketAddress) -> String {
        let host = address.ipAddress.map { $0.contains(":") ? "[\($0)]" : $0 } ?? "-"
        return "\(host):\(address.port ?? 0)"
    }

    /// Journals a connection that ended without a request (a refused certificate, a failed handshake), once.
    func journalConnectionOnly(fault: String, outcome: JournalEntry.Outcome, recorder: ServerRecorder) {
        guard !self.connectionJournaled else { return }
        self.connectionJournaled = true
        recorder.record(
            JournalEntry.connectionOnly(
                connection: self.id,
                listener: self.listener,
                client: self.client,
                receivedAt: self.connectedWallClock,
                fault: fault,
                outcome: outcome,
                totalMs: Double((NIODeadline.now() - self.connectedAt).nanoseconds) / 1e6
            )
        )
    }
}

@available(*, unavailable)
extension ConnectionInfo: Sendable {}
