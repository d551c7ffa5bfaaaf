/// Matches a client certificate's subject against a rule's `match.clientCert`, such as `CN=client` or
/// `CN=client,O=acme`: every attribute the rule names must be in the subject; the order does not matter.
public enum SubjectMatch {
    /// The `TYPE=value` attributes of a subject string, types upper-cased; `nil` when it has none.
    public static func parse(_ subject: String) -> Set<String>? {
        var attributes: Set<String> = []
        for part in subject.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { return nil }
            let type = pair[0].trimmingSpaces().uppercased()
            let value = pair[1].trimmingSpaces()
            guard !type.isEmpty, !value.isEmpty else { return nil }
            attributes.insert("\(type)=\(value)")
        }
        return attributes.isEmpty ? nil : attributes
    }

    /// Whether `subject` has every attribute of `condition`.
    public static func matches(_ condition: String, subject: String?) -> Bool {
        guard let subject, let wanted = self.parse(condition), let have = self.parse(subject) else { return false }
        return wanted.isSubset(of: have)
    }
}
