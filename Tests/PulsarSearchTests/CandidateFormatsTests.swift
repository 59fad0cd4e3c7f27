import Foundation
@testable import PulsarSearch
import Testing

/// The field's layouts: CSV, PRESTO's ACCEL files and .singlepulse files, each read back.
@Suite("Candidate output formats: CSV, PRESTO ACCEL and .singlepulse round trips")
struct CandidateFormatsTests {
    /// Random candidates with unequal values, some FFA, some matched to a known pulsar.
    static func candidates(_ n: Int, seed: UInt64) -> [Candidate] {
        var rng = SeededGenerator(seed: seed)
        return (0..<n).map { i in
            let f = 0.1 + rng.uniform() * 900
            var c = Candidate(
                periodS: 1 / f, frequencyHz: f, dm: [3.5, 17.25, 120.0][i % 3] + Double(i % 2) * 0.004, sigma: 5 + rng.uniform() * 30,
                harmonics: [1, 2, 4, 8, 16][Int(rng.uniform() * 5)], accelMS2: i % 4 == 0 ? 0 : (rng.uniform() - 0.5) * 200,
                snrFolded: rng.uniform() * 40, reducedChiSquare: rng.uniform() * 9, dmHits: 1 + Int(rng.uniform() * 30),
                power: 20 + rng.uniform() * 400, method: i % 5 == 0 ? .ffa : .fft, dutyCycle: i % 5 == 0 ? rng.uniform() * 0.2 : nil)
            c.dmUncertainty = i % 3 == 0 ? nil : rng.uniform()
            // Each summed harmonic measured, with unequal values; none for FFA detections and for
            // a few records from workers that did not measure them.
            if c.method == .fft && i % 7 != 3 {
                c.harmonicMeasurements = (1...c.harmonics).map { h in
                    let p = 2 + rng.uniform() * 100
                    return HarmonicMeasurement(power: p, rawPower: p * (1e3 + rng.uniform() * 1e6), r: f * 67.108864 * Double(h) + rng.uniform() - 0.5,
                                               phase: (rng.uniform() * 2 - 1) * .pi, centroid: rng.uniform(), purity: 0.2 + rng.uniform())
                }
            }
            if i % 6 == 1 {
                c.knownPulsar = KnownPulsarMatch(name: "J0534+2200", periodS: 0.0338, dm: 56.77, harmonic: 2, fraction: 1, separationDeg: 0.01)
            }
            return c
        }.sorted { $0.sigma > $1.sigma }
    }

