import Foundation

/// Candidate lists in the layout of PRESTO's `accelsearch` output, so that PRESTO's sifting
/// (`ACCEL_sift.py`, `sifting.candlist_from_candfile`) and people used to it can read ours.
///
/// One file per DM, named `STEM_DM<dm, 2 decimals>_ACCEL_<zmax>` as accelsearch names them. Each
/// holds the fundamentals table (3 header lines, then one line per candidate: Cand, Sigma, Summed
/// Power, Coherent Power, Num Harm, Period (ms), Frequency (Hz), FFT 'r' (bin), Freq Deriv (Hz/s),
/// FFT 'z' (bins), Accel (m/s^2), Notes; value(error) cells in the journal style, cells centred in
/// PRESTO's widths and joined by two spaces), two blank lines, the harmonics table (3 header
/// lines, then per candidate one line per summed harmonic: Cand (first line only), Harm, Sigma,
/// Power / Loc Pow, Raw Power, FFT 'r', Pred 'r', FFT 'z', Pred 'z', Phase, Centroid, Purity,
/// Notes), two blank lines, and the series' `.inf` text, from which sifting takes the
/// observation's length. Sifting reads each harmonic's power and phase (its cuts on stray
/// harmonic power) and the fundamental's.
///
/// Summed Power is the detection's; Coherent Power is ``HarmonicMeasurement/coherentPower(_:)``
/// of the measured harmonics. Each harmonic is measured at the detection's z (ours does not
/// optimise z per harmonic), so FFT 'z' is the predicted z. The uncertainties are Middleditch,
/// Deich & Kulkarni's as PRESTO applies them (Ransom, Eikenberry & Middleditch 2002):
/// sigma_r = 3 / (pi q sqrt(6 P)), sigma_z = 3 sqrt(10) / (pi q^2 sqrt(P)), q the purity (1 for the
/// fundamentals table, which uses P the summed power per harmonic); Notes carry the known pulsar a
/// candidate matched, if any.
///
/// Only candidates whose harmonics were measured (``Candidate/harmonicMeasurements``) can be
/// written: FFA detections and records from before the measurement are left out
/// (``isWritable(_:)``), since sifting needs every candidate's harmonics.
public enum PrestoAccelFile {
    /// The observation the candidates came from: its series length, name and header facts.
    public struct Series: Sendable {
        public var stem: String
        public var object: String
        public var epochMJD: Double
        public var bins: Int
        public var sampleTime: Double
        public var frequencyMHz: Double?

        public init(stem: String, object: String, epochMJD: Double, bins: Int, sampleTime: Double, frequencyMHz: Double?) {
            self.stem = stem
            self.object = object
            self.epochMJD = epochMJD
            self.bins = bins
            self.sampleTime = sampleTime
            self.frequencyMHz = frequencyMHz
        }

        /// Length of the observation, seconds.
        public var duration: Double { Double(bins) * sampleTime }
    }

    /// A candidate as sifting reads it back: the DM from the file name, and r and z from which it
    /// recomputes frequency (r / T).
    public struct Entry: Sendable, Equatable {
        public var number: Int
        public var dm: Double
        public var sigma: Double
        public var summedPower: Double
        public var coherentPower: Double
        public var harmonics: Int
        public var r: Double
        public var z: Double
        /// Frequency (Hz) and acceleration (m/s^2) as written, for checks.
        public var frequencyHz: Double
        public var accelMS2: Double
        public var notes: String
        /// Normalised power and phase (radians) of each harmonic, from the harmonics table.
        public var harmonicPowers: [Double] = []
        public var harmonicPhases: [Double] = []
    }

    static let widths = [4, 5, 6, 8, 4, 16, 15, 15, 15, 11, 15, 20]
    static let titles1 = ["", "", "Summed", "Coherent", "Num", "Period", "Frequency", "FFT 'r'", "Freq Deriv", "FFT 'z'", "Accel", ""]
    static let titles2 = ["Cand", "Sigma", "Power", "Power", "Harm", "(ms)", "(Hz)", "(bin)", "(Hz/s)", "(bins)", "(m/s^2)", "Notes"]

    /// Whether `candidate` can be written: its harmonics were measured.
    public static func isWritable(_ candidate: Candidate) -> Bool {
        candidate.harmonicMeasurements?.isEmpty == false
    }

    /// The files for the writable `candidates`: one per DM, strongest first within each,
    /// numbered from 1.
    public static func files(for candidates: [Candidate], series: Series, zmax: Int) -> [(name: String, text: String)] {
        let byDM = Dictionary(grouping: candidates.filter(isWritable)) { String(format: "%.2f", $0.dm) }
        return byDM.keys.sorted { Double($0)! < Double($1)! }.map { dm in
            let name = "\(series.stem)_DM\(dm)_ACCEL_\(zmax)"
            let list = byDM[dm]!.sorted { $0.sigma > $1.sigma }
            return (name, text(for: list, series: series, dm: Double(dm)!))
        }
    }

