/// Where everything on the report's timeline goes, worked out before any SVG is written: one lane per rule (and one
/// for requests no rule answered), each request a mark from its arrival to its last byte, packed into a few rows
/// where requests overlap and binned where even those would not keep them apart; the Retry-After bands, the requests
/// that came inside one, and the gaps written on each lane's axis. Pure geometry, so it can be tested without HTML.
struct TimelineLayout: Sendable {
    /// One mark per request, drawn from arrival to last byte.
    struct Mark: Sendable, Equatable {
        /// The journal id.
        var id: Int
        /// Where the entry is in the report's journal.
        var entry: Int
        var x0: Double
        var x1: Double
        /// Where the first byte went out, when it did before the end: the mark is lighter before it.
        var firstByteX: Double?
        /// The row within the lane, from 0.
        var row: Int
        /// The status and the fault, such as `499 drop`.
        var label: String
        var outcome: JournalEntry.Outcome
        /// Whether the request came inside a Retry-After band on its lane.
        var early: Bool
    }

    /// Requests too close together to draw one by one: one bar per few pixels, carrying every id it stands for.
    struct Bin: Sendable, Equatable {
        var ids: [Int]
        var x: Double
        var width: Double
        /// How many ended each way, in `TimelineLayout.outcomes` order.
        var outcomes: [Int]
        /// Whether any of them came inside a Retry-After band.
        var early: Bool
    }

    /// The time after an answer with Retry-After, until the client was allowed back (overlapping bands merged).
    struct Band: Sendable, Equatable {
        var x0: Double
        var x1: Double
        /// When the client was allowed back, in seconds since load.
        var until: Double
        /// Whether the band goes on past the plot's right edge.
        var clipped: Bool
        /// `Retry-After 2 s`; `nil` for merged bands whose answers asked for different waits.
        var label: String?
        /// The journal ids of the answers that carried the Retry-After.
        var ids: [Int]
    }

    /// The wait between one request's last byte and the next request's arrival on a lane, written on its axis.
    struct Gap: Sendable, Equatable {
        var x0: Double
        var x1: Double
        var text: String
        /// The two requests' journal ids.
        var ids: (Int, Int)

        static func == (lhs: Gap, rhs: Gap) -> Bool {
            lhs.x0 == rhs.x0 && lhs.x1 == rhs.x1 && lhs.text == rhs.text && lhs.ids == rhs.ids
        }
    }

    /// One rule's requests (or the unmatched ones).
    struct Lane: Sendable {
        /// The rule's label; `nil` for the lane of requests no rule answered.
        var rule: String?
        var top: Double
        var rows: Int
        var marks: [Mark] = []
        var bins: [Bin] = []
        var bands: [Band] = []
        var gaps: [Gap] = []
        var requests = 0

        /// The lane's height in pixels.
        var height: Double {
            TimelineLayout.laneTopStrip + Double(self.rows) * TimelineLayout.rowHeight + TimelineLayout.laneAxisStrip
        }

        /// The top of row `row`.
        func rowTop(_ row: Int) -> Double {
            self.top + TimelineLayout.laneTopStrip + Double(row) * TimelineLayout.rowHeight
        }

        /// Where the lane's axis line is.
        var axisY: Double {
            self.top + TimelineLayout.laneTopStrip + Double(self.rows) * TimelineLayout.rowHeight + 2
        }
    }

    // MARK: - Geometry

    static let laneNameWidth = 190.0
    static let plotWidth = 1000.0
    static let rightMargin = 30.0
    static let axisHeight = 30.0
    static let laneTopStrip = 13.0
    static let rowHeight = 18.0
    static let markHeight = 12.0
    static let laneAxisStrip = 16.0
    /// Rows a lane may use for overlapping requests before they are binned.
    static let maxRows = 4
    static let minMarkWidth = 2.0
    static let binWidth = 6.0
    /// Average glyph widths of the 10 px labels and the 9 px axis texts, generous so that labels never touch.
    static let labelCharWidth = 6.4
    static let smallCharWidth = 5.6
    /// Retry-After's slack for clock granularity, as `honorsRetryAfter` allows (DESIGN section 3).
    static let retryAfterTolerance = ExpectationEvaluator.retryAfterTolerance
    /// The order outcomes are counted, stacked and listed in.
    static let outcomes: [JournalEntry.Outcome] = [.completed, .dropped, .reset, .clientClosed, .timeout]

    /// The SVG's width.
    static var width: Double { self.laneNameWidth + self.plotWidth + self.rightMargin }

    var scale: TimelineScale
    var lanes: [Lane]
    /// How early each request that came inside a Retry-After band was, in seconds, by journal id.
    var early: [Int: Double]
    /// The SVG's height.
    var height: Double

