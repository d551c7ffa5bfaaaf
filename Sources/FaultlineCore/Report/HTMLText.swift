/// Text made safe for HTML and SVG: the five characters that could end a text node, an attribute value or a tag are
/// written as character references, so a rule name or a request target can never become markup or script.
enum HTMLText {
    /// Appends `text`, escaped for a text node or a quoted attribute value, to `output`.
    static func append(_ text: some StringProtocol, to output: inout String) {
        // Most journal text needs no escaping at all: copy it whole.
        if !text.utf8.contains(where: Self.needsEscaping) {
            output += text
            return
        }
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": output += "&amp;"
            case "<": output += "&lt;"
            case ">": output += "&gt;"
            case "\"": output += "&quot;"
            case "'": output += "&#39;"
            // Control characters other than tab and newline have no place in a page (and NUL is not allowed).
            case _ where scalar.value < 0x20 && scalar != "\t" && scalar != "\n": output += "\u{FFFD}"
            default: output.unicodeScalars.append(scalar)
            }
        }
    }

    /// `text` escaped for a text node or a quoted attribute value.
    static func escaped(_ text: some StringProtocol) -> String {
        var output = ""
        self.append(text, to: &output)
        return output
    }

    /// `text` shortened to at most `limit` characters, ending in `…` when it was cut.
    static func shortened(_ text: String, to limit: Int) -> String {
        guard text.utf8.count > limit, text.count > limit else { return text }
        return String(text.prefix(max(1, limit - 1))) + "…"
    }

    private static func needsEscaping(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "&"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "\""), UInt8(ascii: "'"): true
        case 0..<0x20: byte != UInt8(ascii: "\t") && byte != UInt8(ascii: "\n")
        default: false
        }
    }
}
