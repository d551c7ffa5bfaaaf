extension RunReport {
    /// The legend and the timeline's SVG.
    func appendTimeline(_ layout: TimelineLayout, to html: inout String) {
        html += "<section id=\"timeline\">\n<h2>Timeline</h2>\n"
        html += "<p class=\"hint\">x: seconds since the scenario loaded. One lane per rule; each request is a mark "
        html += "from its arrival to its last byte, labelled with the status it got and its fault. "
        html += "Hover over a mark for its details; click it for its row in the journal.</p>\n"
        html += "<div class=\"legend\">"
        for (outcome, words) in [
            ("completed", "completed"), ("dropped", "dropped by the server"), ("reset", "reset (RST)"),
            ("client-closed", "client closed first"), ("timeout", "timed out"),
        ] {
            html += "<span><i class=\"sw o-\(outcome)\"></i>\(words)</span>"
        }
        html += "<span><i class=\"sw o-completed light\"></i>waiting for the first byte</span>"
        html += "<span><i class=\"sw band\"></i>Retry-After: the client should stay away</span>"
        html += "<span><i class=\"sw early\"></i>came back too early</span>"
        html += "<span><i class=\"sw bin\"></i>many requests binned (by outcome)</span>"
        html += "<span>408 ms under a lane: the wait from one request’s last byte to the next one’s arrival</span>"
        html += "</div>\n<div class=\"plot\">\n"
        self.appendSVG(layout, to: &html)
        html += "</div>\n</section>\n"
    }

    private func appendSVG(_ layout: TimelineLayout, to html: inout String) {
        let width = TimelineLayout.width
        let scale = layout.scale
        html += "<svg class=\"timeline\" id=\"timeline-svg\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 "
        ReportNumber.appendCoordinate(width, to: &html)
        html += " "
        ReportNumber.appendCoordinate(layout.height, to: &html)
        html += "\" width=\""
        ReportNumber.appendCoordinate(width, to: &html)
        html += "\" height=\""
        ReportNumber.appendCoordinate(layout.height, to: &html)
        html += "\" role=\"img\" aria-label=\"Timeline of \(self.journal.count) requests\">\n"

        // Lane backgrounds and names.
        for (number, lane) in layout.lanes.enumerated() {
            if number % 2 == 0 {
                html += "<rect class=\"lane-bg\" x=\"0\" y=\""
                ReportNumber.appendCoordinate(lane.top, to: &html)
                html += "\" width=\""
                ReportNumber.appendCoordinate(width, to: &html)
                html += "\" height=\""
                ReportNumber.appendCoordinate(lane.height, to: &html)
                html += "\"/>\n"
            }
            html += "<text class=\"lane-name\" x=\"8\" y=\""
            ReportNumber.appendCoordinate(lane.top + TimelineLayout.laneTopStrip + 12, to: &html)
            html += "\">"
            if let rule = lane.rule {
                HTMLText.append(HTMLText.shortened(rule, to: 24), to: &html)
                if rule.count > 24 {
                    html += "<title>"
                    HTMLText.append(HTMLText.shortened(rule, to: 300), to: &html)
                    html += "</title>"
                }
            } else {
                html += "no rule (unmatched)"
            }
            html += "</text><text class=\"lane-count\" x=\"8\" y=\""
            ReportNumber.appendCoordinate(lane.top + TimelineLayout.laneTopStrip + 26, to: &html)
            html += "\">\(lane.requests) request\(lane.requests == 1 ? "" : "s")</text>\n"
        }

        // The time axis: ticks on top, grid lines through every lane.
        let (ticks, decimals) = scale.ticks()
        for tick in ticks {
            let x = scale.x(tick)
            html += "<line class=\"grid\" x1=\""
            ReportNumber.appendCoordinate(x, to: &html)
            html += "\" x2=\""
            ReportNumber.appendCoordinate(x, to: &html)
            html += "\" y1=\"\(Int(TimelineLayout.axisHeight) - 4)\" y2=\""
            ReportNumber.appendCoordinate(layout.height - 4, to: &html)
            html += "\"/><text class=\"tick\" text-anchor=\"middle\" x=\""
            ReportNumber.appendCoordinate(x, to: &html)
            html += "\" y=\"\(Int(TimelineLayout.axisHeight) - 10)\">"
            ReportNumber.append(tick, decimals, to: &html)
            html += " s</text>\n"
        }
        if scale.start > 0 {
            html += "<text class=\"tick\" x=\"8\" y=\"\(Int(TimelineLayout.axisHeight) - 10)\">axis starts at "
            ReportNumber.append(scale.start, 3, to: &html)
            html += " s</text>\n"
        }

        for lane in layout.lanes {
            self.appendBands(lane, scale: scale, to: &html)
            self.appendAxis(lane, scale: scale, to: &html)
            for mark in lane.marks { self.appendMark(mark, lane: lane, to: &html) }
            let tallest = lane.bins.map(\.ids.count).max() ?? 1
            for bin in lane.bins { self.appendBin(bin, lane: lane, tallest: tallest, to: &html) }
        }
        html += "</svg>\n"
    }

    private func appendBands(_ lane: TimelineLayout.Lane, scale: TimelineScale, to html: inout String) {
        for band in lane.bands {
            html += "<g class=\"band\" data-after=\""
            html += band.ids.map(String.init).joined(separator: " ")
            html += "\"><rect x=\""
            ReportNumber.appendCoordinate(band.x0, to: &html)
            html += "\" y=\""
            ReportNumber.appendCoordinate(lane.top + 1, to: &html)
            html += "\" width=\""
            ReportNumber.appendCoordinate(band.x1 - band.x0, to: &html)
            html += "\" height=\""
            ReportNumber.appendCoordinate(lane.height - 2, to: &html)
            html += "\"/>"
            // The edge where the client is allowed back, when it is on the plot.
            if !band.clipped {
                html += "<line x1=\""
                ReportNumber.appendCoordinate(band.x1, to: &html)
                html += "\" x2=\""
                ReportNumber.appendCoordinate(band.x1, to: &html)
                html += "\" y1=\""
                ReportNumber.appendCoordinate(lane.top + 1, to: &html)
                html += "\" y2=\""
                ReportNumber.appendCoordinate(lane.top + lane.height - 1, to: &html)
                html += "\"/>"
            }
            let label =
                (band.label ?? "Retry-After")
                + (band.clipped ? " · allowed back at " + ReportNumber.fixed(band.until, 3) + " s →" : "")
            let labelWidth = Double(label.count) * TimelineLayout.smallCharWidth
            if band.clipped, band.x1 - band.x0 >= 40 {
                html += "<text text-anchor=\"end\" x=\""
                ReportNumber.appendCoordinate(band.x1 - 3, to: &html)
            } else if band.x1 - band.x0 >= labelWidth + 6 {
                html += "<text x=\""
                ReportNumber.appendCoordinate(band.x0 + 3, to: &html)
            } else {
                html += "</g>\n"
                continue
            }
            html += "\" y=\""
            ReportNumber.appendCoordinate(lane.top + 10, to: &html)
            html += "\">"
            HTMLText.append(label, to: &html)
            html += "</text></g>\n"
        }
    }

    private func appendAxis(_ lane: TimelineLayout.Lane, scale: TimelineScale, to html: inout String) {
        let y = lane.axisY
        html += "<line class=\"axis\" x1=\""
        ReportNumber.appendCoordinate(scale.left, to: &html)
        html += "\" x2=\""
        ReportNumber.appendCoordinate(scale.right, to: &html)
        html += "\" y1=\""
        ReportNumber.appendCoordinate(y, to: &html)
        html += "\" y2=\""
        ReportNumber.appendCoordinate(y, to: &html)
        html += "\"/>\n"
        for gap in lane.gaps {
            html += "<g class=\"gap\" data-between=\"\(gap.ids.0) \(gap.ids.1)\">"
            if gap.x1 - gap.x0 >= 2 {
                html += "<line x1=\""
                ReportNumber.appendCoordinate(gap.x0, to: &html)
                html += "\" x2=\""
                ReportNumber.appendCoordinate(gap.x1, to: &html)
                html += "\" y1=\""
                ReportNumber.appendCoordinate(y + 2, to: &html)
                html += "\" y2=\""
                ReportNumber.appendCoordinate(y + 2, to: &html)
                html += "\"/>"
            }
            html += "<text text-anchor=\"middle\" x=\""
            ReportNumber.appendCoordinate((gap.x0 + gap.x1) / 2, to: &html)
            html += "\" y=\""
            ReportNumber.appendCoordinate(y + 12, to: &html)
            html += "\">"
            html += gap.text
            html += "</text></g>\n"
        }
    }

    private func appendMark(_ mark: TimelineLayout.Mark, lane: TimelineLayout.Lane, to html: inout String) {
        let top = lane.rowTop(mark.row) + (TimelineLayout.rowHeight - TimelineLayout.markHeight) / 2
        html += "<a href=\"#e"
        html += String(mark.id)
        html += "\"><g class=\"m o-"
        html += mark.outcome.rawValue
        if mark.early { html += " early" }
        html += "\" data-id=\""
        html += String(mark.id)
        html += "\">"
        var solidStart = mark.x0
        if let firstByteX = mark.firstByteX {
            self.appendRect(
                x: mark.x0,
                y: top,
                width: firstByteX - mark.x0,
                height: TimelineLayout.markHeight,
                class: "w",
                to: &html
            )
            solidStart = firstByteX
        }
        self.appendRect(
            x: solidStart,
            y: top,
            width: max(mark.x1 - solidStart, 1),
            height: TimelineLayout.markHeight,
            class: nil,
            to: &html
        )
        html += "<text x=\""
        ReportNumber.appendCoordinate(mark.x1 + 3, to: &html)
        html += "\" y=\""
        ReportNumber.appendCoordinate(top + TimelineLayout.markHeight - 2, to: &html)
        html += "\">"
        HTMLText.append(mark.label, to: &html)
        html += "</text></g></a>\n"
    }

    private func appendBin(_ bin: TimelineLayout.Bin, lane: TimelineLayout.Lane, tallest: Int, to html: inout String) {
        let area = Double(lane.rows) * TimelineLayout.rowHeight - 4
        let bottom = lane.rowTop(0) + area + 2
        let height = max(3, area * Double(bin.ids.count) / Double(max(tallest, 1)))
        html += "<a href=\"#e"
        html += String(bin.ids[0])
        html += "\"><g class=\"m bin"
        if bin.early { html += " early" }
        html += "\" data-id=\""
        for (index, id) in bin.ids.enumerated() {
            if index > 0 { html += " " }
            html += String(id)
        }
        html += "\">"
        var y = bottom
        for (index, count) in bin.outcomes.enumerated() where count > 0 {
            let segment = height * Double(count) / Double(bin.ids.count)
            y -= segment
            self.appendRect(
                x: bin.x,
                y: y,
                width: bin.width,
                height: segment,
                class: "o-" + TimelineLayout.outcomes[index].rawValue,
                to: &html
            )
        }
        html += "</g></a>\n"
    }

    private func appendRect(
        x: Double,
        y: Double,
        width: Double,
        height: Double,
        class name: String?,
        to html: inout String
    ) {
        html += "<rect"
        if let name {
            html += " class=\""
            html += name
            html += "\""
        }
        html += " x=\""
        ReportNumber.appendCoordinate(x, to: &html)
        html += "\" y=\""
        ReportNumber.appendCoordinate(y, to: &html)
        html += "\" width=\""
        ReportNumber.appendCoordinate(width, to: &html)
        html += "\" height=\""
        ReportNumber.appendCoordinate(height, to: &html)
        html += "\"/>"
    }
}
