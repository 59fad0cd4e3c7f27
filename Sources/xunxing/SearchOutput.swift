import Foundation
import PulsarSearch
import XunxingProtocol

/// What `xunxing search --format json` prints: the observation searched (its header facts), what
/// was searched, the interference taken out, and the candidates, strongest first.
///
/// ```json
/// {"file": "psr.fil",
///  "observation": {"format": "sigproc", "telescope": "Parkes", "source": "J0437-4715",
///                  "mjd": 60000.5, "ra_deg": 69.3, "dec_deg": -47.25, "sample_time_s": 6.4e-05,
///                  "samples": 131072, "channels": 1024, "lowest_frequency_mhz": 1182.0},
///  "duration_s": 8.4, "dm_trials": 120, "dm_min": 0, "dm_max": 80, "acceleration_trials": 1,
///  "series_searched": 120, "masked_channels": 3, "rfi": {...}, "candidates": [...]}
/// ```
/// `observation` is null for a dedispersed time series; `rfi` is null when nothing was cleaned.
struct SearchOutput: Encodable {
    var file: String
    var observation: ObservationSummary?
    var durationS: Double
    var dmTrials: Int
    var dmMin: Double
    var dmMax: Double
    var accelerationTrials: Int
    var seriesSearched: Int
    var maskedChannels: Int
    var rfi: RFIReport?
    var candidates: [Candidate]

    init(file: String, observation: ObservationSummary?, report: SearchReport) {
        self.file = file
        self.observation = observation
        durationS = report.duration
        dmTrials = report.dmPlan.trials.count
        dmMin = report.dmPlan.trials.first?.dm ?? 0
        dmMax = report.dmPlan.trials.last?.dm ?? 0
        accelerationTrials = report.accelerationTrials
        seriesSearched = report.seriesSearched
        maskedChannels = report.maskedChannels
        rfi = report.rfi
        candidates = report.candidates
    }

    enum CodingKeys: String, CodingKey {
        case file, observation, rfi, candidates
        case durationS = "duration_s", dmTrials = "dm_trials", dmMin = "dm_min", dmMax = "dm_max"
        case accelerationTrials = "acceleration_trials", seriesSearched = "series_searched", maskedChannels = "masked_channels"
    }

    /// Nulls are written, not left out, so that every document has every key.
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(file, forKey: .file)
        try c.encode(observation, forKey: .observation)
        try c.encode(durationS, forKey: .durationS)
        try c.encode(dmTrials, forKey: .dmTrials)
        try c.encode(dmMin, forKey: .dmMin)
        try c.encode(dmMax, forKey: .dmMax)
        try c.encode(accelerationTrials, forKey: .accelerationTrials)
        try c.encode(seriesSearched, forKey: .seriesSearched)
        try c.encode(maskedChannels, forKey: .maskedChannels)
        try c.encode(rfi, forKey: .rfi)
        try c.encode(candidates, forKey: .candidates)
    }
}
