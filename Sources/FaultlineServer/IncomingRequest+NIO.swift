import FaultlineCore
import NIOHTTP1

extension IncomingRequest {
    /// The engine's view of a request head decoded by NIO.
    init(_ head: HTTPRequestHead) {
        self.init(
            method: head.method.rawValue,
            target: head.uri,
            headers: head.headers.map { HeaderField($0.name, $0.value) },
            version: (Int(head.version.major), Int(head.version.minor))
        )
    }
}

extension ResponsePlan {
    /// The head as NIO's encoder takes it; the plan's headers are sent exactly as planned.
    var nioHead: HTTPResponseHead {
        var headers = HTTPHeaders()
        headers.reserveCapacity(self.headers.count)
        for field in self.headers {
            headers.add(name: field.name, value: field.value)
        }
        return HTTPResponseHead(
            version: .http1_1,
            status: .custom(code: UInt(self.status), reasonPhrase: self.reason),
            headers: headers
        )
    }
}

extension InterimResponse {
    /// The informational head as NIO's encoder takes it.
    var nioHead: HTTPResponseHead {
        var headers = HTTPHeaders()
        for field in self.headers {
            headers.add(name: field.name, value: field.value)
        }
        return HTTPResponseHead(
            version: .http1_1,
            status: .custom(code: UInt(self.status), reasonPhrase: StatusReason.phrase(for: self.status)),
            headers: headers
        )
    }
}
