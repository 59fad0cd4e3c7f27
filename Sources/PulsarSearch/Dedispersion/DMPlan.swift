import Foundation

/// DM trials for a search, planned as PRESTO's DDplan does: the DM step keeps the smearing from a
/// half-step DM error across the band at one (effective) sample; once the smearing inside one
/// channel exceeds twice the effective sample time, the data are downsampled by two more, since
/// finer time resolution no longer helps.
public struct DMPlan: Sendable, Equatable, Codable {
    /// One DM trial.
    public struct Trial: Sendable, Equatable, Codable {
        /// Dispersion measure, pc cm^-3.
        public var dm: Double
        /// Time downsampling factor for this trial.
        public var downsample: Int
    }

    /// Trials in increasing DM.
    public let trials: [Trial]

    /// The "nice" DM steps DDplan chooses from, pc cm^-3.
    static let steps: [Double] = [0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 3, 5, 10, 20, 30, 50, 100, 200, 300]

    /// Plans trials from `dmMin` to `dmMax` (inclusive, the last trial at or past `dmMax`).
    /// `maxDownsample` caps time downsampling (1 disables it).
    public init(geometry: BandGeometry, dmMin: Double, dmMax: Double, maxDownsample: Int = 64) {
        precondition(dmMax >= dmMin && dmMin >= 0)
        let tsamp = geometry.sampleTime
        let delayPerDM = geometry.delayPerDM
        let smearPerDM = Dispersion.channelSmearing(
            dm: 1, frequency: geometry.centreFrequency, channelWidth: geometry.channelWidth)
        func stage(_ downsample: Int) -> (step: Double, switchDM: Double) {
            let dtEff = tsamp * Double(downsample)
            let ideal = delayPerDM > 0 ? 2 * dtEff / delayPerDM : .infinity
            let step = Self.steps.last(where: { $0 <= ideal }) ?? Self.steps[0]
            let canDownsample = downsample * 2 <= maxDownsample && smearPerDM > 0
            return (step, canDownsample ? 2 * dtEff / smearPerDM : .infinity)
        }
        var trials: [Trial] = []
        var dm = dmMin
        var downsample = 1
        let epsilon = 1e-9
        while true {
            var (step, switchDM) = stage(downsample)
            while dm >= switchDM {
                downsample *= 2
                (step, switchDM) = stage(downsample)
            }
            repeat {
                trials.append(Trial(dm: (dm * 1e6).rounded() / 1e6, downsample: downsample))
                dm += step
            } while dm <= dmMax + epsilon && dm < switchDM
            if dm > dmMax + epsilon { break }
        }
        self.trials = trials
    }

    /// Creates a plan from explicit trials (a single DM for a dedispersed series, for example).
    public init(trials: [Trial]) { self.trials = trials }

    /// The largest DM worth searching in an observation of `duration` seconds: the one whose delay
    /// across the band is half the observation, capped at `cap`.
    public static func defaultMaximum(geometry: BandGeometry, duration: Double, cap: Double = 1000) -> Double {
        let perDM = geometry.delayPerDM
        guard perDM > 0 else { return 0 }
        return min(cap, 0.5 * duration / perDM)
    }

    /// Consecutive runs of trials sharing a downsampling factor.
    public var stages: [(downsample: Int, trials: Range<Int>)] {
        var result: [(Int, Range<Int>)] = []
        var start = 0
        for i in 1...trials.count where i == trials.count || trials[i].downsample != trials[start].downsample {
            result.append((trials[start].downsample, start..<i))
            start = i
        }
        return result
    }
}
