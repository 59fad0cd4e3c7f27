/// The period (and acceleration) search of a folded candidate, as prepfold does it: the
/// sub-integrations of one ``FoldCube`` are rotated by whole phase bins and added for every trial
/// frequency and acceleration offset, and the trial whose profile has the largest chi-square
/// against a flat one wins. The series is read once, to make the cube; each trial costs
/// sub-integrations x bins additions.
public enum FoldSearch {
    /// Trial offsets from the cube's reference.
    public struct Grid: Sendable, Equatable {
        /// Frequency offsets, Hz.
        public var frequencyOffsets: [Double]
        /// Acceleration offsets, m/s^2.
        public var accelerationOffsets: [Double]
    }

    /// Frequency offsets within `frequencySpan` Fourier bins (1/T) of the reference, in steps that
    /// move the ends of the observation by one profile bin against each other (1 / (bins T)); and
    /// acceleration offsets within `accelerationSpan` m/s^2, in steps that move the ends by one
    /// profile bin against the middle (8c / (f T^2 bins)), at most `maxAccelerationSteps` each side.
    /// `profileBins` is the resolution of the final profile (default: the cube's bins).
    public static func grid(
        cube: FoldCube, profileBins: Int? = nil, frequencySpan: Double = 1, accelerationSpan: Double = 0,
        maxAccelerationSteps: Int = 16
    ) -> Grid {
        let t = cube.duration, nb = Double(profileBins ?? cube.bins)
        guard t > 0 else { return Grid(frequencyOffsets: [0], accelerationOffsets: [0]) }
        let fStep = 1 / (nb * t)
        let fCount = Int((frequencySpan * nb).rounded(.up))
        let frequencies = (-fCount...fCount).map { Double($0) * fStep }
        var accelerations: [Double] = [0]
        if accelerationSpan > 0, cube.frequency > 0 {
            let aStep = 8 * AccelerationPlan.speedOfLight / (cube.frequency * t * t * nb)
            let aCount = min(maxAccelerationSteps, Int((accelerationSpan / aStep).rounded(.up)))
            let spacing = aCount > 0 ? accelerationSpan / Double(aCount) : 0
            accelerations = aCount > 0 ? (-aCount...aCount).map { Double($0) * spacing } : [0]
        }
        return Grid(frequencyOffsets: frequencies, accelerationOffsets: accelerations)
    }

    /// Rotation of each sub-integration that aligns a signal at `frequencyOffset` and
    /// `accelerationOffset` from the cube's reference: its phase drifts by
    /// df t - f da t^2 / 2c turns at time t from the middle.
    public static func shifts(cube: FoldCube, frequencyOffset: Double, accelerationOffset: Double) -> [Int] {
        let quadratic = cube.frequency * accelerationOffset / (2 * AccelerationPlan.speedOfLight)
        let nb = Double(cube.bins)
        return cube.midTimes.map { t in
            let drift = frequencyOffset * t - quadratic * t * t
            return Int((-drift * nb).rounded())
        }
    }

    /// The best trial of `grid` and its profile, in `profileBins` bins (a divisor of the cube's
    /// bins: each profile bin adds `cube.bins / profileBins` neighbouring bins of the cube, so
    /// rotations by whole cube bins misalign sub-integrations by less than a profile bin).
    ///
    /// Coarse to fine: every 4th frequency and acceleration offset first, on the cube coarsened to
    /// the profile's bins and (from 16 sub-integrations) sub-integrations 4 times as long, which
    /// costs an eighth or less per trial and blurs by under a profile bin where a coarse trial
    /// is 2 steps off; then, on the full cube, one axis at a time, every offset within 3 steps of
    /// the best (frequency, acceleration, frequency again). A step moves the ends of the
    /// observation by one profile bin, so a pulse 2 steps off is smeared by about 2 bins at the
    /// ends and still stands out. (Searching the frequency at the reference acceleration alone
    /// first is not enough: a pulse smeared by a wrong acceleration leaves the frequency's
    /// chi-square flat, and the search stalls at a wrong pair.)
    public static func optimise(_ cube: FoldCube, grid: Grid, profileBins: Int? = nil) -> FoldedProfile {
        let out = profileBins ?? cube.bins
        precondition(out > 0 && cube.bins % out == 0, "profile bins must divide the cube's")
        let frequencies = grid.frequencyOffsets, accelerations = grid.accelerationOffsets
        let coarseCube = cube.coarsened(subintegrationFactor: cube.subintegrations >= 16 ? 4 : 1, binFactor: cube.bins / out)
        let coarse = RotationSearch(coarseCube, grid: grid)
        let centre = frequencies.count / 2, middle = accelerations.count / 2
        for k in stride(from: middle % 4, to: accelerations.count, by: 4) {
            for i in stride(from: centre % 4, to: frequencies.count, by: 4) { coarse.evaluate(i, k) }
        }
        let fine = RotationSearch(cube, grid: grid)
        fine.evaluate(coarse.best.i, coarse.best.k)
        for i in (fine.best.i - 3)...(fine.best.i + 3) { fine.evaluate(i, fine.best.k) }
        let atFrequency = fine.best.i
        for k in (fine.best.k - 3)...(fine.best.k + 3) { fine.evaluate(atFrequency, k) }
        let atAcceleration = fine.best.k
        for i in (fine.best.i - 3)...(fine.best.i + 3) { fine.evaluate(i, atAcceleration) }
        let df = frequencies[fine.best.i], da = accelerations[fine.best.k]
        let sums = cube.profile(shifts: shifts(cube: cube, frequencyOffset: df, accelerationOffset: da))
        return FoldedProfile(
            frequency: cube.frequency + df, acceleration: cube.acceleration + da, sums: sums.combined(cube.bins / out))
    }
}

