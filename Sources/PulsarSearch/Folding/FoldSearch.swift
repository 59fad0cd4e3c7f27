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
    /// Coarse to fine: every 4th frequency and acceleration offset first, then, one axis at a
    /// time, every offset within 3 steps of the best (frequency, acceleration, frequency again).
    /// A step moves the ends of the observation by one profile bin, so a pulse 2 steps off is
    /// smeared by about 2 bins at the ends and still stands out. (Searching the frequency at the
    /// reference acceleration alone first is not enough: a pulse smeared by a wrong acceleration
    /// leaves the frequency's chi-square flat, and the search stalls at a wrong pair.)
    public static func optimise(_ cube: FoldCube, grid: Grid, profileBins: Int? = nil) -> FoldedProfile {
        let nb = cube.bins, nsub = cube.subintegrations
        // Each row twice over, so a rotation reads contiguous memory.
        var rows = [Double](repeating: 0, count: nsub * 2 * nb)
        var rowVariances = rows
        for s in 0..<nsub {
            for b in 0..<(2 * nb) {
                rows[s * 2 * nb + b] = cube.sums[s * nb + b % nb]
                rowVariances[s * 2 * nb + b] = cube.variances[s * nb + b % nb]
            }
        }
        let frequencies = grid.frequencyOffsets, accelerations = grid.accelerationOffsets
        var total = [Double](repeating: 0, count: nb)
        var variance = total
        var evaluated = [Bool](repeating: false, count: frequencies.count * accelerations.count)
        var best = (chi: -Double.infinity, i: frequencies.count / 2, k: accelerations.count / 2)
        rows.withUnsafeBufferPointer { rows in
            rowVariances.withUnsafeBufferPointer { rowVariances in
                total.withUnsafeMutableBufferPointer { total in
                    variance.withUnsafeMutableBufferPointer { variance in
                        func evaluate(_ i: Int, _ k: Int) {
                            guard i >= 0, i < frequencies.count, k >= 0, k < accelerations.count,
                                !evaluated[k * frequencies.count + i] else { return }
                            evaluated[k * frequencies.count + i] = true
                            let shifts = Self.shifts(
                                cube: cube, frequencyOffset: frequencies[i], accelerationOffset: accelerations[k])
                            total.update(repeating: 0)
                            variance.update(repeating: 0)
                            for s in 0..<nsub {
                                let d = ((shifts[s] % nb) + nb) % nb
                                let row = rows.baseAddress! + s * 2 * nb + d
                                let rowVariance = rowVariances.baseAddress! + s * 2 * nb + d
                                for b in 0..<nb {
                                    total[b] += row[b]
                                    variance[b] += rowVariance[b]
                                }
                            }
                            var chi = 0.0
                            for b in 0..<nb where variance[b] > 0 { chi += total[b] * total[b] / variance[b] }
                            if chi > best.chi { best = (chi, i, k) }
                        }
                        let centre = frequencies.count / 2, middle = accelerations.count / 2
                        for k in stride(from: middle % 4, to: accelerations.count, by: 4) {
                            for i in stride(from: centre % 4, to: frequencies.count, by: 4) { evaluate(i, k) }
                        }
                        for i in (best.i - 3)...(best.i + 3) { evaluate(i, best.k) }
                        let atFrequency = best.i
                        for k in (best.k - 3)...(best.k + 3) { evaluate(atFrequency, k) }
                        let atAcceleration = best.k
                        for i in (best.i - 3)...(best.i + 3) { evaluate(i, atAcceleration) }
                    }
                }
            }
        }
        let df = frequencies[best.i], da = accelerations[best.k]
        let out = profileBins ?? nb
        precondition(out > 0 && nb % out == 0, "profile bins must divide the cube's")
        let sums = cube.profile(shifts: shifts(cube: cube, frequencyOffset: df, accelerationOffset: da))
        return FoldedProfile(
            frequency: cube.frequency + df, acceleration: cube.acceleration + da, sums: sums.combined(nb / out))
    }
}
