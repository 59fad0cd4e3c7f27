import Foundation
import PulsarSearch
import XunxingMarkup

extension Coordinator {
    /// A dataset's single-pulse events on its page: every event in DM against time (bursts and
    /// the clusters taken for interference, sized by S/N), a table of the bursts, and for the
    /// strongest the plots FRB pipelines show (dedispersed profile, waterfall, S/N against DM).
    static func singlePulseSection(_ events: [SinglePulseEvent]) -> String {
        var body = "<h2>Single pulses</h2>"
        let bursts = events.filter { $0.rfi == nil }
        let flagged = events.count - bursts.count
        body += "<p id=\"sp-summary\">\(bursts.count) burst(s); \(flagged) cluster(s) taken for interference (peaking at DM ~0 or spanning every DM).</p>"
        let points = events.map { (x: $0.timeSeconds, y: $0.dm, size: $0.snr) }
        body += "<figure id=\"sp-dm-time\">" + SVGChart.scatter(points, xLabel: "time (s)", yLabel: "DM (pc cm⁻³)", title: "Single-pulse events")
        body += "<figcaption>Every event, bursts and interference, in DM against arrival time; the larger, the higher its S/N.</figcaption></figure>"
        guard !bursts.isEmpty else { return body }
        body += HTML.table(["#", "time (s)", "MJD", "DM", "width (ms)", "S/N", "hits", "DM range"], bursts.enumerated().map { i, e in
            ["\(i + 1)", HTML.number(e.timeSeconds, 4), HTML.number(e.mjd, 6), HTML.number(e.dm), HTML.number(e.widthSeconds * 1000, 2),
             HTML.number(e.snr, 1), "\(e.members)", HTML.escape("\(HTML.number(e.dmMin, 1))-\(HTML.number(e.dmMax, 1))")]
        }, numeric: [1, 2, 3, 4, 5, 6])
        for (i, e) in bursts.enumerated() {
            guard let d = e.diagnostics else { continue }
            let label = "burst \(i + 1): DM \(HTML.number(e.dm, 1)), \(HTML.number(e.timeSeconds, 3)) s, S/N \(HTML.number(e.snr, 1))"
            body += "<h3>\(HTML.escape(label))</h3><div class=\"plots\" id=\"sp-burst-\(i + 1)\">"
            let svgs = BurstCharts.svgs(
                times: d.times, profile: d.profile, frequencies: d.frequencies, waterfall: d.waterfall, dms: d.dms, snrs: d.snrs)
            body += "<figure>" + svgs.profile + "</figure><figure>" + svgs.waterfall + "</figure><figure>" + svgs.dm + "</figure></div>"
        }
        return body
    }
}
