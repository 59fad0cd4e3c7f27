import PulsarSearch
import XunxingProtocol

/// What a cheater who read only a payload's header can report: one strong invented candidate and,
/// for every trial, the header's number of distinct bins with made-up powers, strongest first:
/// the right shape, none of the work. Used by the attack suite and the attack tests.
public enum ForgedResult {
    /// The invented candidate's frequency, Hz.
    public static let inventedFrequency = 123.456

    public static func withoutSearching(_ header: WorkUnitHeader) -> WorkUnitResult {
        let trials = header.trialCount
        let lowest = PeriodicitySearcher.searchedBins(
            samples: header.samplesPerSeries, tsamp: header.sampleTime, minFrequency: header.search.minFrequency).lowerBound
        let n = header.search.toplistSize
        let toplists = (0..<trials).map { t in
            SpectrumToplist(
                bins: (0..<n).map { lowest + 7 * $0 + t % 5 }, powers: (0..<n).map { Float(30 - $0) },
                fourierPowers: (0..<n).map { Double(header.samplesPerSeries) * Double(30 - $0) })
        }
        let candidate = SeriesCandidate(
            frequency: inventedFrequency, harmonics: 8, power: 500, sigma: 40, acceleration: 0, dm: header.dms[0],
            dmIndex: header.dmIndices[0])
        return WorkUnitResult(
            workUnitID: header.workUnitID, candidates: [candidate], toplists: toplists, cpuSeconds: header.estimatedCost,
            elapsedSeconds: header.estimatedCost, seriesSearched: trials, software: "xunxing-worker 0.1",
            // As many peaks as a search may measure: the forger would like the credit for them.
            peaksMeasured: 2 * header.search.maxCandidates * trials)
    }
}
