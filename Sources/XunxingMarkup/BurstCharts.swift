/// The three plots FRB pipelines show of a burst, as SVG: the dedispersed profile, the dedispersed
/// frequency-time waterfall and the S/N against DM. One drawing for the command line's files and
/// the coordinator's pages.
public enum BurstCharts {
    /// The profile, waterfall and DM-curve SVGs. `times` are bin centres (s), `frequencies` subband
    /// centres (MHz, `waterfall[subband][bin]`), `dms` and `snrs` the S/N against DM; `label`, when
    /// given, follows each title.
    public static func svgs(
        times: [Double], profile: [Float], frequencies: [Double], waterfall: [[Float]], dms: [Double], snrs: [Double],
        label: String? = nil
    ) -> (profile: String, waterfall: String, dm: String) {
        let suffix = label.map { ", " + $0 } ?? ""
        let profileSVG = SVGChart.line(zip(times, profile).map { ($0, Double($1)) }, xLabel: "time (s)", yLabel: "S/N per bin",
                                       title: "Dedispersed profile" + suffix, bars: true)
        let waterfallSVG = SVGChart.heatmap(
            waterfall, x0: times.first ?? 0, x1: times.last ?? 0, yTop: frequencies.first ?? 0, yBottom: frequencies.last ?? 0,
            xLabel: "time (s)", yLabel: "frequency (MHz)", title: "Dedispersed waterfall" + suffix)
        let dmSVG = SVGChart.line(Array(zip(dms, snrs)), xLabel: "DM (pc cm⁻³)", yLabel: "S/N", title: "S/N against DM" + suffix, markers: true)
        return (profileSVG, waterfallSVG, dmSVG)
    }
}
