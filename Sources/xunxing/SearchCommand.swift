import ArgumentParser
import Foundation
import PulsarSearch
import XunxingProtocol

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json
}

struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Search one observation for pulsars on this machine.",
        discussion: """
            FILE is a SIGPROC filterbank (.fil), a PSRFITS search-mode file (1, 2, 4 or 8 bits, \
            any SUBINT count, AA+BB, AABBCRCI or IQUV: total intensity is formed), a SIGPROC time \
            series (.tim), or a PRESTO time series given by its .dat or .inf path. Filterbanks are dedispersed over a DM plan like \
            PRESTO's DDplan (DM step from the band, channel width and sample time, downsampling at \
            high DM); a time series is searched at the DM its header records.

            Every DM (and acceleration) trial is Fourier transformed with FFTW, whitened, and \
            harmonic-summed over 1, 2, 4, ... --harmonics harmonics. With --ffa every DM trial is \
            also searched with the Fast Folding Algorithm (periods --ffa-period-min to \
            --ffa-period-max, 240-260 phase bins, boxcars up to --ffa-duty-max of the period), which \
            beats the harmonic sum for long periods and narrow pulses; its candidates have \
            method "ffa" and a duty_cycle. Detections of both are sifted across DM trials and \
            harmonics, and the strongest are folded to confirm them.

            sigma is the Gaussian-equivalent significance after accounting for the trials in one \
            series; a signal must pass --sigma at its best DM and appear at two neighbouring DM \
            trials (--min-dm-hits), and signals peaking below DM 2 are taken for interference \
            (--low-dm-cutoff 0 keeps them). snr_folded is the S/N of the folded profile.

            FFT plans: --fft-rigor measure finds faster plans but takes seconds to minutes per \
            new size the first time; plans are kept as FFTW wisdom in --wisdom.

            Known pulsars: with --catalogue psrcat.db (or $PSRCAT_FILE) every candidate is checked \
            against the ATNF catalogue's pulsars within --beam-radius of the file's pointing: one \
            whose frequency is a small ratio n/m (up to 8) of a pulsar's, predicted at the \
            observation's date, within 2 Fourier bins plus the orbit's Doppler, and whose DM agrees \
            within 3 times its uncertainty (at least 5 % or 0.5), is marked with the pulsar's name \
            and the ratio (the `known` column; `known_pulsar` in JSON).

            Examples:
              xunxing search obs.fil
              xunxing search obs.fits --dm-max 300 --accel-max 50 --format json > cands.json
              xunxing search obs.fil --catalogue psrcat.db --beam-radius 0.25
              xunxing search long.fil --ffa --ffa-period-max 20
            """
    )

    @Argument(help: "The observation: .fil, .tim, .dat or .inf.")
    var file: String

    @OptionGroup(title: "Interference")
    var rfi: RFIArguments

    @OptionGroup(title: "Long periods (FFA)")
    var ffa: FFAArguments

    @Option(help: "Lowest DM to search (pc cm^-3).")
    var dmMin: Double = 0

    @Option(help: "Highest DM to search (default: the DM whose delay across the band is half the observation, at most 1000).")
    var dmMax: Double?

    @Option(help: "Largest line-of-sight acceleration to search, m/s^2 (0: no acceleration search).")
    var accelMax: Double = 0
    @Option(help: "Fourier bins of drift between neighbouring acceleration trials at the highest searched frequency (PRESTO's spacing is 2; more bins, fewer trials).")
    var accelDrift: Double = AccelerationPlan.defaultDrift

    @Option(help: "Most harmonics to sum: 1, 2, 4, 8, 16 or 32.")
    var harmonics: Int = 16

    @Option(help: "Report candidates at or above this sigma.")
    var sigma: Double = 5

    @Option(help: ArgumentHelp(
        "Drop signals whose best DM is below this (pc cm^-3) when more than one DM was searched.",
        discussion: "Terrestrial interference is undispersed and peaks at DM 0; 0 keeps everything (for a pulsar at very low DM)."))
    var lowDmCutoff: Double = 2

    @Option(help: "DM trials, two of them neighbours, that a signal must be detected at when more than one DM was searched (1: any).")
    var minDmHits: Int = 2

    @Option(help: "Threads to search with (default: all cores).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Lowest spin frequency to search, Hz.")
    var minFrequency: Double = 0.2

    @Option(help: "Highest spin frequency to search, Hz (default: Nyquist).")
    var maxFrequency: Double?

    @Option(name: .customLong("zap"), help: "Zap a birdie, FREQ:WIDTH[:HARMONICS] in Hz (repeatable), e.g. 50:0.1:20.")
    var birdies: [String] = []

    @Option(help: "Candidates to fold.")
    var fold: Int = 20

    @Option(help: ArgumentHelp(
        "Strongest candidates to diagnose as prepfold does and score (0: none).",
        discussion: "Each is folded again from the data (cleaned as searched), over trial periods, period derivatives and DMs, in sub-integrations and subbands (one pass over the file each), and given a quality score: persistence in time x persistence in frequency x dispersion x narrowness, each in [0, 1]. They are then ordered by that score, so a pulsar ranks above stronger interference; the table's `quality` column and the JSON's `quality` and `diagnostics` carry it. `xunxing fold` draws the plots for one. Filterbank and PSRFITS input only."))
    var diagnose: Int = CandidateDiagnosis.defaultCount

    @Option(help: "Most candidates to print.")
    var maxCandidates: Int = 50

    @Option(help: "Output: table; json (an object: file, observation header, what was searched, rfi, candidates); csv (a flat table); presto (ACCEL files per DM in --output-dir).")
    var format: CandidateFormat = .table

    @Option(help: "Directory for --format presto's files (created if missing).")
    var outputDir: String = "."

    @Option(help: "FFTW planning: estimate (instant), measure or patient (faster transforms, slow first plan).")
    var fftRigor: FFTRigor = .estimate

    @Option(help: "FFTW wisdom file (default: ~/.cache/xunxing/fftw-wisdom).")
    var wisdom: String?

    @Flag(help: "Print no progress.")
    var quiet = false

    @OptionGroup(title: "Known pulsars")
    var known: CatalogueArguments

    func validate() throws {
        guard [1, 2, 4, 8, 16, 32].contains(harmonics) else {
            throw ValidationError("--harmonics must be 1, 2, 4, 8, 16 or 32, not \(harmonics)")
        }
        guard dmMin >= 0 else { throw ValidationError("--dm-min must not be negative (got \(dmMin))") }
        if let dmMax, dmMax < dmMin { throw ValidationError("--dm-max \(dmMax) is below --dm-min \(dmMin)") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        guard accelMax >= 0 else { throw ValidationError("--accel-max is a magnitude and must not be negative") }
        guard accelDrift > 0, accelDrift.isFinite else { throw ValidationError("--accel-drift must be a positive number of Fourier bins, not \(accelDrift)") }
        guard lowDmCutoff >= 0, lowDmCutoff.isFinite else { throw ValidationError("--low-dm-cutoff must be 0 or more, not \(lowDmCutoff)") }
        guard minDmHits >= 1 else { throw ValidationError("--min-dm-hits must be at least 1, not \(minDmHits)") }
        guard diagnose >= 0 else { throw ValidationError("--diagnose must be 0 or more, not \(diagnose)") }
        for b in birdies where Birdie(argument: b) == nil {
            throw ValidationError("--zap '\(b)' is not FREQ:WIDTH[:HARMONICS] (for example 50:0.1:20)")
        }
    }

    func run() throws {
        var config = SearchConfiguration()
        config.dmMin = dmMin
        config.dmMax = dmMax
        config.accelMax = accelMax
        config.accelerationDrift = accelDrift
        config.harmonics = harmonics
        config.sigmaThreshold = sigma
        config.sift.minDM = lowDmCutoff
        config.sift.minDMHits = minDmHits
        config.threads = threads
        config.spectral.minFrequency = minFrequency
        config.spectral.maxFrequency = maxFrequency
        config.spectral.birdies = birdies.compactMap(Birdie.init(argument:))
        config.foldCount = fold
        config.maxCandidates = maxCandidates
        config.rfi = rfi.options
        config.ffa = ffa.options
        config.fft = !ffa.noFft
        let planner = FFTPlanner(rigor: fftRigor, wisdomPath: wisdom ?? defaultWisdomPath())
        let pipeline = SearchPipeline(configuration: config, planner: planner)
        let progress = ProgressLine(enabled: !quiet && isatty(STDERR_FILENO) != 0)
        let started = Date()
        var report: SearchReport
        var described: ObservationSummary?
        var sampleTime = 0.0, samples = 0, frequencyMHz: Double?
        do {
            let ext = (file as NSString).pathExtension.lowercased()
            if ["tim", "dat", "inf"].contains(ext) {
                let series = try TimeSeriesFile.read(path: file)
                (sampleTime, samples, frequencyMHz) = (series.tsamp, series.samples.count, series.frequencyMHz)
                report = try pipeline.search(series) { progress.update($0) }
            } else {
                let reader = try ObservationFile.open(file)
                described = ObservationSummary(reader)
                (sampleTime, samples, frequencyMHz) = (reader.sampleTime, reader.spectrumCount, described?.lowestFrequencyMHz)
                let mask = try rfi.mask.map { try RFIMask.read(from: $0) }
                if let mask, let path = rfi.mask { try mask.check(matches: reader, file: path) }
                report = try pipeline.search(reader, mask: mask) { progress.update($0) }
                if diagnose > 0 && !report.candidates.isEmpty {
                    // Folded from the data as searched: cleaned the same way (the mask measured again).
                    try reader.seek(toSpectrum: 0)
                    let cleaned = try SearchPipeline.clean(reader, options: rfi.options, mask: mask, planner: planner)
                    try CandidateDiagnosis.diagnose(&report.candidates, source: cleaned ?? reader, observation: reader.info, top: diagnose) {
                        progress.update($0)
                    }
                }
            }
        } catch {
            progress.finish()
            throw error
        }
        progress.finish()
        try? planner.saveWisdom()
        let observation = described?.info
        if let matcher = try known.matcher() {
            if let observation, let ra = observation.raDegrees, let dec = observation.decDegrees {
                matcher.annotate(&report.candidates, raDegrees: ra, decDegrees: dec, mjd: observation.mjd, duration: report.duration)
            } else if !quiet {
                printError("\(file): no pointing in the header, so no candidate is matched against the catalogue")
            }
        }
        let elapsed = Date().timeIntervalSince(started)
        switch format {
        case .json:
            if !quiet { printError(summary(report, observation: observation, elapsed: elapsed)) }
            try printJSON(SearchOutput(file: file, observation: described, report: report))
        case .csv:
            if !quiet { printError(summary(report, observation: observation, elapsed: elapsed)) }
            print(CandidateCSV.text(report.candidates), terminator: "")
        case .presto:
            if !quiet { printError(summary(report, observation: observation, elapsed: elapsed)) }
            let stem = ((file as NSString).lastPathComponent as NSString).deletingPathExtension
            let series = PrestoAccelFile.Series(stem: stem, object: observation?.source ?? stem, epochMJD: observation?.mjd ?? 0,
                                                bins: samples, sampleTime: sampleTime, frequencyMHz: frequencyMHz)
            for path in try CandidateOutput.writePresto(report.candidates, series: series, directory: outputDir) { print(path) }
        case .table:
            printTable(report, observation: observation, elapsed: elapsed)
        }
    }

    /// One line on what was searched: DM and acceleration trials, series, time, masked channels.
    private func summary(_ report: SearchReport, observation: ObservationInfo?, elapsed: Double) -> String {
        let plan = report.dmPlan.trials
        let acceleration = report.accelerationTrials > 1
            ? String(format: "%d acceleration trials (step %.3g m/s^2)", report.accelerationTrials, report.accelerationStep)
            : "1 acceleration trial"
        let line = String(format: "%@: %.1f s observed; %d DM trials (%.2f to %.2f), %@, %d series searched in %.1f s; %d channel(s) masked",
            (file as NSString).lastPathComponent, report.duration, plan.count, plan.first?.dm ?? 0, plan.last?.dm ?? 0,
            acceleration, report.seriesSearched, elapsed, report.maskedChannels)
        var lines = [line]
        if let observation { lines.append("\(observation.format == "psrfits" ? "PSRFITS" : "SIGPROC"): \(observation.summary)") }
        if let rfi = report.rfi { lines.append(rfi.summary) }
        return lines.joined(separator: "\n")
    }

    private func printTable(_ report: SearchReport, observation: ObservationInfo?, elapsed: Double) {
        print(summary(report, observation: observation, elapsed: elapsed))
        guard !report.candidates.isEmpty else {
            print("No candidates at or above sigma \(sigma).")
            return
        }
        print("  #    period_ms   freq_hz      dm   sigma  harm  accel   snr_fold  chi2_red  dm_hits  quality  found            known")
        for (i, c) in report.candidates.enumerated() {
            let quality = c.quality.map { String(format: "%7.2f", $0.score) } ?? "      -"
            print(String(format: "%3d %12.6f %9.4f %7.2f %7.2f %5d %6.1f %9.1f %9.2f %8d  ",
                i + 1, c.periodS * 1000, c.frequencyHz, c.dm, c.sigma, c.harmonics, c.accelMS2, c.snrFolded,
                c.reducedChiSquare, c.dmHits) + quality + "  " + c.foundBy.leftAligned(15) + "  " + c.knownLabel)
        }
    }
}

extension Candidate {
    /// The table's `known` column: the catalogued pulsar and the ratio, or `-`.
    var knownLabel: String { knownPulsar.map { "\($0.name) (\($0.ratio))" } ?? "-" }

    /// The table's `found` column: `fft`, or `ffa (duty D)` with the FFA's duty cycle.
    var foundBy: String { dutyCycle.map { String(format: "ffa (duty %.3f)", $0) } ?? (method ?? .fft).rawValue }
}

func defaultWisdomPath() -> String {
    let home = ProcessInfo.processInfo.environment["XDG_CACHE_HOME"]
        ?? (NSHomeDirectory() as NSString).appendingPathComponent(".cache")
    return (home as NSString).appendingPathComponent("xunxing/fftw-wisdom")
}

extension FFTRigor: ExpressibleByArgument {}
