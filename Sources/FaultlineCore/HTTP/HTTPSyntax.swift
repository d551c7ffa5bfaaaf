/// Small checks of HTTP's grammar (RFC 9110 section 5), used to validate what a scenario asks Faultline to send.
public enum HTTPSyntax {
    /// Whether `text` is a token: a method or a field name.
    public static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy(self.isTokenByte)
    }

    /// Whether `text` may be sent as a field value or reason phrase: no CR, LF, NUL or other control bytes but tab.
    public static func isFieldValue(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }
    }

    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    /// The methods HTTP defines: RFC 9110's, PATCH, and those of the IANA method registry (WebDAV and friends).
    public static let knownMethods: Set<String> = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "QUERY",
        "ACL", "BIND", "CHECKOUT", "COPY", "LINK", "LOCK", "MERGE", "MKACTIVITY", "MKCALENDAR", "MKCOL", "MOVE",
        "PROPFIND", "PROPPATCH", "REBIND", "REPORT", "SEARCH", "UNBIND", "UNLINK", "UNLOCK",
    ]

    /// Every method the HTTP parser (llhttp, through SwiftNIO) accepts: the defined ones and a few common
    /// extensions. A request with any other method is refused by the parser with 501 before a rule can see it.
    public static let receivableMethods: Set<String> = knownMethods.union([
        "PURGE", "M-SEARCH", "NOTIFY", "SUBSCRIBE", "UNSUBSCRIBE", "SOURCE",
    ])
}
