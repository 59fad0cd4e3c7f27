import Foundation

/// Spectra around detections, with their sigma, by detection.
typealias Excerpts = [SeriesCandidate.Key: (sigma: Double, spectrum: SpectrumExcerpt)]

/// The whole search of one observation: channel weighting, DM planning, subband dedispersion,
/// Fourier search of every DM and acceleration trial, sifting, and folding of the survivors.
public final class SearchPipeline: @unchecked Sendable {
    public let configuration: SearchConfiguration
    public let planner: FFTPlanner
    private let progressLock = NSLock()

    public init(configuration: SearchConfiguration, planner: FFTPlanner) {
        self.configuration = configuration
        self.planner = planner
    }

    /// Searches filterbank spectra.
    public func search(
        _ raw: SpectrumSource, mask given: RFIMask? = nil, progress: @escaping @Sendable (SearchProgress) -> Void = { _ in }
    ) throws -> SearchReport {
        progress(SearchProgress(phase: .measuring, completed: 0, total: 1))
        let cleaned = try Self.clean(raw, options: configuration.rfi, mask: given, planner: planner)
        let source: SpectrumSource = cleaned ?? raw
        let geometry = source.geometry
        let duration = Double(source.spectrumCount) * source.sampleTime
        let dmMax = configuration.dmMax ?? DMPlan.defaultMaximum(geometry: geometry, duration: duration)
        let plan = DMPlan(
            geometry: geometry, dmMin: configuration.dmMin, dmMax: max(configuration.dmMin, dmMax),
            maxDownsample: configuration.maxDownsample)
        let weights = try ChannelWeights.measure(source)
        // Periodic interference of the DM 0 spectrum, zapped from every trial with its harmonics.
        let birdies = try Self.birdies(
            of: cleaned, options: configuration.rfi, weights: weights, dms: plan.trials.map(\.dm), lowDM: configuration.sift.minDM,
            minFrequency: configuration.spectral.minFrequency, planner: planner)
        var adjusted = configuration
        adjusted.spectral.birdies += birdies
        let pipeline = birdies.isEmpty ? self : SearchPipeline(configuration: adjusted, planner: planner)
        var report = try pipeline.searchPrepared(source, plan: plan, weights: weights, duration: duration, progress: progress)
        // The search has read (and so cleaned) every block: the cleaning's report costs no pass of its own.
        report.rfi = try cleaned?.report()
        report.rfi?.birdies = birdies
        return report
    }

    /// The search once the data are cleaned, planned and weighted.
    private func searchPrepared(
        _ source: SpectrumSource, plan: DMPlan, weights: ChannelWeights, duration: Double,
        progress: @escaping @Sendable (SearchProgress) -> Void
    ) throws -> SearchReport {
        let dedisperser = SubbandDedisperser(source: source, weights: weights, subbands: configuration.subbands)

        var found: [SeriesCandidate] = []
        var excerpts: Excerpts = [:]
        var seriesSearched = 0
        var trialsDone = 0
        let totalTrials = plan.trials.count
        for stage in plan.stages {
            let length = source.spectrumCount / stage.downsample
            let perBatch = max(1, configuration.memoryBudget / max(1, length * MemoryLayout<Float>.size))
            var start = stage.trials.lowerBound
            while start < stage.trials.upperBound {
                let end = min(stage.trials.upperBound, start + perBatch)
                let dms = plan.trials[start..<end].map(\.dm)
                let done = trialsDone
                let block = try dedisperser.dedisperse(dms: dms, downsample: stage.downsample) { t, total in
                    progress(SearchProgress(
                        phase: .dedispersing, completed: done * total + t * dms.count, total: totalTrials * total))
                }
                let (candidates, searched, spectra) = searchBlock(block, firstIndex: start, duration: duration) { n in
                    progress(SearchProgress(phase: .searching, completed: done + n, total: totalTrials))
                }
                found += candidates
                excerpts.merge(spectra) { a, _ in a }
                Self.prune(&excerpts, keeping: 4 * configuration.maxCandidates * max(1, configuration.foldCount))
                seriesSearched += searched
                trialsDone += dms.count
                start = end
            }
        }

        progress(SearchProgress(phase: .sifting, completed: 0, total: 1))
        let sifted = CandidateSifter(parameters: configuration.siftParameters)
            .sift(found, duration: duration, dmTrialCount: plan.trials.count)
        let folded = try fold(sifted, plan: plan, dedisperser: dedisperser, excerpts: excerpts, progress: progress)
        let accelerations = accelerationPlan(duration: duration, sampleTime: source.sampleTime)
        return SearchReport(
            candidates: folded, dmPlan: plan,
            accelerationTrials: accelerations.trials.count, accelerationStep: accelerations.step,
            seriesSearched: seriesSearched, rawCandidates: found.count, maskedChannels: weights.maskedCount,
            duration: duration)
    }

