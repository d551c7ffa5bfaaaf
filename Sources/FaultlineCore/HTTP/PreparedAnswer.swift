/// What a response resolved once, when the scenario loads, sends to a plain request, planned once too: the plan
/// `ResponsePlanner.plan` makes for such a request, and its HTTP/1.1 head as bytes. The planner hands it out for every
/// plain request instead of planning again, and the writer copies the head's bytes instead of writing it field by
/// field; both are the planner's own output, so a plain request gets the same answer either way.
///
/// A plain request is an HTTP/1.1 GET with none of the fields the planner reads: no `Range` or `If-Range`, no
/// precondition (`If-Match`, `If-None-Match`, `If-Modified-Since`, `If-Unmodified-Since`), no `Upgrade`, and no
/// `Connection` other than `keep-alive`. Anything else is planned for itself.
public final class PreparedAnswer: Sendable {
    /// The plan for a plain request, carrying `ResponsePlan.wire`; its `Date` is a placeholder the writer replaces
    /// (the journal takes the date the head was written with).
    let plan: ResponsePlan

    /// Prepares the answer of `response`, a response resolved once; `nil` when its plan is not the same for every
    /// plain request or it sends no response (a fault, a stream, a proxied answer, a file).
    init?(_ response: ResolvedResponse) {
        guard response.fault == nil, response.stream == nil, response.proxy == nil, response.status != 499 else {
            return nil
        }
        switch response.body {
        case .none, .bytes: break
        case .file, .generated: return nil
        }
        let request = IncomingRequest(method: "GET", target: "/", version: (1, 1))
        var plan = ResponsePlanner.plan(response, for: request, date: Self.placeholderDate)
        guard plan.action == .respond, plan.upstreamBody == nil, plan.stream == nil else { return nil }
        guard let wire = ResponsePlan.Wire(plan) else { return nil }
        plan.wire = wire
        self.plan = plan
    }

    /// A `Date` value of the right length (an IMF-fixdate always has 29 bytes), replaced whenever the head is written.
    public static let placeholderDate = "Thu, 01 Jan 1970 00:00:00 GMT"

    /// Whether `request` is plain: the prepared plan is what the planner would make for it.
    static func serves(_ request: IncomingRequest) -> Bool {
        guard request.version == (1, 1), request.method == "GET" else { return false }
        for field in request.headers {
            // Only names that start with c, i, r or u can be one of the fields the planner reads.
            switch field.name.utf8.first.map({ $0 | 0x20 }) {
            case UInt8(ascii: "c"):
                if field.name.equalsIgnoringASCIICase("Connection"), !field.value.equalsIgnoringASCIICase("keep-alive")
                {
                    return false
                }
            case UInt8(ascii: "i"):
                if Self.readFields.contains(where: { field.name.equalsIgnoringASCIICase($0) }) { return false }
            case UInt8(ascii: "r"):
                if field.name.equalsIgnoringASCIICase("Range") { return false }
            case UInt8(ascii: "u"):
                if field.name.equalsIgnoringASCIICase("Upgrade") { return false }
            default:
                continue
            }
        }
        return true
    }

    /// The request fields starting with `If-` that the planner reads.
    private static let readFields = [
        "If-Range", "If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since",
    ]
}

extension ResponsePlan {
    /// The HTTP/1.1 head of a prepared plan as bytes, made once (`PreparedAnswer`).
    public struct Wire: Sendable {
        /// Exactly what `writeHead` writes, with the placeholder date.
        public let head: [UInt8]
        /// `ResponsePlan.wholeBody` of the plan, worked out once: the body every plain request's answer writes with
        /// the head in one write, or `nil` when the answer takes the writer's steps.
        public let wholeBody: [UInt8]?
        /// Where the `Date` value starts in `head`, when Faultline dates the head (29 bytes to overwrite); `nil` when
        /// the rule set its own `Date`.
        public let dateOffset: Int?

        /// `nil` when the head does not hold the placeholder date where `Date`'s value should be.
        init?(_ plan: ResponsePlan) {
            let head = plan.serializedHead()
            var offset: Int?
            if plan.dateIsAutomatic, let index = plan.headers.firstIndex(where: { $0.name == "Date" }) {
                var position = 9 + String(plan.status).utf8.count + 1 + plan.reason.utf8.count + 2
                for field in plan.headers[..<index] {
                    position += field.name.utf8.count + 2 + field.value.utf8.count + 2
                }
                position += "Date: ".utf8.count
                let placeholder = Array(PreparedAnswer.placeholderDate.utf8)
                guard position + placeholder.count <= head.count,
                    head[position..<(position + placeholder.count)].elementsEqual(placeholder)
                else { return nil }
                offset = position
            }
            self.head = head
            self.dateOffset = offset
            self.wholeBody = plan.wholeBody
        }
    }
}
