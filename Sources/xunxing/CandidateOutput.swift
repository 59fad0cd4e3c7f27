import ArgumentParser
import Foundation
import PulsarSearch

/// How `search` and `candidates` print candidates.
enum CandidateFormat: String, ExpressibleByArgument, CaseIterable {
    /// A summary and a table for people.
    case table
    /// One JSON document (see `SearchOutput`; `candidates` prints the candidate array).
    case json
    /// A flat CSV table with a header row (``CandidateCSV``).
    case csv
    /// PRESTO's layouts in --output-dir: ACCEL files per DM (``PrestoAccelFile``) and the
    /// single-pulse events as a `.singlepulse` file (``PrestoSinglePulseFile``).
    case presto
}

/// Writes candidate lists in the field's layouts: one place for `search` and `candidates`.
enum CandidateOutput {
    /// Writes PRESTO's files for `candidates` (and `events`, if any) into `directory`; returns
    /// the paths written.
    static func writePresto(_ candidates: [Candidate], events: [SinglePulseEvent] = [], series: PrestoAccelFile.Series,
                            directory: String) throws -> [String] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let t = series.duration
        // accelsearch's zmax: the largest |z| = a f T^2 / c among the candidates, rounded up.
        let zs: [Double] = candidates.filter(PrestoAccelFile.isWritable).map { abs(PrestoAccelFile.fourierRZ($0, duration: t).z) }
        let zmax = Int((zs.max() ?? 0).rounded(.up))
        var written: [String] = []
        let unwritable = candidates.count - candidates.filter(PrestoAccelFile.isWritable).count
        if unwritable > 0 {
            printError("note: \(unwritable) of \(candidates.count) candidates are not in the ACCEL files: FFA detections and "
                + "results from workers that did not measure each harmonic have no harmonics table for sifting to read; "
                + "--format csv or json lists every candidate")
        }
        for file in PrestoAccelFile.files(for: candidates, series: series, zmax: zmax) {
            let path = (directory as NSString).appendingPathComponent(file.name)
            try Data(file.text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
            written.append(path)
        }
        if !events.isEmpty {
            let path = (directory as NSString).appendingPathComponent(series.stem + ".singlepulse")
            try Data(PrestoSinglePulseFile.text(events, sampleTime: series.sampleTime).utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
            written.append(path)
        }
        return written
    }
}
