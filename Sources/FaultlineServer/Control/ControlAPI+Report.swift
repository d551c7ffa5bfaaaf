import FaultlineCore

extension ControlAPI {
    /// `GET /__faultline/report`: the HTML report of the journal so far.
    static func report(control: ServerControl) -> ResolvedResponse {
        ResolvedResponse(
            status: 200,
            body: .bytes(Array(control.report().utf8), contentType: "text/html; charset=utf-8")
        )
    }
}
