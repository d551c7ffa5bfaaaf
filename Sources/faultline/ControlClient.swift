import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// Talks to a running server's control API (`/__faultline/...`) for `faultline ctl`, and turns every way that can
/// go wrong into a `ControlError` a person can act on.
struct ControlClient {
    /// What the server answered.
    struct Answer {
        var status: Int
        var body: [UInt8]

        var text: String { String(decoding: self.body, as: UTF8.self) }

        /// The `error` member of a JSON error body, or the body itself.
        var errorMessage: String {
            if let object = try? JSONSerialization.jsonObject(with: Data(self.body)) as? [String: Any],
                let message = object["error"] as? String
            {
                return message
            }
            return self.text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    /// The server's base URL, without a trailing slash or `/__faultline`.
    let baseURL: String
    let adminToken: String?
    /// A PEM file of CA certificates to trust for an `https` URL (the generated test CA, say).
    let caFile: String?

    /// The largest answer read: a journal of 10,000 entries is a few megabytes.
    static let maxAnswerSize = 512 * 1024 * 1024

    /// Sends one request to `/__faultline/ENDPOINT` and returns the answer, whatever its status.
    func send(
        _ method: HTTPMethod,
        _ endpoint: String,
        body: [UInt8]? = nil,
        contentType: String? = nil
    ) async throws(ControlError) -> Answer {
        var configuration = HTTPClient.Configuration(
            timeout: HTTPClient.Configuration.Timeout(connect: .seconds(5), read: .seconds(60))
        )
        // A server that is not there is an answer in itself: fail at once instead of retrying until the timeout.
        configuration.connectionPool.retryConnectionEstablishment = false
        if let caFile, self.baseURL.hasPrefix("https://") {
            var tls = TLSConfiguration.makeClientConfiguration()
            do {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
            } catch {
                throw ControlError.usage("cannot read the CA certificate file \(caFile): \(error)")
            }
            configuration.tlsConfiguration = tls
        }
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let url = "\(self.baseURL)/__faultline/\(endpoint)"
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let adminToken { request.headers.add(name: "Authorization", value: "Bearer \(adminToken)") }
        if let body {
            request.body = .bytes(ByteBuffer(bytes: body))
            if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
        }
        let result: Result<Answer, any Error>
        do {
            let response = try await client.execute(request, timeout: .seconds(65))
            let buffer = try await response.body.collect(upTo: Self.maxAnswerSize)
            result = .success(Answer(status: Int(response.status.code), body: Array(buffer.readableBytesView)))
        } catch {
            result = .failure(error)
        }
        try? await client.shutdown()
        switch result {
        case .success(let answer):
            return answer
        case .failure(let error):
            throw ControlError.unreachable(
                "cannot reach the Faultline server at \(self.baseURL): \(Self.describe(error))"
            )
        }
    }

    /// Sends a request and requires a 2xx answer; refusals that every endpoint shares (the admin token, loopback
    /// only) become errors that say what to do.
    func expectSuccess(
        _ method: HTTPMethod,
        _ endpoint: String,
        body: [UInt8]? = nil,
        contentType: String? = nil,
        notFound: ((Answer) -> String)? = nil
    ) async throws(ControlError) -> Answer {
        let answer = try await self.send(method, endpoint, body: body, contentType: contentType)
        return try self.check(answer, method, endpoint, notFound: notFound)
    }

    /// Returns a 2xx answer, or throws the error a refusal means.
    func check(
        _ answer: Answer,
        _ method: HTTPMethod,
        _ endpoint: String,
        notFound: ((Answer) -> String)? = nil
    ) throws(ControlError) -> Answer {
        switch answer.status {
        case 200..<300:
            return answer
        case 401:
            if self.adminToken == nil {
                throw ControlError.refused(
                    "the server's control API needs its admin token (401); give it with --admin-token or FAULTLINE_ADMIN_TOKEN"
                )
            }
            throw ControlError.refused(
                "the server refused the admin token (401): it is not the one faultline serve was given"
            )
        case 403:
            throw ControlError.refused(
                "the server refused (403): \(answer.errorMessage). Start it with --admin-token to reach it from another machine."
            )
        case 404 where notFound != nil:
            throw ControlError.refused(notFound?(answer) ?? answer.errorMessage)
        default:
            throw ControlError.refused(
                "the server answered \(answer.status) to \(method) /__faultline/\(endpoint): \(answer.errorMessage)"
            )
        }
    }

    /// A connection failure in words a person knows.
    static func describe(_ error: any Error) -> String {
        let text = String(describing: error)
        if let clientError = error as? HTTPClientError {
            switch clientError {
            case .connectTimeout: return "the connection timed out"
            case .readTimeout, .deadlineExceeded: return "the server did not answer in time"
            case .remoteConnectionClosed: return "the server closed the connection without an answer"
            case .invalidURL, .emptyHost, .emptyScheme: return "the URL is not valid (\(clientError))"
            default: break
            }
        }
        if text.contains("connectRefused") || text.contains("Connection refused") || text.contains("ECONNREFUSED")
            || text.contains("errno: 111")
        {
            return "connection refused (is faultline serve running, and on that port?)"
        }
        if let sslError = error as? NIOSSLError {
            return "TLS failed (\(sslError)); give the CA certificate with --ca-file"
        }
        return text
    }
}

/// Why `faultline ctl` failed: the server said no, or could not be reached, or the command was misused.
struct ControlError: Error, CustomStringConvertible {
    /// The sentence printed after `faultline ctl: `.
    let message: String
    /// 1 when the server said no (or an expectation is not met), 2 when it cannot be reached, 64 for misuse.
    let exitCode: Int32

    var description: String { self.message }

    static func refused(_ message: String) -> ControlError { ControlError(message: message, exitCode: 1) }
    static func unreachable(_ message: String) -> ControlError { ControlError(message: message, exitCode: 2) }
    static func usage(_ message: String) -> ControlError { ControlError(message: message, exitCode: 64) }
}