    /// One file's text.
    static func text(for candidates: [Candidate], series: Series, dm: Double) -> String {
        var out = header(titles1, titles2, widths)
        let t = series.duration
        for (i, c) in candidates.enumerated() {
            let perHarmonic = max(c.power / Double(max(1, c.harmonics)), 1e-6)
            let rErr = 3 / (Double.pi * (6 * perHarmonic).squareRoot())
            let zErr = 3 * 10.0.squareRoot() / (Double.pi * perHarmonic.squareRoot())
            let f = c.frequencyHz, (r, z) = fourierRZ(c, duration: t)
            let fErr = rErr / t
            let coherent = HarmonicMeasurement.coherentPower(c.harmonicMeasurements ?? [])
            let cells = [
                String(i + 1), String(format: "%.2f", c.sigma), String(format: "%.2f", c.power), String(format: "%.2f", coherent),
                String(c.harmonics), valueWithError(1000 / f, 1000 * fErr / (f * f), digits: 1), valueWithError(f, fErr, digits: 1),
                valueWithError(r, rErr, digits: 2), valueWithError(z / (t * t), zErr / (t * t), digits: 1), valueWithError(z, zErr, digits: 2),
                valueWithError(c.accelMS2, zErr * AccelerationPlan.speedOfLight / (t * t * f), digits: 2),
                notes(c),
            ]
            // The number is left-justified so that the line starts with a digit, as sifting expects.
            var line = cells[0].padding(toLength: widths[0], withPad: " ", startingAt: 0)
            for j in 1..<(cells.count - 1) { line += "  " + centred(cells[j], widths[j]) }
            out += line + "    " + cells.last! + "\n"
        }
        out += "\n\n" + header(harmonicTitles1, harmonicTitles2, harmonicWidths)
        for (i, c) in candidates.enumerated() {
            let (r, z) = fourierRZ(c, duration: t)
            for (j, h) in (c.harmonicMeasurements ?? []).enumerated() {
                let p = max(h.power, 1e-6), q = max(h.purity, 1e-3)
                let cells = [
                    String(j + 1), String(format: "%.2f", Significance.sigma(power: p, harmonics: 1, trials: 1)),
                    valueWithError(h.power, (2 * p).squareRoot(), digits: 2), String(format: "%.3g", h.rawPower),
                    valueWithError(h.r, 3 / (Double.pi * q * (6 * p).squareRoot()), digits: 2), String(format: "%.2f", r * Double(j + 1)),
                    valueWithError(z * Double(j + 1), 3 * 10.0.squareRoot() / (Double.pi * q * q * p.squareRoot()), digits: 2),
                    String(format: "%.2f", z * Double(j + 1)),
                    valueWithError(h.phase, 1 / (2 * p).squareRoot(), digits: 2), valueWithError(h.centroid, 1 / (24 * p).squareRoot(), digits: 2),
                    valueWithError(h.purity, 1 / (q * (10 * p).squareRoot()), digits: 2),
                ]
                // The candidate's number opens its first line after one space, as sifting expects;
                // its other lines open with blanks.
                var line = j == 0 ? " " + String(i + 1).padding(toLength: harmonicWidths[0] - 1, withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: harmonicWidths[0])
                for (k, cell) in cells.enumerated() { line += "  " + centred(cell, harmonicWidths[k + 1]) }
                out += line + "    " + (j == 0 ? notes(c) : "") + "\n"
            }
        }
        out += "\n\n"
        out += PrestoSeries.infText(name: "\(series.stem)_DM\(String(format: "%.2f", dm))", object: series.object, epoch: series.epochMJD,
                                    bins: series.bins, width: series.sampleTime, dm: dm, frequencyMHz: series.frequencyMHz)
        return out
    }

    static let harmonicWidths = [5, 4, 5, 15, 11, 18, 13, 12, 9, 12, 10, 10, 20]
    static let harmonicTitles1 = ["", "", "", "Power /", "Raw", "FFT 'r'", "Pred 'r'", "FFT 'z'", "Pred 'z'", "Phase", "Centroid", "Purity", ""]
    static let harmonicTitles2 = ["Cand", "Harm", "Sigma", "Loc Pow", "Power", "(bin)", "(bin)", "(bins)", "(bins)", "(rad)", "(0-1)", "<p> = 1", "Notes"]

    /// A table's two title lines and its rule of dashes.
    static func header(_ titles1: [String], _ titles2: [String], _ widths: [Int]) -> String {
        func row(_ cells: [String]) -> String { cells.enumerated().map { centred($1, widths[$0]) }.joined(separator: "  ") }
        return row(titles1) + "\n" + row(titles2) + "\n"
            + widths.enumerated().map { i, w in String(repeating: "-", count: w) + (i == widths.count - 1 ? "" : "--") }.joined() + "\n"
    }

