/// How a listener speaks TLS: where its certificate comes from, which client certificates it asks for, and which
/// protocol versions it allows.
public struct TLSSpec: Sendable, Equatable {
    /// Where the server certificate comes from.
    public enum Source: Sendable, Equatable {
        /// A certificate for localhost, 127.0.0.1 and ::1 (and `hosts`) from a test CA generated at start.
        case generated
        /// The user's PEM files (absolute paths); the certificate file may hold a chain.
        case files(certificate: String, key: String)
        /// A listener that fails TLS on purpose.
        case fault(TLSFault)
    }

    public var source: Source
    /// Extra names for the generated certificate.
    public var hosts: [String]
    /// Client certificates to ask for.
    public var clientAuth: ClientAuthSpec?
    public var minVersion: TLSProtocolVersion?
    public var maxVersion: TLSProtocolVersion?

    public init(
        source: Source,
        hosts: [String] = [],
        clientAuth: ClientAuthSpec? = nil,
        minVersion: TLSProtocolVersion? = nil,
        maxVersion: TLSProtocolVersion? = nil
    ) {
        self.source = source
        self.hosts = hosts
        self.clientAuth = clientAuth
        self.minVersion = minVersion
        self.maxVersion = maxVersion
    }

    /// Whether the listener uses the CA Faultline generates (so the CLI writes it out and exports it).
    public var usesGeneratedCA: Bool {
        switch self.source {
        case .generated, .fault: true
        case .files: false
        }
    }
}

/// A TLS failure a listener injects, for clients that must refuse it or survive it.
public enum TLSFault: String, Sendable, Equatable, CaseIterable {
    /// A certificate whose validity ended yesterday, signed by the exported CA.
    case expired
    /// A certificate valid only from tomorrow, signed by the exported CA.
    case notYetValid = "not-yet-valid"
    /// A valid chain for another name.
    case wrongHost = "wrong-host"
    /// A self-signed certificate, not from the exported CA.
    case untrusted
    /// The TCP connection is accepted and the ClientHello never answered.
    case handshakeHang = "handshake-hang"
    /// The ClientHello is answered with a TCP RST.
    case handshakeReset = "handshake-reset"
    /// Each response is followed by a TCP close with no TLS close_notify.
    case closeWithoutNotify = "close-without-notify"

    /// Whether the fault presents a certificate of its own (the others present the generated server certificate).
    public var hasOwnCertificate: Bool {
        switch self {
        case .expired, .notYetValid, .wrongHost, .untrusted: true
        case .handshakeHang, .handshakeReset, .closeWithoutNotify: false
        }
    }
}

/// Client certificates a listener asks for (`clientAuth: {ca, mode}`).
public struct ClientAuthSpec: Sendable, Equatable {
    /// `require`: a client without a valid certificate fails the handshake; `optional`: it may go on without one.
    public enum Mode: String, Sendable, Equatable {
        case require
        case optional
    }

    /// The PEM file of the CA that signs accepted client certificates (absolute path).
    public var caFile: String
    public var mode: Mode

    public init(caFile: String, mode: Mode) {
        self.caFile = caFile
        self.mode = mode
    }
}

/// A TLS protocol version as scenarios write it.
public enum TLSProtocolVersion: String, Sendable, Equatable, Comparable, CaseIterable {
    case v1_0 = "1.0"
    case v1_1 = "1.1"
    case v1_2 = "1.2"
    case v1_3 = "1.3"

    var rank: Int {
        switch self {
        case .v1_0: 0
        case .v1_1: 1
        case .v1_2: 2
        case .v1_3: 3
        }
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        lhs.rank < rhs.rank
    }
}
