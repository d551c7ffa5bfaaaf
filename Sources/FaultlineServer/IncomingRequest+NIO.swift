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