    @Test("CSV: every column reads back exactly, in order; quotes and commas in a cell survive; a short row is refused naming it")
    func csvRoundTrip() throws {
        let list = Self.candidates(40, seed: 3)
        let text = CandidateCSV.text(list)
        #expect(text.hasPrefix(CandidateCSV.columns.joined(separator: ",") + "\r\n"))
        let rows = try CandidateCSV.rows(text, file: "c.csv")
        #expect(rows.count == list.count)
        for (i, (row, c)) in zip(rows, list).enumerated() {
            #expect(row["rank"] == "\(i + 1)")
            #expect(Double(row["period_s"]!) == c.periodS && Double(row["frequency_hz"]!) == c.frequencyHz && Double(row["dm"]!) == c.dm)
            #expect(row["dm_uncertainty"].flatMap(Double.init) == c.dmUncertainty)
            #expect(Double(row["sigma"]!) == c.sigma && Int(row["harmonics"]!) == c.harmonics && Double(row["accel_m_s2"]!) == c.accelMS2)
            #expect(Double(row["snr_folded"]!) == c.snrFolded && Double(row["reduced_chi2"]!) == c.reducedChiSquare)
            #expect(Int(row["dm_hits"]!) == c.dmHits && Double(row["power"]!) == c.power)
            #expect(row["method"] == c.method?.rawValue && row["duty_cycle"].flatMap(Double.init) == c.dutyCycle)
            #expect(row["known_pulsar"] == (c.knownPulsar?.name ?? "") && row["known_ratio"] == (c.knownPulsar?.ratio ?? ""))
        }
        // RFC 4180 quoting.
        #expect(CandidateCSV.quoted("a,\"b\"") == "\"a,\"\"b\"\"\"")
        let quoted = try CandidateCSV.rows("x,y\r\n\"a,\"\"b\"\"\",2\r\n", file: "q.csv")
        #expect(quoted == [["x": "a,\"b\"", "y": "2"]])
        #expect(throws: FormatError.invalidValue(file: "s.csv", field: "row 2", value: "1 cells", reason: "the header has 2")) {
            try CandidateCSV.rows("x,y\r\n1\r\n", file: "s.csv")
        }
    }

    @Test("value(error) in the journal style", arguments: [
        (14602.432, 0.023, 2, "14602.432(23)"), (4.5957321, 0.0000071, 1, "4.595732(7)"), (-2.3512, 0.4471, 2, "-2.35(45)"),
        (123456.0, 340.0, 2, "123460(340)"), (0.5, 0.0996, 1, "0.5(1)"), (12.0, 0, 2, "12"),
    ])
    func valueWithError(value: Double, error: Double, digits: Int, expected: String) {
        #expect(PrestoAccelFile.valueWithError(value, error, digits: digits) == expected)
    }

    @Test("ACCEL files: one per DM named as accelsearch names them; sifting's reading gives back sigma, powers, harmonics, frequency (r/T), z and each harmonic's power and phase within their printed precision, and the .inf's length; candidates without measured harmonics are left out")
    func accelRoundTrip() throws {
        let list = Self.candidates(60, seed: 5)
        let series = PrestoAccelFile.Series(stem: "obs", object: "J1234+56", epochMJD: 60123.25, bins: 1 << 20, sampleTime: 64e-6, frequencyMHz: 1200)
        let t = series.duration
        let files = PrestoAccelFile.files(for: list, series: series, zmax: 200)
        let writable = list.filter(PrestoAccelFile.isWritable)
        #expect(writable.count < list.count && writable.count > list.count / 2)
        #expect(Set(files.map(\.name)) == Set(writable.map { String(format: "obs_DM%.2f_ACCEL_200", $0.dm) }))
        var seen = 0
        for file in files {
            let lines = file.text.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines[0].contains("Summed") && lines[1].hasPrefix("Cand") && !lines[2].isEmpty && lines[2].allSatisfy { $0 == "-" })
            // An independent fixed-width reading, with PRESTO's column widths (output_fundamentals).
            let w = [4, 5, 6, 8, 4, 16, 15, 15, 15, 11, 15]
            let start = w.indices.map { w[..<$0].reduce(0, +) + 2 * $0 }
            func cell(_ l: Substring, _ k: Int) -> String {
                let a = Array(l)
                return String(a[min(a.count, start[k])..<min(a.count, start[k] + w[k])]).trimmingCharacters(in: .whitespaces)
            }
            func err(_ s: String) -> Double {
                let p = s.split(separator: "(")
                return Double(p[1].dropLast())! / pow(10, Double(p[0].split(separator: ".").dropFirst().first?.count ?? 0))
            }
            #expect(lines[2].count == 156 && cell(lines[1], 7) == "(bin)" && cell(lines[1], 9) == "(bins)" && cell(lines[1], 10) == "(m/s^2)")
            let entries = try PrestoAccelFile.parse(file.text, name: file.name)
            let expected = writable.filter { String(format: "obs_DM%.2f_ACCEL_200", $0.dm) == file.name }
            #expect(entries.count == expected.count)
            for (e, c) in zip(entries, expected) {
                seen += 1
                #expect(e.dm == (Double(String(format: "%.2f", c.dm))!))
                #expect(abs(e.sigma - c.sigma) <= 0.005 + 1e-9 && abs(e.summedPower - c.power) <= 0.005 + 1e-9 && e.harmonics == c.harmonics)
                // The errors, independently: Ransom et al. (2002) for the power per harmonic.
                let p = c.power / Double(c.harmonics)
                let rErr = 3 / (Double.pi * (6 * p).squareRoot()), zErr = 3 * 10.0.squareRoot() / (Double.pi * p.squareRoot())
                #expect(abs(e.r - c.frequencyHz * t) <= 0.06 * rErr, "r \(e.r) vs \(c.frequencyHz * t) ± \(rErr)")
                #expect(abs(e.frequencyHz - c.frequencyHz) <= 0.06 * rErr / t)
                let z = c.accelMS2 * c.frequencyHz * t * t / 299_792_458
                #expect(abs(e.z - z) <= 0.06 * zErr, "z \(e.z) vs \(z) ± \(zErr)")
                #expect(e.notes == (c.knownPulsar.map { "\($0.name) \($0.ratio)" } ?? ""))
                let measured = c.harmonicMeasurements!
                #expect(abs(e.coherentPower - HarmonicMeasurement.coherentPower(measured)) <= 0.005 + 1e-9)
                // Each harmonic's power and phase, to a twentieth of their printed errors.
                #expect(e.harmonicPowers.count == c.harmonics && e.harmonicPhases.count == c.harmonics)
                for (h, (m, (power, phase))) in zip(measured, zip(e.harmonicPowers, e.harmonicPhases)).enumerated() {
                    #expect(abs(power - m.power) <= 0.05 * (2 * m.power).squareRoot() + 1e-9, "harmonic \(h + 1) power \(power) vs \(m.power)")
                    #expect(abs(phase - m.phase) <= 0.05 / (2 * m.power).squareRoot() + 1e-9, "harmonic \(h + 1) phase \(phase) vs \(m.phase)")
                }
            }
            // The harmonics table read independently, by PRESTO's column widths (output_harmonics).
            let hw = [5, 4, 5, 15, 11, 18, 13, 12, 9, 12, 10, 10]
            let hstart = hw.indices.map { hw[..<$0].reduce(0, +) + 2 * $0 }
            func hcell(_ l: Substring, _ k: Int) -> String {
                let a = Array(l)
                return String(a[min(a.count, hstart[k])..<min(a.count, hstart[k] + hw[k])]).trimmingCharacters(in: .whitespaces)
            }
            let rule = try #require(lines.indices.filter { lines[$0].allSatisfy { $0 == "-" } && !lines[$0].isEmpty }.last)
            #expect(lines[rule - 1].contains("Loc Pow") && lines[rule].count == hw.reduce(0, +) + 2 * hw.count + 20)
            let harmonicLines = lines[(rule + 1)...].prefix { !$0.isEmpty }
            #expect(harmonicLines.count == expected.map(\.harmonics).reduce(0, +))
            var row = harmonicLines.startIndex
            for (k, c) in expected.enumerated() {
                for (h, m) in c.harmonicMeasurements!.enumerated() {
                    let line = harmonicLines[row]
                    row += 1
                    #expect(hcell(line, 0) == (h == 0 ? "\(k + 1)" : "") && hcell(line, 1) == "\(h + 1)")
                    #expect(abs(Double(hcell(line, 6))! - (c.frequencyHz * t * Double(h + 1))) <= 0.005 + 1e-6 * c.frequencyHz * t)
                    #expect(abs(Double(hcell(line, 10).split(separator: "(")[0])! - m.centroid) <= 0.05 / (24 * m.power).squareRoot() + 1e-9)
                    #expect(abs(Double(hcell(line, 11).split(separator: "(")[0])! - m.purity) <= 0.05 / (m.purity * (10 * m.power).squareRoot()) + 1e-9)
                }
            }
            for (line, c) in zip(lines.filter { $0.first?.isNumber == true }, expected) {
                let p = c.power / Double(c.harmonics)
                let rErr = 3 / (Double.pi * (6 * p).squareRoot()), zErr = 3 * 10.0.squareRoot() / (Double.pi * p.squareRoot())
                let r = cell(line, 7), z = cell(line, 9), accel = cell(line, 10)
                #expect(abs(Double(r.split(separator: "(")[0])! - c.frequencyHz * t) <= 0.06 * rErr && abs(err(r) - rErr) <= 0.051 * rErr, "\(r)")
                #expect(abs(err(z) - zErr) <= 0.051 * zErr, "\(z)")
                let aErr = zErr * 299_792_458 / (t * t * c.frequencyHz)
                #expect(abs(Double(accel.split(separator: "(")[0])! - c.accelMS2) <= 0.06 * aErr + 1e-9 * abs(c.accelMS2), "\(accel)")
                #expect(abs(Double(cell(line, 6).split(separator: "(")[0])! - c.frequencyHz) <= 0.6 * rErr / t, "\(cell(line, 6))")
            }
            let info = try PrestoSeries.parse(String(file.text[file.text.range(of: "\n\n\n", options: .backwards)!.upperBound...]), file: file.name)
            #expect(info.bins == series.bins && info.width == series.sampleTime && info.object == "J1234+56")
        }
        #expect(seen == writable.count)
        #expect(throws: FormatError.self) { try PrestoAccelFile.parse(files[0].text, name: "no-dm-here") }
    }

    @Test(".singlepulse: PRESTO's header and columns, sorted by sample; DM, S/N, time, sample and width read back; no events is an empty file")
    func singlePulseRoundTrip() throws {
        var rng = SeededGenerator(seed: 9)
        let tsamp = 81.92e-6
        let events = (0..<25).map { _ in
            SinglePulseEvent(timeSeconds: rng.uniform() * 60, mjd: 60000, dm: rng.uniform() * 1000, widthSeconds: tsamp * Double(1 + Int(rng.uniform() * 300)),
                             snr: 6 + rng.uniform() * 50, members: 3, dmMin: 0, dmMax: 0, timeMinSeconds: 0, timeMaxSeconds: 0)
        }
        let text = PrestoSinglePulseFile.text(events, sampleTime: tsamp)
        #expect(text.hasPrefix(PrestoSinglePulseFile.header + "\n"))
        let back = try PrestoSinglePulseFile.parse(text, file: "x.singlepulse")
        #expect(back.count == events.count)
        #expect(back.map(\.sample) == back.map(\.sample).sorted())
        for e in events {
            let sample = Int((e.timeSeconds / tsamp).rounded())
            let got = try #require(back.first { $0.sample == sample })
            #expect(abs(got.dm - e.dm) <= 0.005 + 1e-9 && abs(got.sigma - e.snr) <= 0.005 + 1e-9 && abs(got.time - e.timeSeconds) <= 5e-7 + 1e-12)
            #expect(got.downfact == Int((e.widthSeconds / tsamp).rounded()))
        }
        #expect(PrestoSinglePulseFile.text([], sampleTime: tsamp) == "")
        #expect(throws: FormatError.self) { try PrestoSinglePulseFile.parse("# h\n1.0 2.0 x 4 5\n", file: "bad.singlepulse") }
    }
}
