import Foundation

/// Charts as SVG (inline in a page, or a file of their own): lines, bars, points, and a heatmap,
/// with axes and labels. Shared by the coordinator's pages and the command line's plots.
public enum SVGChart {
    static let width = 640.0
    static let height = 240.0
    static let margin = (left: 56.0, right: 16.0, top: 16.0, bottom: 40.0)

    /// A line (or points) through (x, y), with a title for screen readers.
    public static func line(
        _ points: [(Double, Double)], xLabel: String, yLabel: String, title: String, markers: Bool = false, bars: Bool = false
    ) -> String {
        guard !points.isEmpty else { return "<p class=\"muted\">No data.</p>" }
        let xs = points.map(\.0), ys = points.map(\.1)
        var (x0, x1) = (xs.min()!, xs.max()!)
        var (y0, y1) = (min(0, ys.min()!), ys.max()!)
        if x1 == x0 { x0 -= 1; x1 += 1 }
        if y1 == y0 { y1 = y0 + 1 }
        y1 += 0.05 * (y1 - y0)
        let pw = width - margin.left - margin.right, ph = height - margin.top - margin.bottom
        func px(_ x: Double) -> Double { margin.left + (x - x0) / (x1 - x0) * pw }
        func py(_ y: Double) -> Double { margin.top + (1 - (y - y0) / (y1 - y0)) * ph }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(MarkupText.escaped(title))\">"
        svg += "<title>\(MarkupText.escaped(title))</title>"
        svg += "<rect x=\"\(margin.left)\" y=\"\(margin.top)\" width=\"\(pw)\" height=\"\(ph)\" fill=\"#fbfcfe\" stroke=\"#c9cfdd\"/>"
        for i in 0...4 {
            let fx = x0 + Double(i) / 4 * (x1 - x0), fy = y0 + Double(i) / 4 * (y1 - y0)
            svg += "<text x=\"\(f(px(fx)))\" y=\"\(f(height - margin.bottom + 16))\" font-size=\"11\" text-anchor=\"middle\" fill=\"#555\">\(tick(fx))</text>"
            svg += "<text x=\"\(f(margin.left - 6))\" y=\"\(f(py(fy) + 4))\" font-size=\"11\" text-anchor=\"end\" fill=\"#555\">\(tick(fy))</text>"
            svg += "<line x1=\"\(f(margin.left))\" x2=\"\(f(width - margin.right))\" y1=\"\(f(py(fy)))\" y2=\"\(f(py(fy)))\" stroke=\"#eceff5\"/>"
        }
        if bars {
            let w = max(1, pw / Double(points.count) * 0.9)
            for (x, y) in points {
                let top = py(max(y, y0)), base = py(max(0, y0))
                svg += "<rect x=\"\(f(px(x) - w / 2))\" y=\"\(f(min(top, base)))\" width=\"\(f(w))\" height=\"\(f(abs(base - top)))\" fill=\"#3b6fe0\"/>"
            }
        } else {
            let path = points.map { "\(f(px($0.0))),\(f(py($0.1)))" }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"#3b6fe0\" stroke-width=\"1.5\" points=\"\(path)\"/>"
            if markers { for (x, y) in points { svg += "<circle cx=\"\(f(px(x)))\" cy=\"\(f(py(y)))\" r=\"2.5\" fill=\"#3b6fe0\"/>" } }
        }
        svg += "<text x=\"\(f(margin.left + pw / 2))\" y=\"\(f(height - 6))\" font-size=\"12\" text-anchor=\"middle\">\(MarkupText.escaped(xLabel))</text>"
        svg += "<text x=\"14\" y=\"\(f(margin.top + ph / 2))\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 14 \(f(margin.top + ph / 2)))\">\(MarkupText.escaped(yLabel))</text>"
        return svg + "</svg>"
    }

    private static func f(_ x: Double) -> String { String(format: "%.1f", x) }

    private static func tick(_ x: Double) -> String {
        let a = abs(x)
        if a == 0 { return "0" }
        if a >= 1000 || a < 0.01 { return String(format: "%.2g", x) }
        if a >= 100 { return String(format: "%.0f", x) }
        if a >= 10 { return String(format: "%.1f", x) }
        return String(format: "%.2f", x)
    }