    /// Lays out `journal` with one lane per label in `rules` (scenario order, duplicates once), then one per other
    /// rule the journal names, then the unmatched lane; `loadedAt` is the scenario's load time in seconds since 1970.
    init(journal: [JournalEntry], rules: [String], loadedAt: Double) {
        // Lanes, in scenario order.
        var laneIndex: [String: Int] = [:]
        var laneRules: [String?] = []
        for label in rules + journal.compactMap(\.rule) where laneIndex[label] == nil {
            laneIndex[label] = laneRules.count
            laneRules.append(label)
        }
        let unmatchedLane = laneRules.count
        laneRules.append(nil)
        var members = Array(repeating: [Int](), count: laneRules.count)
        for (index, entry) in journal.enumerated() {
            members[entry.rule.flatMap { laneIndex[$0] } ?? unmatchedLane].append(index)
        }
        for lane in members.indices {
            members[lane].sort { (journal[$0].receivedAt, journal[$0].id) < (journal[$1].receivedAt, journal[$1].id) }
        }

        // Retry-After bands (in seconds since load) and the requests that came inside one.
        var bandSpans = Array(
            repeating: [(start: Double, end: Double, id: Int, wait: Double)](),
            count: laneRules.count
        )
        var early: [Int: Double] = [:]
        for lane in members.indices {
            var allowedBack = -Double.infinity
            for index in members[lane] {
                let entry = journal[index]
                let arrival = entry.receivedAt - loadedAt
                if arrival + Self.retryAfterTolerance < allowedBack {
                    early[entry.id] = allowedBack - arrival
                }
                if let wait = ExpectationEvaluator.retryAfterSeconds(entry), wait > 0, wait.isFinite {
                    let finish = entry.finishedAt - loadedAt
                    bandSpans[lane].append((finish, finish + wait, entry.id, wait))
                    allowedBack = max(allowedBack, finish + wait)
                }
            }
        }

        let arrivals = journal.map { $0.receivedAt - loadedAt }
        let finishes = journal.map { $0.finishedAt - loadedAt }
        let scale = TimelineScale.fitting(
            firstArrival: arrivals.min(),
            lastFinish: finishes.max(),
            bandsEnd: bandSpans.joined().map(\.end).max(),
            left: Self.laneNameWidth,
            width: Self.plotWidth
        )

        var lanes: [Lane] = []
        var top = Self.axisHeight
        for (laneNumber, rule) in laneRules.enumerated() {
            var lane = Self.layOut(
                members[laneNumber],
                of: journal,
                rule: rule,
                top: top,
                scale: scale,
                loadedAt: loadedAt,
                early: early
            )
            lane.bands = Self.bands(bandSpans[laneNumber], scale: scale)
            lanes.append(lane)
            top += lane.height
        }
        self.scale = scale
        self.lanes = lanes
        self.early = early
        self.height = top + 6
    }

    // MARK: - Marks, rows and bins

    private static func layOut(
        _ members: [Int],
        of journal: [JournalEntry],
        rule: String?,
        top: Double,
        scale: TimelineScale,
        loadedAt: Double,
        early: [Int: Double]
    ) -> Lane {
        var marks: [Mark] = []
        marks.reserveCapacity(members.count)
        var packEnds: [Double] = []
        packEnds.reserveCapacity(members.count)
        for index in members {
            let entry = journal[index]
            let arrival = entry.receivedAt - loadedAt
            let x0 = scale.x(arrival)
            let x1 = max(scale.x(entry.finishedAt - loadedAt), x0 + Self.minMarkWidth)
            var firstByteX: Double?
            if let firstByte = entry.firstByteMs, firstByte < entry.totalMs {
                let x = scale.x(arrival + firstByte / 1000)
                if x - x0 >= 1 { firstByteX = x }
            }
            var label = String(entry.status)
            if let fault = entry.fault { label += " " + HTMLText.shortened(fault, to: 24) }
            let isEarly = early[entry.id] != nil
            if isEarly { label += " too early" }
            marks.append(
                Mark(
                    id: entry.id,
                    entry: index,
                    x0: x0,
                    x1: x1,
                    firstByteX: firstByteX,
                    row: 0,
                    label: label,
                    outcome: entry.outcome,
                    early: isEarly
                )
            )
            // A mark owns its label's room too, so that labels never overlap.
            packEnds.append(x1 + 3 + Double(label.count) * Self.labelCharWidth)
        }

        // Clusters: runs of marks whose extents (labels included) touch. Each is drawn one by one in at most
        // `maxRows` rows, or binned when that is not enough.
        var individual: [Mark] = []
        var bins: [Bin] = []
        var binnedIDs = Set<Int>()
        var rowsUsed = 1
        var anyBinned = false
        var start = 0
        while start < marks.count {
            var end = start + 1
            var reach = packEnds[start]
            while end < marks.count, marks[end].x0 < reach + 1 {
                reach = max(reach, packEnds[end])
                end += 1
            }
            var rowEnds: [Double] = []
            var placed: [Mark] = []
            var fits = true
            for index in start..<end {
                var mark = marks[index]
                if let row = rowEnds.firstIndex(where: { $0 + 1 <= mark.x0 }) {
                    mark.row = row
                    rowEnds[row] = packEnds[index]
                } else if rowEnds.count < Self.maxRows {
                    mark.row = rowEnds.count
                    rowEnds.append(packEnds[index])
                } else {
                    fits = false
                    break
                }
                placed.append(mark)
            }
            if fits {
                individual += placed
                rowsUsed = max(rowsUsed, rowEnds.count)
            } else {
                anyBinned = true
                bins += Self.bin(marks[start..<end])
                for mark in marks[start..<end] { binnedIDs.insert(mark.id) }
            }
            start = end
        }

        var lane = Lane(rule: rule, top: top, rows: anyBinned ? Self.maxRows : rowsUsed)
        lane.marks = individual
        lane.bins = bins
        lane.requests = members.count
        lane.gaps = Self.gaps(members, of: journal, scale: scale, loadedAt: loadedAt, skipping: binnedIDs)
        return lane
    }

