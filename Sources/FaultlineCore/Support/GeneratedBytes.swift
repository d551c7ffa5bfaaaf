/// The deterministic bytes of a `bodySize` body: byte `i` depends only on `i` and the stream's key, so any range
/// can be produced without producing what comes before it (ranges and resumed downloads stay consistent).
public struct GeneratedBytes: Sendable, Hashable {
    /// Selects one stream of bytes; the same key always gives the same bytes.
    public let key: UInt64

    public init(key: UInt64 = 0) {
        self.key = key
    }

    /// Writes `count` bytes starting at `offset` of the stream into `buffer`.
    public func write(offset: Int64, count: Int, into buffer: UnsafeMutableRawBufferPointer) {
        precondition(buffer.count >= count, "buffer too small")
        var position = offset
        var written = 0
        while written < count {
            let block = self.block(at: UInt64(position / 8))
            let start = Int(position % 8)
            let take = min(8 - start, count - written)
            for index in 0..<take {
                buffer[written + index] = UInt8(truncatingIfNeeded: block >> (8 * UInt64(start + index)))
            }
            written += take
            position += Int64(take)
        }
    }

    /// The bytes from `offset` to `offset + count`, as an array.
    public func bytes(offset: Int64, count: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            self.write(offset: offset, count: count, into: UnsafeMutableRawBufferPointer(buffer))
            initialized = count
        }
    }

    @inline(__always)
    private func block(at index: UInt64) -> UInt64 {
        var mixer = SplitMix64(state: self.key ^ (index &* 0xD1B5_4A32_D192_ED03))
        return mixer.next()
    }
}