    /// Points (x, y) with marker radius growing with `size` (e.g. S/N), as a DM-time scatter.
    public static func scatter(
        _ points: [(x: Double, y: Double, size: Double)], xLabel: String, yLabel: String, title: String
    ) -> String {
        guard !points.isEmpty else { return "<p class=\"muted\">No data.</p>" }
        var (x0, x1) = (points.map(\.x).min()!, points.map(\.x).max()!)
        var (y0, y1) = (points.map(\.y).min()!, points.map(\.y).max()!)
        if x1 == x0 { x0 -= 1; x1 += 1 }
        if y1 == y0 { y0 -= 1; y1 += 1 }
        let pw = width - margin.left - margin.right, ph = height - margin.top - margin.bottom
        func px(_ x: Double) -> Double { margin.left + (x - x0) / (x1 - x0) * pw }
        func py(_ y: Double) -> Double { margin.top + (1 - (y - y0) / (y1 - y0)) * ph }
        var svg = frame(title: title, x0: x0, x1: x1, y0: y0, y1: y1, xLabel: xLabel, yLabel: yLabel)
        let smallest = points.map(\.size).min()!, largest = max(points.map(\.size).max()!, smallest + 1e-9)
        for p in points {
            let r = 2 + 6 * (p.size - smallest) / (largest - smallest)
            svg += "<circle cx=\"\(f(px(p.x)))\" cy=\"\(f(py(p.y)))\" r=\"\(f(r))\" fill=\"#3b6fe0\" fill-opacity=\"0.6\"/>"
        }
        return svg + "</svg>"
    }

    /// `values[row][column]` as shaded cells: rows from `yTop` (first row, top) to `yBottom`,
    /// columns from `x0` to `x1`; darker is larger.
    public static func heatmap(
        _ values: [[Float]], x0: Double, x1: Double, yTop: Double, yBottom: Double, xLabel: String, yLabel: String, title: String
    ) -> String {
        guard let columns = values.first?.count, columns > 0 else { return "<p class=\"muted\">No data.</p>" }
        let pw = width - margin.left - margin.right, ph = height - margin.top - margin.bottom
        // The first row is drawn at the top: the labels grow downward when yTop < yBottom.
        var svg = frame(title: title, x0: x0, x1: x1, y0: min(yTop, yBottom), y1: max(yTop, yBottom), xLabel: xLabel, yLabel: yLabel,
                        descending: yTop < yBottom)
        let all = values.flatMap { $0 }.filter(\.isFinite)
        let lo = all.min() ?? 0, hi = max(all.max() ?? 1, lo + 1e-6)
        let cw = pw / Double(columns), rh = ph / Double(values.count)
        for (r, row) in values.enumerated() {
            for (c, v) in row.enumerated() {
                let shade = Int(255 * (1 - Double((v - lo) / (hi - lo))).clamped())
                svg += "<rect x=\"\(f(margin.left + Double(c) * cw))\" y=\"\(f(margin.top + Double(r) * rh))\" width=\"\(f(cw + 0.3))\" height=\"\(f(rh + 0.3))\" fill=\"rgb(\(shade),\(shade),\(min(255, shade + 30)))\"/>"
            }
        }
        return svg + "</svg>"
    }

    /// The opening of a chart: the SVG element, title, plot frame, ticks and axis labels.
    static func frame(
        title: String, x0: Double, x1: Double, y0: Double, y1: Double, xLabel: String, yLabel: String, descending: Bool = false
    ) -> String {
        let pw = width - margin.left - margin.right, ph = height - margin.top - margin.bottom
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(MarkupText.escaped(title))\">"
        svg += "<title>\(MarkupText.escaped(title))</title>"
        svg += "<rect x=\"\(margin.left)\" y=\"\(margin.top)\" width=\"\(pw)\" height=\"\(ph)\" fill=\"#fbfcfe\" stroke=\"#c9cfdd\"/>"
        for i in 0...4 {
            let fx = x0 + Double(i) / 4 * (x1 - x0)
            let fy = descending ? y1 - Double(i) / 4 * (y1 - y0) : y0 + Double(i) / 4 * (y1 - y0)
            let yPixel = margin.top + (1 - Double(i) / 4) * ph
            svg += "<text x=\"\(f(margin.left + Double(i) / 4 * pw))\" y=\"\(f(height - margin.bottom + 16))\" font-size=\"11\" text-anchor=\"middle\" fill=\"#555\">\(tick(fx))</text>"
            svg += "<text x=\"\(f(margin.left - 6))\" y=\"\(f(yPixel + 4))\" font-size=\"11\" text-anchor=\"end\" fill=\"#555\">\(tick(fy))</text>"
        }
        svg += "<text x=\"\(f(margin.left + pw / 2))\" y=\"\(f(height - 6))\" font-size=\"12\" text-anchor=\"middle\">\(MarkupText.escaped(xLabel))</text>"
        svg += "<text x=\"14\" y=\"\(f(margin.top + ph / 2))\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 14 \(f(margin.top + ph / 2)))\">\(MarkupText.escaped(yLabel))</text>"
        return svg
    }
}

extension Double {
    fileprivate func clamped() -> Double { Swift.min(1, Swift.max(0, self)) }
}