    /// `source` cleaned of interference with `mask` (checked against it), or with a mask measured
    /// from it when `options` say `auto`; nil when there is nothing to do.
    public static func clean(
        _ source: SpectrumSource, options: RFIOptions, mask: RFIMask?, planner: FFTPlanner
    ) throws -> CleanedSpectra? {
        if let mask {
            try mask.check(matches: source, file: "mask")
            return CleanedSpectra(source: source, mask: mask)
        }
        guard options.mode == .auto else { return nil }
        return CleanedSpectra(source: source, mask: try RFIMasker(options: options, planner: planner).measure(source))
    }

    /// The automatic birdies of `cleaned` data (``BirdieFinder``, at `options.birdieSigma`): none when
    /// the data were not cleaned or the options turn them off.
    public static func birdies(
        of cleaned: CleanedSpectra?, options: RFIOptions, weights: ChannelWeights, dms: [Double], lowDM: Double,
        minFrequency: Double, planner: FFTPlanner
    ) throws -> [Birdie] {
        guard let cleaned, options.birdieSigma > 0 else { return [] }
        var finder = BirdieFinder(planner: planner)
        finder.sigma = options.birdieSigma
        finder.lowDM = lowDM
        finder.minFrequency = minFrequency
        return try finder.find(in: cleaned, weights: weights, dms: dms)
    }

    /// Searches one dedispersed time series at its recorded DM.
    public func search(
        _ series: TimeSeries, progress: @escaping @Sendable (SearchProgress) -> Void = { _ in }
    ) throws -> SearchReport {
        let block = DedispersedBlock(
            dms: [series.dm], downsample: 1, sampleTime: series.tsamp, length: series.samples.count,
            data: series.samples)
        let duration = series.duration
        let (found, searched, excerpts) = searchBlock(block, firstIndex: 0, duration: duration) { n in
            progress(SearchProgress(phase: .searching, completed: n, total: 1))
        }
        let plan = DMPlan(trials: [DMPlan.Trial(dm: series.dm, downsample: 1)])
        progress(SearchProgress(phase: .sifting, completed: 0, total: 1))
        let sifted = CandidateSifter(parameters: configuration.siftParameters).sift(found, duration: duration, dmTrialCount: 1)
        var candidates: [Candidate] = []
        let top = Array(sifted.prefix(configuration.maxCandidates))
        progress(SearchProgress(phase: .folding, completed: 0, total: top.count))
        let toFold = top.prefix(configuration.foldCount).map(\.best)
        let profiles = optimiseFolds(toFold, in: block, series: { _ in 0 }, duration: duration)
        for (i, s) in top.enumerated() {
            var candidate = Self.candidate(s, profile: i < profiles.count ? profiles[i] : nil)
            candidate.spectrum = excerpts[s.best.key]?.spectrum
            candidates.append(candidate)
        }
        let accelerations = accelerationPlan(duration: duration, sampleTime: series.tsamp)
        return SearchReport(
            candidates: candidates, dmPlan: plan,
            accelerationTrials: accelerations.trials.count, accelerationStep: accelerations.step,
            seriesSearched: searched, rawCandidates: found.count, maskedChannels: 0, duration: duration)
    }

    /// Folds the strongest sifted candidates from the original spectra and fits their DMs: what
    /// the coordinator does after merging the results of many work units.
    /// `weights`: the source's channel weights when the caller has measured them already.
    public func confirm(
        _ sifted: [SiftedCandidate], source: SpectrumSource, plan: DMPlan, weights: ChannelWeights? = nil
    ) throws -> [Candidate] {
        let weights = try weights ?? ChannelWeights.measure(source)
        let dedisperser = SubbandDedisperser(source: source, weights: weights, subbands: configuration.subbands)
        return try fold(sifted, plan: plan, dedisperser: dedisperser, excerpts: [:], progress: { _ in })
    }

    /// Accelerations the fold searches about a candidate's: half the spacing of the acceleration
    /// trials it was found in, and at least what drifts its frequency by 2 Fourier bins.
    static func foldAccelerationSpan(_ frequency: Double, duration: Double, trialSpacing: Double) -> Double {
        max(trialSpacing / 2, Folder.driftAcceleration(frequency: frequency, duration: duration, bins: 2))
    }

