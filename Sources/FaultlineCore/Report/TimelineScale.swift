/// The timeline's x axis: seconds since the scenario loaded, mapped onto the plot's pixels, with round ticks.
struct TimelineScale: Sendable, Equatable {
    /// The first second shown (seconds since the scenario loaded; negative for requests answered by an earlier
    /// scenario whose journal was kept).
    var start: Double
    /// The last second shown.
    var end: Double
    /// Where the plot begins, in pixels from the SVG's left edge.
    var left: Double
    /// The plot's width in pixels.
    var width: Double

    /// The pixel for `seconds` since the scenario loaded.
    func x(_ seconds: Double) -> Double {
        self.left + (seconds - self.start) / (self.end - self.start) * self.width
    }

    /// The plot's right edge in pixels.
    var right: Double { self.left + self.width }

    /// The axis for requests that arrived from `firstArrival` to `lastFinish` (seconds since load), with Retry-After
    /// bands reaching to `bandsEnd`. The axis starts at the load (0) unless the first request came so late that
    /// the requests would be squeezed into the right half; a band may stretch it by a quarter at most, so a long
    /// Retry-After cannot squeeze the requests either (a longer band is cut at the edge and says where it ends).
    static func fitting(
        firstArrival: Double?,
        lastFinish: Double?,
        bandsEnd: Double?,
        left: Double,
        width: Double
    ) -> TimelineScale {
        guard let firstArrival, let lastFinish else {
            return TimelineScale(start: 0, end: 1, left: left, width: width)
        }
        var start = min(0, firstArrival)
        let dataEnd = max(lastFinish, firstArrival + 0.001)
        if firstArrival > 0, firstArrival > 0.5 * dataEnd {
            start = max(0, firstArrival - 0.05 * (dataEnd - firstArrival))
        }
        let span = max(dataEnd - start, 0.001)
        var end = dataEnd
        if let bandsEnd, bandsEnd > end { end = min(bandsEnd, dataEnd + 0.25 * span) }
        end += 0.02 * (end - start)
        return TimelineScale(start: start, end: end, left: left, width: width)
    }

    /// Round tick values (1, 2 or 5 times a power of ten apart), about eight of them, with the decimals their labels
    /// need.
    func ticks() -> (values: [Double], decimals: Int) {
        let span = self.end - self.start
        guard span > 0, span.isFinite else { return ([self.start], 0) }
        let rough = span / 8
        var power = 1.0
        var exponent = 0
        while power * 10 <= rough {
            power *= 10
            exponent += 1
        }
        while power > rough {
            power /= 10
            exponent -= 1
        }
        var step = [1.0, 2.0, 5.0].map { $0 * power }.first { $0 >= rough } ?? power * 10
        if step > power * 5 {
            step = power * 10
            exponent += 1
        }
        let decimals = max(0, -exponent)
        var values: [Double] = []
        var index = (self.start / step).rounded(.up)
        while index * step <= self.end + step * 1e-9, values.count < 40 {
            values.append(index * step)
            index += 1
        }
        return (values, min(decimals, 4))
    }
}
