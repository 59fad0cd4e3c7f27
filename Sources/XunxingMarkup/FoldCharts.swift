/// A prepfold-style page of a folded candidate as one SVG: a header with the best values, their
/// uncertainties and the observation's facts, then six panels: the profile over two turns, phase
/// against time, phase against frequency, reduced chi-square against DM, against trial period, and
/// over the period - period-derivative plane. One drawing for `xunxing fold` and the coordinator's
/// candidate pages; it takes plain arrays so that it knows nothing of the search.
public enum FoldCharts {
    /// What the page shows. Heatmaps are row-major: `timePhase[subintegration][bin]`,
    /// `frequencyPhase[subband][bin]` (first row at the top), `ppdot[derivative][period]`.
    public struct Panels {
        public var title: String
        public var facts: [String]
        public var profile: [Float]
        public var timePhase: [[Float]]
        public var times: [Double]
        public var frequencyPhase: [[Float]]
        public var frequencies: [Double]
        public var dmCurve: [(Double, Double)]
        public var periodCurve: [(Double, Double)]
        public var ppdot: [[Float]]
        public var periods: [Double]
        public var derivatives: [Double]
        /// The best period (s): the period axes are offsets from it, in microseconds.
        public var bestPeriod: Double

        public init(title: String, facts: [String], profile: [Float], timePhase: [[Float]], times: [Double], frequencyPhase: [[Float]],
                    frequencies: [Double], dmCurve: [(Double, Double)], periodCurve: [(Double, Double)], ppdot: [[Float]],
                    periods: [Double], derivatives: [Double], bestPeriod: Double) {
            self.bestPeriod = bestPeriod
            self.title = title
            self.facts = facts
            self.profile = profile
            self.timePhase = timePhase
            self.times = times
            self.frequencyPhase = frequencyPhase
            self.frequencies = frequencies
            self.dmCurve = dmCurve
            self.periodCurve = periodCurve
            self.ppdot = ppdot
            self.periods = periods
            self.derivatives = derivatives
        }
    }

    /// The six panels, each an SVG of its own (for a web page's figures), with ids.
    public static func panels(_ p: Panels) -> [(id: String, svg: String)] {
        let n = p.profile.count
        let twoTurns = (0..<(2 * n)).map { (Double($0) / Double(max(1, n)), Double(p.profile[$0 % max(1, n)])) }
        let offset = { (period: Double) in (period - p.bestPeriod) * 1e6 }
        let periodOffsets = p.periodCurve.map { (offset($0.0), $0.1) }
        let periodLabel = "period − \(String(format: "%.6f", p.bestPeriod * 1000)) ms (μs)"
        // Columns from the shortest period to the longest.
        let ascending = (p.periods.first ?? 0) > (p.periods.last ?? 0)
        let plane = ascending ? p.ppdot.map { Array($0.reversed()) } : p.ppdot
        let shortest = p.periods.min() ?? 0, longest = p.periods.max() ?? 0
        return [
            ("fold-profile", SVGChart.line(twoTurns, xLabel: "pulse phase (turns)", yLabel: "amplitude", title: "Profile, two turns", bars: true)),
            ("fold-dm", SVGChart.line(p.dmCurve, xLabel: "DM (pc cm⁻³)", yLabel: "reduced χ²", title: "Reduced χ² against DM", markers: true)),
            ("fold-time-phase", SVGChart.heatmap(p.timePhase.map { $0 + $0 }, x0: 0, x1: 2, yTop: p.times.first ?? 0,
                                                 yBottom: p.times.last ?? 0, xLabel: "pulse phase (turns)", yLabel: "time (s)",
                                                 title: "Phase against time (sub-integrations)")),
            ("fold-frequency-phase", SVGChart.heatmap(p.frequencyPhase.map { $0 + $0 }, x0: 0, x1: 2, yTop: p.frequencies.first ?? 0,
                                                      yBottom: p.frequencies.last ?? 0, xLabel: "pulse phase (turns)", yLabel: "frequency (MHz)",
                                                      title: "Phase against frequency (subbands)")),
            ("fold-period", SVGChart.line(periodOffsets, xLabel: periodLabel, yLabel: "reduced χ²", title: "Reduced χ² against period", markers: true)),
            ("fold-ppdot", SVGChart.heatmap(plane.reversed(), x0: offset(shortest), x1: offset(longest),
                                            yTop: p.derivatives.max() ?? 0, yBottom: p.derivatives.min() ?? 0, xLabel: periodLabel,
                                            yLabel: "period derivative (s/s)", title: "Reduced χ² over period and period derivative")),
        ]
    }

    /// One standalone SVG document: the header, then the panels two by two.
    public static func document(_ p: Panels) -> String {
        let panelWidth = SVGChart.width, panelHeight = SVGChart.height
        let header = 28.0 + 18.0 * Double(p.facts.count)
        let panels = Self.panels(p)
        let width = 2 * panelWidth, height = header + Double((panels.count + 1) / 2) * panelHeight
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\">"
        svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>"
        svg += "<text x=\"16\" y=\"22\" font-family=\"sans-serif\" font-size=\"16\" font-weight=\"bold\">\(MarkupText.escaped(p.title))</text>"
        for (i, line) in p.facts.enumerated() {
            svg += "<text x=\"16\" y=\"\(Int(40 + 18 * Double(i)))\" font-family=\"monospace\" font-size=\"13\">\(MarkupText.escaped(line))</text>"
        }
        for (i, panel) in panels.enumerated() {
            let x = Double(i % 2) * panelWidth, y = header + Double(i / 2) * panelHeight
            guard panel.svg.hasPrefix("<svg") else {
                svg += "<text id=\"\(panel.id)\" x=\"\(Int(x + 60))\" y=\"\(Int(y + 40))\" font-family=\"sans-serif\" font-size=\"13\">No data.</text>"
                continue
            }
            // Each panel is an <svg> with its own viewBox, placed and sized here.
            svg += panel.svg.replacingOccurrences(
                of: "<svg xmlns=\"http://www.w3.org/2000/svg\" ",
                with: "<svg id=\"\(panel.id)\" x=\"\(Int(x))\" y=\"\(Int(y))\" width=\"\(Int(panelWidth))\" height=\"\(Int(panelHeight))\" ")
        }
        return svg + "</svg>\n"
    }
}