    /// Folds and refines each detection from series `series(j)` of `block`, in parallel, searching
    /// the accelerations about each that the acceleration trials of `block`'s sampling leave between them.
    private func optimiseFolds(
        _ detections: [SeriesCandidate], in block: DedispersedBlock, series: @escaping @Sendable (Int) -> Int, duration: Double
    ) -> [FoldedProfile] {
        let trialSpacing = accelerationPlan(duration: duration, sampleTime: block.sampleTime).step
        // One pyramid per series: detections in the same series share its summed levels.
        var pyramids: [Int: SeriesPyramid] = [:]
        for j in detections.indices where pyramids[series(j)] == nil { pyramids[series(j)] = SeriesPyramid() }
        return parallelMap(count: detections.count, threads: configuration.threads) { j in
            block.withSeries(series(j)) {
                Folder.optimise(
                    $0, tsamp: block.sampleTime, frequency: detections[j].frequency, acceleration: detections[j].acceleration,
                    maxBins: Self.foldBins(dutyCycle: detections[j].dutyCycle),
                    accelerationSpan: Self.foldAccelerationSpan(detections[j].frequency, duration: duration, trialSpacing: trialSpacing),
                    pyramid: pyramids[series(j)])
            }
        }
    }

    /// Most bins of a candidate's fold: 64, or for an FFA detection enough for 4 bins across its
    /// pulse (at most 256), so that a narrow pulse of a long period is not smeared by the fold.
    static func foldBins(dutyCycle: Double?) -> Int {
        guard let dutyCycle, dutyCycle > 0 else { return 64 }
        return min(256, max(64, Int((4 / dutyCycle).rounded(.up))))
    }

    func accelerationPlan(duration: Double, sampleTime: Double) -> AccelerationPlan {
        AccelerationPlan(
            maxAcceleration: configuration.accelMax, duration: duration, sampleTime: sampleTime,
            highestFrequency: configuration.spectral.maxFrequency.map { $0 * Double(configuration.harmonics) },
            drift: configuration.accelerationDrift)
    }

    /// Searches every series of `block` at every acceleration trial, in parallel. Returns the
    /// detections, the series searched, and the spectrum around each detection at or above the
    /// reporting threshold (taken from the searched spectrum, for the candidates' plots).
    private func searchBlock(
        _ block: DedispersedBlock, firstIndex: Int, duration: Double, progress: @escaping (Int) -> Void
    ) -> ([SeriesCandidate], Int, Excerpts) {
        let accel = accelerationPlan(duration: duration, sampleTime: block.sampleTime)
        let threads = max(1, configuration.threads)
        let searchers = (0..<threads).map { _ in PeriodicitySearcher(planner: planner, parameters: configuration.spectral) }
        var results = [[SeriesCandidate]](repeating: [], count: block.dms.count)
        var spectra = [Excerpts](repeating: [:], count: block.dms.count)
        let reporting = configuration.sift.sigmaThreshold
        let lock = NSLock()
        nonisolated(unsafe) var completed = 0
        results.withUnsafeMutableBufferPointer { out in
          spectra.withUnsafeMutableBufferPointer { outSpectra in
            parallelFor(count: block.dms.count, threads: threads) { i, worker in
                var mine: [SeriesCandidate] = []
                var excerpts: Excerpts = [:]
                block.withSeries(i) { series in
                    if let ffa = configuration.ffa {
                        mine += FFASearch(options: ffa, sigmaThreshold: configuration.spectral.sigmaThreshold)
                            .search(series, sampleTime: block.sampleTime, dm: block.dms[i], dmIndex: firstIndex + i)
                    }
                    for a in (configuration.fft ? accel.trials : []) {
                        let found = searchers[worker].search(
                            samples: series, tsamp: block.sampleTime, acceleration: a,
                            trialsPerSeries: accel.trials.count, dm: block.dms[i], dmIndex: firstIndex + i)
                        for c in found where c.sigma >= reporting {
                            if let spectrum = searchers[worker].excerpt(frequency: c.frequency) {
                                excerpts[c.key] = (c.sigma, spectrum)
                            }
                        }
                        mine += found
                    }
                }
                out[i] = mine
                outSpectra[i] = excerpts
                lock.lock()
                completed += 1
                let n = completed
                progress(n)
                lock.unlock()
            }
          }
        }
        var excerpts: Excerpts = [:]
        for s in spectra { excerpts.merge(s) { a, _ in a } }
        return (results.flatMap { $0 }, block.dms.count * accel.trials.count, excerpts)
    }

    /// Keeps the spectra of the `keeping` strongest detections once there are twice as many: a
    /// candidate whose spectrum was dropped gets one by an FFT when it is folded.
    static func prune(_ excerpts: inout Excerpts, keeping: Int) {
        guard excerpts.count > 2 * keeping else { return }
        let kept = excerpts.sorted { $0.value.sigma > $1.value.sigma }.prefix(keeping)
        excerpts = Dictionary(uniqueKeysWithValues: kept.map { ($0.key, $0.value) })
    }

