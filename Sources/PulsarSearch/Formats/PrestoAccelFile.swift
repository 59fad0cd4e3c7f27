import Foundation

/// Candidate lists in the layout of PRESTO's `accelsearch` output, so that PRESTO's sifting
/// (`ACCEL_sift.py`, `sifting.candlist_from_candfile`) and people used to it can read ours.
///
/// One file per DM, named `STEM_DM<dm, 2 decimals>_ACCEL_<zmax>` as accelsearch names them. Each
/// holds the fundamentals table (3 header lines, then one line per candidate: Cand, Sigma, Summed
/// Power, Coherent Power, Num Harm, Period (ms), Frequency (Hz), FFT 'r' (bin), Freq Deriv (Hz/s),
/// FFT 'z' (bins), Accel (m/s^2), Notes; value(error) cells in the journal style, cells centred in
/// PRESTO's widths and joined by two spaces), two blank lines, and the series' `.inf` text, from
/// which sifting takes the observation's length. There is no harmonics table: ours does not
/// measure each harmonic; sifting reads it only for its optional phase and power checks.
///
/// Our candidates carry one summed power, written as both Summed and Coherent Power. The
/// uncertainties of r and z are Ransom, Eikenberry & Middleditch's (2002):
/// sigma_r = 3 / (pi sqrt(6 P)), sigma_z = 3 sqrt(10) / (pi sqrt(P)), P the summed power per
/// harmonic; Notes carry the known pulsar a candidate matched, if any.
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
    }

    static let widths = [4, 5, 6, 8, 4, 16, 15, 15, 15, 11, 15, 20]
    static let titles1 = ["", "", "Summed", "Coherent", "Num", "Period", "Frequency", "FFT 'r'", "Freq Deriv", "FFT 'z'", "Accel", ""]
    static let titles2 = ["Cand", "Sigma", "Power", "Power", "Harm", "(ms)", "(Hz)", "(bin)", "(Hz/s)", "(bins)", "(m/s^2)", "Notes"]
    public static let speedOfLight = 299_792_458.0

    /// The files for `candidates`: one per DM, strongest first within each, numbered from 1.
    public static func files(for candidates: [Candidate], series: Series, zmax: Int) -> [(name: String, text: String)] {
        let byDM = Dictionary(grouping: candidates) { String(format: "%.2f", $0.dm) }
        return byDM.keys.sorted { Double($0)! < Double($1)! }.map { dm in
            let name = "\(series.stem)_DM\(dm)_ACCEL_\(zmax)"
            let list = byDM[dm]!.sorted { $0.sigma > $1.sigma }
            return (name, text(for: list, series: series, dm: Double(dm)!))
        }
    }

    /// One file's text.
    static func text(for candidates: [Candidate], series: Series, dm: Double) -> String {
        var out = row(titles1) + "\n" + row(titles2) + "\n"
        out += widths.enumerated().map { i, w in String(repeating: "-", count: w) + (i == widths.count - 1 ? "" : "--") }.joined() + "\n"
        let t = series.duration
        for (i, c) in candidates.enumerated() {
            let perHarmonic = max(c.power / Double(max(1, c.harmonics)), 1e-6)
            let rErr = 3 / (Double.pi * (6 * perHarmonic).squareRoot())
            let zErr = 3 * 10.0.squareRoot() / (Double.pi * perHarmonic.squareRoot())
            let f = c.frequencyHz, r = f * t
            let z = c.accelMS2 * f * t * t / speedOfLight
            let fErr = rErr / t
            let cells = [
                String(i + 1), String(format: "%.2f", c.sigma), String(format: "%.2f", c.power), String(format: "%.2f", c.power),
                String(c.harmonics), valueWithError(1000 / f, 1000 * fErr / (f * f), digits: 1), valueWithError(f, fErr, digits: 1),
                valueWithError(r, rErr, digits: 2), valueWithError(z / (t * t), zErr / (t * t), digits: 1), valueWithError(z, zErr, digits: 2),
                valueWithError(c.accelMS2, zErr * speedOfLight / (t * t * f), digits: 2),
                String((c.knownPulsar.map { "\($0.name) \($0.ratio)" } ?? "").prefix(20)),
            ]
            // The number is left-justified so that the line starts with a digit, as sifting expects.
            var line = cells[0].padding(toLength: widths[0], withPad: " ", startingAt: 0)
            for j in 1..<(cells.count - 1) { line += "  " + centred(cells[j], widths[j]) }
            out += line + "    " + cells.last! + "\n"
        }
        out += "\n\n"
        out += PrestoSeries.infText(name: "\(series.stem)_DM\(String(format: "%.2f", dm))", object: series.object, epoch: series.epochMJD,
                                    bins: series.bins, width: series.sampleTime, dm: dm, frequencyMHz: series.frequencyMHz)
        return out
    }

    static func row(_ cells: [String]) -> String {
        cells.enumerated().map { centred($1, widths[$0]) }.joined(separator: "  ")
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
        let info = try PrestoSeries.parse(String(text[(text.range(of: "\n\n\n")?.upperBound ?? text.startIndex)...]), file: name)
        let t = Double(info.bins) * info.width
        func number(_ cell: Substring, _ field: String) throws -> Double {
            guard let v = Double(cell.split(separator: "(").first ?? cell) else {
                throw FormatError.invalidValue(file: name, field: field, value: String(cell), reason: "not a number")
            }
            return v
        }
        var entries: [Entry] = []
        for line in text.split(separator: "\n") where line.first?.isNumber == true {
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard f.count >= 11 else {
                throw FormatError.invalidValue(file: name, field: "candidate line", value: String(line), reason: "needs 11 columns")
            }
            let r = try number(f[7], "FFT 'r'"), z = try number(f[9], "FFT 'z'")
            entries.append(Entry(
                number: Int(f[0]) ?? 0, dm: dm, sigma: try number(f[1], "Sigma"), summedPower: try number(f[2], "Summed Power"),
                coherentPower: try number(f[3], "Coherent Power"), harmonics: Int(f[4]) ?? 0, r: r, z: z, frequencyHz: r / t,
                accelMS2: try number(f[10], "Accel"), notes: f.count > 11 ? f[11...].joined(separator: " ") : ""))
        }
        return entries
    }
}
