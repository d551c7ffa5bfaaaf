import Foundation

/// Splits a `multipart/byteranges` body into its parts, for tests that check each part against the source.
public enum Multipart {
    /// One part: its header fields and its bytes.
    public struct Part: Sendable {
        public var headers: [String: String]
        public var body: [UInt8]
    }

    /// The boundary named in a `Content-Type` such as `multipart/byteranges; boundary=XYZ`.
    public static func boundary(of contentType: String) -> String? {
        guard let range = contentType.range(of: "boundary=") else { return nil }
        return String(contentType[range.upperBound...]).trimmingCharacters(in: ["\""])
    }

    /// The parts of `body`, or `nil` when it is not a well-formed multipart body with that boundary.
    public static func parts(of body: [UInt8], boundary: String) -> [Part]? {
        let delimiter = Array("--\(boundary)".utf8)
        var parts: [Part] = []
        guard var position = self.find(delimiter, in: body, from: 0), position == 0 else { return nil }
        while true {
            position += delimiter.count
            if body[position...].starts(with: Array("--".utf8)) { return parts }
            guard body[position...].starts(with: [13, 10]) else { return nil }
            position += 2
            guard let headEnd = self.find([13, 10, 13, 10], in: body, from: position) else { return nil }
            var headers: [String: String] = [:]
            for line in String(decoding: body[position..<headEnd], as: UTF8.self).split(separator: "\r\n") {
                guard let colon = line.firstIndex(of: ":") else { return nil }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: [" "])
            }
            let dataStart = headEnd + 4
            guard let next = self.find([13, 10] + delimiter, in: body, from: dataStart) else { return nil }
            parts.append(Part(headers: headers, body: Array(body[dataStart..<next])))
            position = next + 2
        }
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard needle.count <= haystack.count, start <= haystack.count - needle.count else { return nil }
        for index in start...(haystack.count - needle.count) where haystack[index] == needle[0] {
            if Array(haystack[index..<(index + needle.count)]) == needle { return index }
        }
        return nil
    }
}