/// The chi-square of a cube's rotated-and-added profile at the trials of a grid, each trial
/// evaluated once, and the best so far. Each row is kept twice over, so that a rotation reads
/// contiguous memory.
private final class RotationSearch {
    let cube: FoldCube
    let grid: FoldSearch.Grid
    private let rows: UnsafeMutableBufferPointer<Double>
    private let rowVariances: UnsafeMutableBufferPointer<Double>
    private let total: UnsafeMutableBufferPointer<Double>
    private let variance: UnsafeMutableBufferPointer<Double>
    private var evaluated: [Bool]
    private(set) var best: (chi: Double, i: Int, k: Int)

    init(_ cube: FoldCube, grid: FoldSearch.Grid) {
        self.cube = cube
        self.grid = grid
        let nb = cube.bins, nsub = cube.subintegrations
        rows = .allocate(capacity: nsub * 2 * nb)
        rowVariances = .allocate(capacity: nsub * 2 * nb)
        for s in 0..<nsub {
            for b in 0..<(2 * nb) {
                rows[s * 2 * nb + b] = cube.sums[s * nb + b % nb]
                rowVariances[s * 2 * nb + b] = cube.variances[s * nb + b % nb]
            }
        }
        total = .allocate(capacity: nb)
        variance = .allocate(capacity: nb)
        evaluated = [Bool](repeating: false, count: grid.frequencyOffsets.count * grid.accelerationOffsets.count)
        best = (-Double.infinity, grid.frequencyOffsets.count / 2, grid.accelerationOffsets.count / 2)
    }

    deinit {
        rows.deallocate()
        rowVariances.deallocate()
        total.deallocate()
        variance.deallocate()
    }

    /// Evaluates frequency offset `i` at acceleration offset `k` (outside the grid or done: nothing).
    func evaluate(_ i: Int, _ k: Int) {
        let nf = grid.frequencyOffsets.count
        guard i >= 0, i < nf, k >= 0, k < grid.accelerationOffsets.count, !evaluated[k * nf + i] else { return }
        evaluated[k * nf + i] = true
        // In a short observation a low frequency's grid reaches below zero: no signal is there.
        guard cube.frequency + grid.frequencyOffsets[i] > 0 else { return }
        let shifts = FoldSearch.shifts(
            cube: cube, frequencyOffset: grid.frequencyOffsets[i], accelerationOffset: grid.accelerationOffsets[k])
        let nb = cube.bins
        total.update(repeating: 0)
        variance.update(repeating: 0)
        let t = total.baseAddress!, v = variance.baseAddress!
        for s in 0..<cube.subintegrations {
            let d = ((shifts[s] % nb) + nb) % nb
            let row = rows.baseAddress! + s * 2 * nb + d
            let rowVariance = rowVariances.baseAddress! + s * 2 * nb + d
            for b in 0..<nb {
                t[b] += row[b]
                v[b] += rowVariance[b]
            }
        }
        var chi = 0.0
        for b in 0..<nb where v[b] > 0 { chi += t[b] * t[b] / v[b] }
        if chi > best.chi { best = (chi, i, k) }
    }
}
