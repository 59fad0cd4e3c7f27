import Foundation

/// Single-pulse events in the layout of PRESTO's `single_pulse_search.py` `.singlepulse` files:
/// a header line `# DM      Sigma      Time (s)     Sample    Downfact`, then one line per event,
/// `%7.2f %7.2f %13.6f %10d     %3d` (DM, S/N, time, sample index, boxcar width in samples),
/// sorted by sample. An empty list is an empty file, as PRESTO writes it. Every line carries its
/// DM, so one file holds all DMs; PRESTO's plotting reads several files or one alike.
public enum PrestoSinglePulseFile {
    public static let header = "# DM      Sigma      Time (s)     Sample    Downfact"

    /// A line as PRESTO reads it back.
    public struct Entry: Sendable, Equatable {
        public var dm: Double
        public var sigma: Double
        public var time: Double
        public var sample: Int
        public var downfact: Int
    }

    /// The text for `events` of a search at `sampleTime` seconds.
    public static func text(_ events: [SinglePulseEvent], sampleTime: Double) -> String {
        guard !events.isEmpty else { return "" }
        let lines = events.map { e -> (Int, String) in
            let sample = Int((e.timeSeconds / sampleTime).rounded())
            let downfact = max(1, Int((e.widthSeconds / sampleTime).rounded()))
            return (sample, String(format: "%7.2f %7.2f %13.6f %10d     %3d", e.dm, e.snr, e.timeSeconds, sample, downfact))
        }.sorted { $0.0 < $1.0 }
        return header + "\n" + lines.map { $0.1 }.joined(separator: "\n") + "\n"
    }

    /// Reads a file (`#` lines are comments, as numpy's loadtxt takes them).
    public static func parse(_ text: String, file: String) throws -> [Entry] {
        try text.split(separator: "\n").enumerated().compactMap { i, line -> Entry? in
            if line.hasPrefix("#") || line.allSatisfy({ $0 == " " }) { return nil }
            let f = line.split(separator: " ")
            guard f.count == 5, let dm = Double(f[0]), let sigma = Double(f[1]), let time = Double(f[2]), let sample = Int(f[3]),
                  let downfact = Int(f[4]) else {
                throw FormatError.invalidValue(file: file, field: "line \(i + 1)", value: String(line), reason: "not DM Sigma Time Sample Downfact")
            }
            return Entry(dm: dm, sigma: sigma, time: time, sample: sample, downfact: downfact)
        }
    }
}
