/// What an entry costs the in-memory journal, and how its request headers are cut to a bound.
extension JournalEntry {
    /// Bytes counted for every entry besides its text: the entry's own fields, its arrays and the string objects
    /// behind its longer texts. An estimate that errs high rather than low.
    public static let fixedOverheadBytes = 512
    /// Bytes counted for every header field (request and response) besides its text: the field in its array and the
    /// objects of its name and value.
    public static let perHeaderOverheadBytes = 64

    /// About how many bytes the entry holds in memory: the UTF-8 bytes of all its text plus fixed overheads. Cheap
    /// (a string's UTF-8 count is stored, not counted) and honest: nothing the entry holds is left out.
    public var estimatedBytes: Int {
        var bytes = Self.fixedOverheadBytes
        // Summed one by one: an array of the six would be allocated for every entry.
        bytes += self.listener.utf8.count + self.client.utf8.count + self.method.utf8.count
        bytes += self.target.utf8.count + self.path.utf8.count + self.version.utf8.count
        bytes += (self.tls?.utf8.count ?? 0) + (self.rule?.utf8.count ?? 0) + (self.fault?.utf8.count ?? 0)
        for header in self.headers {
            bytes += Self.perHeaderOverheadBytes + header.name.utf8.count + header.value.utf8.count
        }
        // The planned fields: the date sent is as long as the planned one (an IMF-fixdate always is).
        for header in self.sentHeaders.planned {
            bytes += Self.perHeaderOverheadBytes + header.name.utf8.count + header.value.utf8.count
        }
        for label in self.regexGaveUp {
            bytes += Self.perHeaderOverheadBytes + label.utf8.count
        }
        return bytes
    }

    /// Keeps at most `limit` bytes of request header names and values: headers are kept in order while they fit;
    /// the one that crosses the limit keeps its name and the start of its value (cut between characters' bytes,
    /// never inside one); the rest are left out. `headersTruncated` counts the bytes left out.
    public mutating func truncateHeaders(to limit: Int) {
        var total = 0
        for header in self.headers { total += header.name.utf8.count + header.value.utf8.count }
        guard total > limit else { return }
        var kept: [HeaderField] = []
        var room = limit
        for header in self.headers {
            let size = header.name.utf8.count + header.value.utf8.count
            if size <= room {
                kept.append(header)
                room -= size
                continue
            }
            let valueRoom = room - header.name.utf8.count
            if valueRoom > 0 {
                kept.append(HeaderField(header.name, Self.prefix(of: header.value, bytes: valueRoom)))
            }
            break
        }
        var keptBytes = 0
        for header in kept { keptBytes += header.name.utf8.count + header.value.utf8.count }
        self.headers = kept
        self.headersTruncated += total - keptBytes
    }

    /// The longest start of `text` of at most `bytes` UTF-8 bytes that ends between Unicode scalars.
    static func prefix(of text: String, bytes: Int) -> String {
        var end = text.unicodeScalars.startIndex
        var used = 0
        for index in text.unicodeScalars.indices {
            let length = UTF8.width(text.unicodeScalars[index])
            if used + length > bytes { break }
            used += length
            end = text.unicodeScalars.index(after: index)
        }
        return String(text.unicodeScalars[..<end])
    }
}