    /// The candidate's Fourier frequency r (bins) and drift z (bins over the observation) in a
    /// series of `t` seconds.
    public static func fourierRZ(_ c: Candidate, duration t: Double) -> (r: Double, z: Double) {
        (c.frequencyHz * t, c.accelMS2 * c.frequencyHz * t * t / AccelerationPlan.speedOfLight)
    }

    static func notes(_ c: Candidate) -> String {
        String((c.knownPulsar.map { "\($0.name) \($0.ratio)" } ?? "").prefix(20))
    }

    /// `text` centred in `width` (an odd space to the right), cut to `width` if longer.
    static func centred(_ text: String, _ width: Int) -> String {
        guard text.count < width else { return String(text.prefix(width)) }
        let left = (width - text.count) / 2
        return String(repeating: " ", count: left) + text + String(repeating: " ", count: width - text.count - left)
    }

    /// A value and its uncertainty in the journal style, `12.345(67)`: the value to the error's
    /// last digit, the error in units of that digit with `digits` significant digits.
    public static func valueWithError(_ value: Double, _ error: Double, digits: Int) -> String {
        guard error > 0, error.isFinite, value.isFinite else { return String(format: "%.6g", value) }
        var place = Int((log10(error)).rounded(.down)) - (digits - 1)
        var scaled = Int((error / pow(10, Double(place))).rounded())
        if scaled >= Int(pow(10, Double(digits))) {  // 9.96 rounds to 10: one place up
            place += 1
            scaled = Int((error / pow(10, Double(place))).rounded())
        }
        if place >= 0 {
            let unit = pow(10, Double(place))
            return String(format: "%.0f(%d)", (value / unit).rounded() * unit, scaled * Int(unit))
        }
        return String(format: "%.\(-place)f(%d)", value, scaled)
    }

    /// Reads a file as sifting does: the series length from the appended `.inf`, the DM from the
    /// name, and every line that starts with a digit as a candidate.
    public static func parse(_ text: String, name: String) throws -> [Entry] {
        guard let dmRange = name.range(of: #"DM(\d+\.\d{2})"#, options: .regularExpression),
              let dm = Double(name[dmRange].dropFirst(2)) else {
            throw FormatError.invalidValue(file: name, field: "name", value: name, reason: "an ACCEL file's name holds its DM as DMddd.dd")
        }
        let info = try PrestoSeries.parse(String(text[(text.range(of: "\n\n\n", options: .backwards)?.upperBound ?? text.startIndex)...]), file: name)
        let t = Double(info.bins) * info.width
        func number(_ cell: Substring, _ field: String) throws -> Double {
            guard let v = Double(cell.split(separator: "(").first ?? cell) else {
                throw FormatError.invalidValue(file: name, field: field, value: String(cell), reason: "not a number")
            }
            return v
        }
        var entries: [Entry] = []
        // The harmonics of the entry being read (its first line names it), and how many are left.
        var current: Int?
        var pending = 0
        for line in text.split(separator: "\n") {
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            if line.first?.isNumber == true {
                guard f.count >= 11 else {
                    throw FormatError.invalidValue(file: name, field: "candidate line", value: String(line), reason: "needs 11 columns")
                }
                let r = try number(f[7], "FFT 'r'"), z = try number(f[9], "FFT 'z'")
                entries.append(Entry(
                    number: Int(f[0]) ?? 0, dm: dm, sigma: try number(f[1], "Sigma"), summedPower: try number(f[2], "Summed Power"),
                    coherentPower: try number(f[3], "Coherent Power"), harmonics: Int(f[4]) ?? 0, r: r, z: z, frequencyHz: r / t,
                    accelMS2: try number(f[10], "Accel"), notes: f.count > 11 ? f[11...].joined(separator: " ") : ""))
                continue
            }
            // A harmonics table line: the first of a candidate opens with a space and its number
            // (power in column 4, phase in 10), the others with blanks (columns 3 and 9).
            let opens = line.count > 1 && line.first == " " && line.dropFirst().first?.isNumber == true
            if opens, f.count >= 12, let candidate = Int(f[0]), let k = entries.firstIndex(where: { $0.number == candidate }) {
                entries[k].harmonicPowers = [try number(f[3], "Power")]
                entries[k].harmonicPhases = [try number(f[9], "Phase")]
                current = k
                pending = entries[k].harmonics - 1
            } else if let k = current, pending > 0, f.count >= 11 {
                entries[k].harmonicPowers.append(try number(f[2], "Power"))
                entries[k].harmonicPhases.append(try number(f[8], "Phase"))
                pending -= 1
            }
        }
        return entries
    }
}
