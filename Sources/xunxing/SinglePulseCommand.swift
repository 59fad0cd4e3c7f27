import ArgumentParser
import Foundation
import PulsarSearch
import XunxingMarkup

struct SinglePulseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "single-pulse",
        abstract: "Search a filterbank for single pulses: fast radio bursts, RRATs, giant pulses.",
        discussion: """
            FILE (SIGPROC or PSRFITS) is cleaned of interference as `xunxing search` does, \
            dedispersed over the same DM plan (downsampled at high DM), and every DM trial is \
            normalised block by block (median and MAD, so red noise and steps make no events) \
            and matched-filtered with boxcars of log-spaced widths from one sample to \
            --max-width. Hits above --snr are clustered across DM (2 trials), time and width \
            (friends of friends: boxcars that overlap); each cluster is one event, described by \
            its strongest hit: time_s (arrival at the top of the band, seconds from the start), \
            mjd, dm, width_s, snr, members and the DM-time extent. Clusters strongest below the \
            low-DM cutoff, or spanning the whole DM range, are interference: left out unless \
            --show-flagged.

            Examples:
              xunxing single-pulse frb.fil --dm-min 400 --dm-max 700
              xunxing single-pulse obs.fits --snr 7 --max-width 0.05 --format json
              xunxing single-pulse frb.fil --dm-min 400 --dm-max 700 --plot plots/

            --plot DIR writes, for each of the --plot-count strongest events, its dedispersed \
            pulse profile, its dedispersed frequency-time waterfall and its S/N against DM \
            (event-N-profile.svg, event-N-waterfall.svg, event-N-dm.svg), and a DM-time scatter \
            of every event (dm-time.svg).
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json }

    @Argument(help: "The observation: a SIGPROC filterbank or a PSRFITS search-mode file.")
    var file: String
    @Option(help: "Lowest DM searched (pc cm^-3).") var dmMin: Double = 0
    @Option(help: "Highest DM searched (default: as `xunxing search`).") var dmMax: Double?
    @Option(help: "Lowest S/N reported.") var snr: Double = 6
    @Option(help: "Widest boxcar, seconds.") var maxWidth: Double = 0.1
    @Option(help: "DM below which a cluster's peak marks it as interference.") var lowDmCutoff: Double = 2
    @Flag(help: "Also list the clusters taken for interference.") var showFlagged = false
    @Option(help: "table or json (an array, strongest first).") var format: Format = .table
    @Option(help: "Write SVG plots of the strongest events and a DM-time scatter into this directory.") var plot: String?
    @Option(help: "Events plotted with --plot.") var plotCount: Int = 5
    @OptionGroup(title: "Interference") var rfi: RFIArguments

    func validate() throws {
        guard snr > 0, maxWidth > 0, dmMin >= 0 else { throw ValidationError("--snr and --max-width must be > 0, --dm-min >= 0") }
        if let dmMax, dmMax < dmMin { throw ValidationError("--dm-max \(dmMax) is below --dm-min \(dmMin)") }
    }

    func run() throws {
        let raw = try ObservationFile.open(file)
        let planner = FFTPlanner(rigor: .estimate)
        // Cleaned once here, so that the plots see the data the search saw.
        let cleaned = try SearchPipeline.clean(raw, options: rfi.options, mask: nil, planner: planner)
        let source: any SpectrumSource = cleaned ?? raw
        var c = SinglePulseConfiguration()
        c.dmMin = dmMin
        c.dmMax = dmMax
        c.snrThreshold = snr
        c.maxWidth = maxWidth
        c.rfi = .off
        c.clustering.lowDM = lowDmCutoff
        let progress = ProgressLine(enabled: format == .table && isatty(STDERR_FILENO) != 0)
        let started = Date()
        let report = try SinglePulseSearch(configuration: c, planner: planner)
            .search(source, startMJD: raw.info.mjd) { done, total in
                progress.update(SearchProgress(phase: .searching, completed: done, total: total))
            }
        progress.finish()
        let events = showFlagged ? (report.events + report.flagged).sorted { $0.snr > $1.snr } : report.events
        if let plot { try writePlots(report, events: events, source: source, directory: plot) }
        switch format {
        case .json:
            try printJSON(events)
        case .table:
            let trials = report.dmPlan.trials
            print(String(format: "%@: %.1f s; %d DM trials (%.2f to %.2f), %d hits, %d event(s), %d flagged as interference, in %.1f s",
                         (file as NSString).lastPathComponent, report.duration, trials.count, trials.first?.dm ?? 0, trials.last?.dm ?? 0,
                         report.hits, report.events.count, report.flagged.count, Date().timeIntervalSince(started)))
            if let r = try cleaned?.report() { print(r.summary) }
            guard !events.isEmpty else { print("No events at or above S/N \(snr)."); return }
            print("  #    time_s            mjd       dm   width_ms     snr  members  dm_range        rfi")
            for (i, e) in events.enumerated() {
                print(String(format: "%3d %9.4f %16.8f %8.2f %10.3f %7.2f %8d  %6.1f-%-6.1f %@", i + 1, e.timeSeconds, e.mjd, e.dm,
                             e.widthSeconds * 1000, e.snr, e.members, e.dmMin, e.dmMax, (e.rfi ?? "") as NSString))
            }
        }
    }

    /// The plots of `--plot`.
    private func writePlots(_ report: SinglePulseReport, events: [SinglePulseEvent], source: any SpectrumSource, directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        func write(_ name: String, _ svg: String) throws {
            let path = (directory as NSString).appendingPathComponent(name)
            do { try Data(svg.utf8).write(to: URL(fileURLWithPath: path)) } catch {
                throw ValidationError("cannot write \(path): \(error.localizedDescription)")
            }
        }
        let all = (report.events + report.flagged).map { (x: $0.timeSeconds, y: $0.dm, size: $0.snr) }
        try write("dm-time.svg", SVGChart.scatter(all, xLabel: "time (s)", yLabel: "DM (pc cm⁻³)", title: "Single-pulse events"))
        let weights = try ChannelWeights.measure(source)
        for (i, e) in events.prefix(max(0, plotCount)).enumerated() {
            let d = BurstPlots(try BurstDiagnostics.measure(source, weights: weights, event: e))
            let n = i + 1
            let label = String(format: "event %d: DM %.1f, %.4f s, S/N %.1f", n, e.dm, e.timeSeconds, e.snr)
            let svgs = BurstCharts.svgs(
                times: d.times, profile: d.profile, frequencies: d.frequencies, waterfall: d.waterfall, dms: d.dms, snrs: d.snrs,
                label: label)
            try write("event-\(n)-profile.svg", svgs.profile)
            try write("event-\(n)-waterfall.svg", svgs.waterfall)
            try write("event-\(n)-dm.svg", svgs.dm)
        }
    }
}
