import Foundation

/// DM trials for a search, planned as PRESTO's DDplan does, with the downsampling held to an S/N
/// budget: a narrow pulse keeps at least 95% of the S/N it has at full resolution.
///
/// With `dt` the sample time, `ds` the downsampling, `dt_eff = ds dt`, `k` the dispersion constant,
/// `f_lo`, `f_hi`, `f_c` the lowest, highest and centre channel frequencies and `df` the channel width:
///
/// - **DM step.** A DM error of half a step smears the pulse across the band by at most one
///   effective sample: `step <= 2 dt_eff / (k (f_lo^-2 - f_hi^-2))`, rounded down to a DDplan step
///   (0.01, 0.02, 0.03, 0.05, 0.1, ... 300).
/// - **Downsampling.** A pulse of no intrinsic width at DM `D`, dedispersed at full resolution at
///   its own DM, is `W(D) = sqrt(dt^2 + t_chan(D)^2)` wide, `t_chan(D) = 2 k D df / f_c^3` being the
///   smearing inside one channel. The data go from `ds` to `2 ds` (new sample time
///   `dt' = 2 ds dt`) at the first DM where `W(D) >= tol dt'`, `tol` = ``smearingTolerance`` = 4:
///   `D_switch(ds) = sqrt((tol dt')^2 - dt^2) / (2 k df / f_c^3)`.
///
/// Why `tol` = 4, not DDplan's 1.25-2 (it switches where the channel smearing is twice the rest of
/// the smearing at the current resolution) or the 1 this plan used before (channel smearing twice
/// the current sample time): a pulse's matched-filter S/N goes as `W^-1/2`. Dedispersed at `dt'` it
/// is about `sqrt(W^2 + n dt'^2)` wide: the average over `dt'` plus `n - 1` errors of delays
/// rounded to whole samples of `dt'`, each about as wide as a uniform sample. At a nominal DM of
/// the subband dedisperser the delays are rounded once, as in direct dedispersion (`n` = 2); at
/// other trials the subband stage's rounding and the DM error inside a subband add up to about
/// one more (`n` = 3; the bound is in `SubbandDedisperser`), and a pulse between two trials adds
/// a DM error of up to half a step. Keeping the S/N within 5% of full resolution needs
/// `W^2 + n dt'^2 <= W^2 / 0.95^4`: `W >= 3.0 dt'` for `n` = 2, `W >= 3.6 dt'` for `n` = 3.
/// Measured on simulated narrow pulses (`DMPlanSensitivityTests`, 64 and 1024 channels, at every
/// downsampled stage: the first trial, the trial half a nominal spacing from its nominal DM early
/// in the stage and in its middle, and halfway to a neighbouring trial): with `tol` = 4,
/// 0.952-0.982 of the S/N of direct dedispersion at full resolution at the exact DM (0.975-0.982
/// at the first trials, rounded once); the lowest are halfway between two trials early in a
/// stage. Smaller tolerances, lowest ratio on 64 / 1024 channels: 3.9, 0.953 / 0.954; 3.8, 0.950
/// / 0.952; 3.5, 0.948 / 0.950; 3, 0.938 / 0.943; 2, 0.860 / 0.903; 1.5, 0.818 / 0.825; 1.25,
/// 0.768 / 0.812 (the last five without the early points). Even at the first trials, rounded
/// once, `tol` = 3 keeps only 0.954-0.968 and 2 keeps 0.905-0.928: DDplan's tolerances cost a
/// narrow pulse 5-20% of its S/N. The old rule kept 0.709-0.844. The price is trials: 1024
/// channels of 0.29 MHz at 1.2-1.5 GHz and 64 us, DM 0-1000, need 7573 trials (5144 at full
/// resolution, to DM 514) instead of 3772 (1296, to DM 130), and about 3.3 times the work
/// (trials / downsampling: 6358 against 1956); `tol` = 3.8 would save 2% of the trials (7413).
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

    /// Downsampling to a sample time `dt'` starts where a narrow pulse's full-resolution width
    /// `sqrt(dt^2 + t_chan^2)` reaches this many `dt'` (see the type's documentation).
    public static let smearingTolerance: Double = 4

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
            guard downsample * 2 <= maxDownsample && smearPerDM > 0 else { return (step, .infinity) }
            // First DM where sqrt(dt^2 + t_chan^2) reaches tol times the next sample time.
            let width = Self.smearingTolerance * 2 * dtEff
            return (step, (width * width - tsamp * tsamp).squareRoot() / smearPerDM)
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
