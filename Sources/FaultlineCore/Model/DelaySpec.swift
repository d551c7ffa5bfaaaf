import Foundation

/// How long to wait before sending the status line: a fixed duration or a random one drawn from the rule's seeded
/// generator.
public enum DelaySpec: Sendable, Equatable {
    /// Always the same duration.
    case fixed(Duration)
    /// Uniformly distributed between the two bounds, inclusive.
    case uniform(Duration, Duration)
    /// Log-normally distributed: half the delays are below `median`; `sigma` is the standard deviation of the
    /// logarithm (0.5 gives a long but not extreme tail).
    case lognormal(median: Duration, sigma: Double)

    /// Draws a delay, taking any randomness from `generator`.
    public func sample(using generator: inout SeededGenerator) -> Duration {
        switch self {
        case .fixed(let duration):
            return duration
        case .uniform(let low, let high):
            let lowNanoseconds = low.nanoseconds
            let highNanoseconds = high.nanoseconds
            guard highNanoseconds > lowNanoseconds else { return low }
            return .nanoseconds(generator.nextInt(in: lowNanoseconds...highNanoseconds))
        case .lognormal(let median, let sigma):
            let normal = generator.nextStandardNormal()
            let nanoseconds = Double(median.nanoseconds) * Foundation.exp(sigma * normal)
            // A lognormal tail is unbounded; a day is far beyond any test's patience.
            return .nanoseconds(Int64(min(nanoseconds, 86_400e9)))
        }
    }
}

/// The value of a `Retry-After` header: a number of seconds or an HTTP date, as written in the scenario.
public enum RetryAfter: Sendable, Equatable {
    case seconds(Int)
    case date(String)

    /// The header value as sent.
    public var headerValue: String {
        switch self {
        case .seconds(let seconds): String(seconds)
        case .date(let date): date
        }
    }
}
