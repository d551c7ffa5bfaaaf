import Foundation

/// Counts a scenario's rules from its text alone, before the YAML is parsed, so that a scenario of far too many rules
/// is refused in milliseconds instead of after building a node for every key of every rule.
///
/// The scan looks for the top-level `rules:` key at the start of a line, then counts the entries of the list after it:
/// block entries (`- ` at the indentation of the first entry), or the commas between the elements of a flow list
/// (`rules: [...]`) outside quotes, comments and nested brackets. The count it gives is never more than the true number
/// of rules (a flow list's last element has no comma after it); anything it does not recognise gives no count, and the
/// decoder's own count after parsing decides.
enum RuleCountScan {
    /// Where the `rules:` key is (1-based line, column 1) and how many rules follow it.
    struct Count: Equatable {
        var line: Int
        var count: Int
        /// Whether `count` is the number of rules (a block list) or only at most it (a flow list's commas).
        var isExact = true
    }

    static func count(_ yaml: String) -> Count? {
        var yaml = yaml
        return yaml.withUTF8 { bytes in self.count(bytes) }
    }

    static func count(_ bytes: UnsafeBufferPointer<UInt8>) -> Count? {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return nil }
        let end = bytes.count
        // The start of each line, found with memchr: the scan touches a few bytes a line, not every byte.
        func lineEnd(from start: Int) -> Int {
            guard start < end, let newline = memchr(base + start, 0x0A, end - start) else { return end }
            return base.distance(to: newline.assumingMemoryBound(to: UInt8.self))
        }
        let key = Array("rules:".utf8)
        var start = 0
        var line = 1
        while start < end {
            let stop = lineEnd(from: start)
            if stop - start >= key.count, (0..<key.count).allSatisfy({ bytes[start + $0] == key[$0] }) {
                let after = start + key.count
                if after == stop || bytes[after] == 0x20 || bytes[after] == 0x09 || bytes[after] == 0x0D {
                    return self.countEntries(bytes, afterKeyAt: after, lineEnd: stop, line: line, lineEnd: lineEnd)
                }
            }
            start = stop + 1
            line += 1
        }
        return nil
    }

    /// Counts the list after `rules:`; `after` is the first byte after the colon.
    private static func countEntries(
        _ bytes: UnsafeBufferPointer<UInt8>,
        afterKeyAt after: Int,
        lineEnd stop: Int,
        line: Int,
        lineEnd: (Int) -> Int
    ) -> Count? {
        var position = after
        while position < stop, bytes[position] == 0x20 || bytes[position] == 0x09 { position += 1 }
        if position < stop, bytes[position] == UInt8(ascii: "[") {
            return self.countFlowElements(bytes, from: position + 1).map {
                Count(line: line, count: $0, isExact: false)
            }
        }
        guard position >= stop || bytes[position] == UInt8(ascii: "#") || bytes[position] == 0x0D else {
            // A value on the key's own line that is not a flow list: not a list of rules at all.
            return nil
        }
        var indentation: Int?
        var count = 0
        var start = stop + 1
        while start < bytes.count {
            let end = lineEnd(start)
            var first = start
            while first < end, bytes[first] == 0x20 { first += 1 }
            let blank = first == end || bytes[first] == 0x0D || bytes[first] == UInt8(ascii: "#")
            if !blank {
                let indent = first - start
                let isEntry =
                    bytes[first] == UInt8(ascii: "-")
                    && (first + 1 == end || bytes[first + 1] == 0x20 || bytes[first + 1] == 0x0D)
                if indentation == nil {
                    // The first line decides: a list's entry, or not a list this scan understands.
                    guard isEntry else { return nil }
                    indentation = indent
                }
                if indent < indentation ?? 0 || (indent == indentation && !isEntry) { break }
                if indent == indentation { count += 1 }
            }
            start = end + 1
        }
        return indentation == nil ? nil : Count(line: line, count: count)
    }

    /// The commas between the elements of a flow list whose `[` was just before `start`; `nil` when it does not end.
    private static func countFlowElements(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        var depth = 1
        var commas = 0
        var position = start
        var previous: UInt8 = 0x20
        // The last byte that was not white space: a quote opens a quoted scalar only where a node starts (after `[`,
        // `{`, `,` or `:`); elsewhere it is part of a plain scalar (`it's`).
        var lastSignificant = UInt8(ascii: "[")
        func opensNode() -> Bool {
            lastSignificant == UInt8(ascii: "[") || lastSignificant == UInt8(ascii: "{")
                || lastSignificant == UInt8(ascii: ",")
                || lastSignificant == UInt8(ascii: ":")
        }
        while position < bytes.count {
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\"") where opensNode():
                position += 1
                while position < bytes.count, bytes[position] != UInt8(ascii: "\"") {
                    if bytes[position] == UInt8(ascii: "\\") { position += 1 }
                    position += 1
                }
            case UInt8(ascii: "'") where opensNode():
                position += 1
                while position < bytes.count {
                    if bytes[position] == UInt8(ascii: "'") {
                        // '' is a quote inside single quotes.
                        if position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: "'") {
                            position += 2
                            continue
                        }
                        break
                    }
                    position += 1
                }
            case UInt8(ascii: "#") where previous == 0x20 || previous == 0x09 || previous == 0x0A:
                while position < bytes.count, bytes[position] != 0x0A { position += 1 }
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                depth -= 1
                if depth == 0 { return commas }
            case UInt8(ascii: ",") where depth == 1:
                commas += 1
            default:
                break
            }
            previous = position < bytes.count ? bytes[position] : 0
            if previous != 0x20, previous != 0x09, previous != 0x0A, previous != 0x0D { lastSignificant = previous }
            position += 1
        }
        return nil
    }
}
