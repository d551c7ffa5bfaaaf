import Foundation

/// A small, fast, reproducible random number generator (xoshiro256**, seeded through SplitMix64).
///
/// Every random choice Faultline makes comes from one of these, so the same seed and the same request order give
/// the same choices on every run and every machine. The bounded helpers below are written out rather than taken
/// from the standard library, whose algorithms are not promised to stay the same between Swift releases.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    /// A generator whose whole stream is determined by `seed`.
    public init(seed: UInt64) {
        var splitMix = SplitMix64(state: seed)
        self.state = (splitMix.next(), splitMix.next(), splitMix.next(), splitMix.next())
    }

    /// The generator for one stream of a seed, such as one rule's choices: `stream` selects an independent sequence.
    public init(seed: UInt64, stream: UInt64) {
        var mixer = SplitMix64(state: seed ^ (stream &* 0x9E37_79B9_7F4A_7C15))
        self.init(seed: mixer.next())
    }

    public mutating func next() -> UInt64 {
        let result = rotateLeft(self.state.1 &* 5, 7) &* 9
        let shifted = self.state.1 << 17
        self.state.2 ^= self.state.0
        self.state.3 ^= self.state.1
        self.state.1 ^= self.state.2
        self.state.0 ^= self.state.3
        self.state.2 ^= shifted
        self.state.3 = rotateLeft(self.state.3, 45)
        return result
    }

    /// A double in `0..<1` with 53 random bits.
    public mutating func nextUnitDouble() -> Double {
        Double(self.next() >> 11) * 0x1.0p-53
    }

    /// A whole number in `0..<bound`, without modulo bias (Lemire's method).
    public mutating func nextInt(below bound: UInt64) -> UInt64 {
        precondition(bound > 0, "bound must be positive")
        var product = self.next().multipliedFullWidth(by: bound)
        if product.low < bound {
            let threshold = (0 &- bound) % bound
            while product.low < threshold {
                product = self.next().multipliedFullWidth(by: bound)
            }
        }
        return product.high
    }

    /// A whole number in `range`.
    public mutating func nextInt(in range: ClosedRange<Int64>) -> Int64 {
        let width = UInt64(bitPattern: range.upperBound &- range.lowerBound)
        if width == UInt64.max { return Int64(bitPattern: self.next()) }
        return range.lowerBound &+ Int64(bitPattern: self.nextInt(below: width + 1))
    }

    /// A draw from the standard normal distribution (Box-Muller).
    public mutating func nextStandardNormal() -> Double {
        let u1 = max(self.nextUnitDouble(), Double.leastNonzeroMagnitude)
        let u2 = self.nextUnitDouble()
        return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
    }

    /// Whether an event of probability `p` happens.
    public mutating func chance(_ probability: Double) -> Bool {
        if probability >= 1 { return true }
        if probability <= 0 { return false }
        return self.nextUnitDouble() < probability
    }

    /// A seed drawn from the system's generator, for runs that did not ask for one.
    public static func randomSeed() -> UInt64 {
        var system = SystemRandomNumberGenerator()
        return system.next()
    }
}

/// SplitMix64, used to spread a 64-bit seed over xoshiro's 256 bits of state.
struct SplitMix64 {
    var state: UInt64

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@inline(__always)
private func rotateLeft(_ value: UInt64, _ amount: UInt64) -> UInt64 {
    (value << amount) | (value >> (64 - amount))
}
