import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why an upstream gave no answer, in words a person knows, and the status Faultline answers with instead: 504 when
/// the upstream took too long, 502 for everything else.
struct UpstreamFailure: Error, Equatable {
    /// 502 or 504.
    var status: Int
    /// One line, lower case, such as `connection refused` or `TLS: certificate has expired`.
    var cause: String
    /// Whether the cause is a TLS certificate the upstream's certificate can say more about (`TLSDiagnosis`).
    var needsCertificateDiagnosis = false

    static func badGateway(_ cause: String) -> UpstreamFailure {
        UpstreamFailure(status: 502, cause: cause)
    }

    static func timedOut(after timeout: TimeAmount) -> UpstreamFailure {
        UpstreamFailure(
            status: 504,
            cause: "timed out after \(DurationText.seconds(Double(timeout.nanoseconds) / 1e9)) waiting for its answer"
        )
    }

    /// Classifies what the HTTP client reported.
    static func classify(_ error: any Error) -> UpstreamFailure {
        switch error {
        case let failure as UpstreamFailure:
            return failure
        case let error as NIOConnectionError:
            return self.classify(connection: error)
        case let error as IOError:
            return .badGateway(self.describe(errno: error.errnoCode))
        case let error as NIOSSLError:
            return self.classify(tls: error)
        case let error as NIOSSLExtraError where error == .failedToValidateHostname:
            return UpstreamFailure(
                status: 502,
                cause: "TLS: the certificate is not for this host name",
                needsCertificateDiagnosis: true
            )
        case let error as NIOSSLExtraError:
            return .badGateway("TLS: \(error)")
        case let error as HTTPClientError:
            return self.classify(client: error)
        case let error as HTTPParserError:
            return .badGateway("its answer is not valid HTTP (\(error))")
        case let error as ChannelError:
            switch error {
            case .connectTimeout: return UpstreamFailure(status: 504, cause: "timed out connecting")
            case .eof, .ioOnClosedChannel, .alreadyClosed, .outputClosed:
                return .badGateway("the upstream closed the connection without answering")
            default: return .badGateway("\(error)")
            }
        default:
            let text = "\(error)"
            if text.contains("NXDOMAIN") || text.contains("unknown(host") {
                return .badGateway("DNS: no address found for the host name")
            }
            return .badGateway(text)
        }
    }

    private static func classify(connection error: NIOConnectionError) -> UpstreamFailure {
        if let failure = error.connectionErrors.first {
            if let io = failure.error as? IOError { return .badGateway(self.describe(errno: io.errnoCode)) }
            return .classify(failure.error)
        }
        if error.dnsAError != nil || error.dnsAAAAError != nil {
            return .badGateway("DNS: no address found for \(error.host)")
        }
        return .badGateway("cannot connect to \(error.host):\(error.port)")
    }

    private static func classify(client error: HTTPClientError) -> UpstreamFailure {
        switch error {
        case .connectTimeout, .tlsHandshakeTimeout, .getConnectionFromPoolTimeout, .readTimeout, .deadlineExceeded:
            return UpstreamFailure(status: 504, cause: "timed out (\(error.shortDescription))")
        case .remoteConnectionClosed:
            return .badGateway("the upstream closed the connection without answering")
        case .invalidURL, .emptyHost, .emptyScheme:
            return .badGateway("the request cannot be sent there (its URL is invalid)")
        case .uncleanShutdown:
            return .badGateway("TLS: the upstream closed the connection without close_notify")
        default:
            return .badGateway(error.shortDescription)
        }
    }

    private static func classify(tls error: NIOSSLError) -> UpstreamFailure {
        guard case .handshakeFailed(let reason) = error else {
            return .badGateway("TLS: \(error)")
        }
        let text = "\(reason)"
        if text.contains("CERTIFICATE_VERIFY_FAILED") {
            return UpstreamFailure(
                status: 502,
                cause: "TLS: the upstream's certificate cannot be verified",
                needsCertificateDiagnosis: true
            )
        }
        if text.contains("WRONG_VERSION_NUMBER") || text.contains("UNKNOWN_PROTOCOL") {
            return .badGateway("TLS: the upstream does not speak TLS on that port")
        }
        if case .sslError(let stack) = reason, stack.contains(.eofDuringHandshake) {
            return .badGateway("TLS: the upstream closed the connection during the handshake")
        }
        if case .syscallError = reason {
            return .badGateway("TLS: the connection broke during the handshake")
        }
        return .badGateway("TLS: the handshake failed (\(text))")
    }

    /// The system's words for a socket error, lower case: `connection refused`, `connection reset by peer`.
    static func describe(errno code: CInt) -> String {
        switch code {
        case ECONNREFUSED: return "connection refused"
        case ECONNRESET: return "connection reset by the upstream"
        case ETIMEDOUT: return "timed out connecting"
        case EHOSTUNREACH: return "no route to host"
        case ENETUNREACH: return "network is unreachable"
        case EPIPE: return "the upstream closed the connection"
        default:
            guard let text = strerror(code) else { return "socket error \(code)" }
            return String(cString: text).lowercased()
        }
    }
}