    /// One bar per `binWidth` pixels of the cluster, by arrival.
    private static func bin(_ marks: ArraySlice<Mark>) -> [Bin] {
        guard let first = marks.first else { return [] }
        var bins: [Bin] = []
        for mark in marks {
            let column = ((mark.x0 - first.x0) / Self.binWidth).rounded(.down)
            let x = first.x0 + column * Self.binWidth
            if bins.last?.x != x {
                bins.append(
                    Bin(
                        ids: [],
                        x: x,
                        width: Self.binWidth - 1,
                        outcomes: Array(repeating: 0, count: Self.outcomes.count),
                        early: false
                    )
                )
            }
            bins[bins.count - 1].ids.append(mark.id)
            bins[bins.count - 1].outcomes[Self.outcomes.firstIndex(of: mark.outcome) ?? 0] += 1
            if mark.early { bins[bins.count - 1].early = true }
        }
        return bins
    }

    // MARK: - Bands and gaps

    /// The bands in pixels, overlapping ones merged, cut at the plot's edges.
    private static func bands(
        _ spans: [(start: Double, end: Double, id: Int, wait: Double)],
        scale: TimelineScale
    ) -> [Band] {
        var bands: [Band] = []
        for span in spans.sorted(by: { $0.start < $1.start }) {
            let x0 = max(scale.x(span.start), scale.left)
            let x1 = min(scale.x(span.end), scale.right)
            guard x1 > x0 else { continue }
            if var last = bands.last, x0 <= last.x1 {
                last.x1 = max(last.x1, x1)
                last.until = max(last.until, span.end)
                last.clipped = last.clipped || scale.x(span.end) > scale.right
                if last.label != "Retry-After " + ReportNumber.duration(span.wait) { last.label = nil }
                last.ids.append(span.id)
                bands[bands.count - 1] = last
            } else {
                bands.append(
                    Band(
                        x0: x0,
                        x1: x1,
                        until: span.end,
                        clipped: scale.x(span.end) > scale.right,
                        label: "Retry-After " + ReportNumber.duration(span.wait),
                        ids: [span.id]
                    )
                )
            }
        }
        return bands
    }

    /// The waits between consecutive requests (last byte to next arrival) that can be written without touching
    /// each other, left to right; none inside binned clusters.
    private static func gaps(
        _ members: [Int],
        of journal: [JournalEntry],
        scale: TimelineScale,
        loadedAt: Double,
        skipping binned: Set<Int>
    ) -> [Gap] {
        var gaps: [Gap] = []
        var lastRight = -Double.infinity
        for (previous, next) in zip(members, members.dropFirst()) {
            let before = journal[previous]
            let after = journal[next]
            guard !binned.contains(before.id), !binned.contains(after.id) else { continue }
            let wait = after.receivedAt - before.finishedAt
            guard wait > 0 else { continue }
            let x0 = scale.x(before.finishedAt - loadedAt)
            let x1 = scale.x(after.receivedAt - loadedAt)
            let text = ReportNumber.duration(wait)
            let half = Double(text.count) * Self.smallCharWidth / 2
            let middle = (x0 + x1) / 2
            guard middle - half >= lastRight + 6, middle - half >= scale.left,
                middle + half <= scale.right + Self.rightMargin
            else { continue }
            gaps.append(Gap(x0: x0, x1: x1, text: text, ids: (before.id, after.id)))
            lastRight = middle + half
        }
        return gaps
    }
}