    /// Folds the strongest sifted candidates at their best DM (one dedispersion pass per
    /// downsampling factor involved) and converts everything to `Candidate`s.
    private func fold(
        _ sifted: [SiftedCandidate], plan: DMPlan, dedisperser: SubbandDedisperser,
        excerpts: Excerpts, progress: @escaping @Sendable (SearchProgress) -> Void
    ) throws -> [Candidate] {
        let top = Array(sifted.prefix(configuration.maxCandidates))
        let toFold = top.prefix(configuration.foldCount)
        var profiles = [Int: FoldedProfile]()
        var byDownsample: [Int: [Int]] = [:]
        for (i, s) in toFold.enumerated() {
            byDownsample[plan.trials[s.best.dmIndex].downsample, default: []].append(i)
        }
        var folded = 0
        var refined = [Int: DMFoldSearch.Result?]()
        var spectra = [Int: SpectrumExcerpt?]()
        for (downsample, indices) in byDownsample.sorted(by: { $0.key < $1.key }) {
            let block = try dedisperser.dedisperse(dms: indices.map { toFold[$0].best.dm }, downsample: downsample)
            let duration = Double(dedisperser.source.spectrumCount) * dedisperser.source.sampleTime
            let groupProfiles = optimiseFolds(indices.map { toFold[$0].best }, in: block, series: { $0 }, duration: duration)
            for (j, i) in indices.enumerated() {
                let best = toFold[i].best
                let profile = groupProfiles[j]
                profiles[i] = profile
                let excerpt: SpectrumExcerpt? = excerpts[best.key]?.spectrum ?? block.withSeries(j) {
                    SpectrumExcerpt.make($0, tsamp: block.sampleTime, frequency: profile.frequency, planner: planner)
                }
                spectra[i] = excerpt
                if profile.snr >= 5, refined.count < configuration.dmRefinementCount {
                    let dms = toFold[i].dms
                    var folded = best
                    folded.frequency = profile.frequency
                    folded.acceleration = profile.acceleration
                    // The DMs the signal was detected at, and out to the next trial on each side.
                    let lowest = dms.min() ?? best.dm, highest = dms.max() ?? best.dm
                    let below = plan.trials.last { $0.dm < lowest }?.dm ?? lowest
                    let above = plan.trials.first { $0.dm > highest }?.dm ?? highest
                    refined[i] = try refineDM(
                        folded, span: max(0, below)...above, frequency: profile.frequency,
                        downsample: downsample, dedisperser: dedisperser)
                }
                folded += 1
                progress(SearchProgress(phase: .folding, completed: folded, total: toFold.count))
            }
        }
        return top.enumerated().map { i, s in
            var c = Self.candidate(s, profile: profiles[i])
            c.spectrum = spectra[i] ?? nil
            if let fit = refined[i] ?? nil { c.dm = fit.dm; c.dmUncertainty = fit.uncertainty }
            return c
        }
    }

    /// The DM found by shifting and adding the candidate's subband folds over `span` (the DM
    /// trials it was detected at and their neighbours), when it is measured (finite uncertainty).
    private func refineDM(
        _ best: SeriesCandidate, span: ClosedRange<Double>, frequency: Double, downsample: Int,
        dedisperser: SubbandDedisperser
    ) throws -> DMFoldSearch.Result? {
        let subbands = SubbandDedisperser(
            source: dedisperser.source, weights: dedisperser.weights,
            subbands: min(8, dedisperser.source.channelCount))
        let (block, delayPerDM) = try subbands.dedisperseSubbands(dm: best.dm, downsample: downsample)
        guard let found = DMFoldSearch.search(
            subbands: block, delayPerDM: delayPerDM, dm: best.dm, frequency: frequency, acceleration: best.acceleration,
            span: span)
        else { return nil }
        return found.uncertainty.isFinite ? found : nil
    }

    static func candidate(_ s: SiftedCandidate, profile: FoldedProfile?) -> Candidate {
        let frequency = profile?.frequency ?? s.best.frequency
        return Candidate(
            periodS: 1 / frequency, frequencyHz: frequency, dm: s.best.dm, sigma: s.best.sigma,
            harmonics: s.best.harmonics, accelMS2: s.best.acceleration, snrFolded: profile?.snr ?? 0,
            reducedChiSquare: profile?.reducedChiSquare ?? 0, dmHits: s.dmIndices.count, power: s.best.power,
            profile: profile?.profile ?? [],
            dmCurve: zip(s.dms, s.sigmaByDM).map { Candidate.DMPoint(dm: $0, sigma: $1) }, dmIndex: s.best.dmIndex,
            method: s.best.method, dutyCycle: s.best.dutyCycle, harmonicMeasurements: s.best.harmonicMeasurements)
    }
}
