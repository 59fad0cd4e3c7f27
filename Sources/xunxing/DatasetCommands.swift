import ArgumentParser
import Foundation
import PulsarSearch
import XunxingClient
import XunxingProtocol
import XunxingSupport

struct SubmitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Submit a filterbank to a coordinator for a volunteer search; prints the dataset id last.",
        discussion: """
            The header is checked here first, then the file streams to the coordinator with its \
            SHA-256 (never read into memory whole). The coordinator splits it into work units; \
            follow it with `xunxing status ID` and read the result with `xunxing candidates ID`.

            Example:
              export XUNXING_COORDINATOR=http://localhost:8080 XUNXING_TOKEN=xxast_...
              xunxing submit obs.fil --preset standard --dm-max 500 --accel-max 50
            """
    )

    @OptionGroup var options: CoordinatorOptions
    @Argument(help: "SIGPROC filterbank (.fil).") var file: String
    @Option(help: "Work-unit preset (the coordinator's default if omitted): see the coordinator's workunits/.") var preset: String?
    @Option(help: "Highest DM to search (default: the preset's, else automatic).") var dmMax: Double?
    @Option(help: "Largest acceleration to search, m/s^2 (default: the preset's).") var accelMax: Double?
    @Option(help: "Name for the dataset (default: the file name).") var name: String?

    func run() throws {
        let client = try options.client()
        _ = try ObservationFile.open(file)  // refuse a bad file before sending anything
        let sha = try FileDigest.sha256(path: file)
        let status = try client.submit(
            file: file, name: name ?? (file as NSString).lastPathComponent, preset: preset, dmMax: dmMax,
            accelMax: accelMax, sha256: sha)
        FileHandle.standardError.write("submitted \(status.sizeBytes) bytes, sha256 \(status.sha256); state \(status.state)\n".data(using: .utf8)!)
        print(status.id)
    }

}

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a dataset's state and work-unit counts.",
        discussion: "state is splitting, searching, complete or failed. Without DATASET, lists your datasets."
    )

    @OptionGroup var options: CoordinatorOptions
    @Argument(help: "Dataset id (from `xunxing submit`).") var dataset: String?
    @Option(help: "Output: table or json.") var format: OutputFormat = .table

    func run() throws {
        let client = try options.client()
        let statuses = try dataset.map { [try client.dataset($0)] } ?? client.datasets()
        if format == .json {
            if dataset != nil { try printJSON(statuses[0]) } else { try printJSON(statuses) }
            return
        }
        for s in statuses {
            print("\(s.id)  \(s.name)  \(s.state)  units: \(s.units.validated)/\(s.units.total) validated, \(s.units.inProgress) in progress, \(s.units.error) in error\(s.error.map { "  error: \($0)" } ?? "")")
        }
    }
}

struct PublishCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Show one of your datasets and its candidates on the coordinator's public pages (or hide it again).",
        discussion: """
            Datasets are private to their astronomer (and the project's administrators) until published: \
            the public pages list only published datasets, and a private one's pages answer 404.
            Examples:
              xunxing publish ds-1a2b --coordinator http://localhost:8080 --token xxast_...
              xunxing publish ds-1a2b --private
            """
    )

    @OptionGroup var options: CoordinatorOptions
    @Argument(help: "Dataset id (from `xunxing submit`).") var dataset: String
    @Flag(help: "Take the dataset off the public pages.") var `private` = false

    func run() throws {
        let status = try options.client().publish(dataset, !`private`)
        print(status.publishedAt == nil ? "\(status.id) is private" : "\(status.id) is public: /datasets/\(status.id)")
    }
}

struct CandidatesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "candidates",
        abstract: "List a dataset's candidates, strongest first (same fields as `xunxing search`).",
        discussion: """
            Candidates appear when the dataset is complete: merged across work units, sifted, folded. \
            found is fft (harmonic sum) or ffa (with the FFA's duty cycle) when the preset ran the FFA. \
            When the preset ran the single-pulse search, its events follow (bursts; --show-flagged adds \
            the clusters taken for interference); --single-pulse prints only them (with --format json, \
            the fields of `xunxing single-pulse`).
            """
    )

    @OptionGroup var options: CoordinatorOptions
    @Argument(help: "Dataset id.") var dataset: String
    @Option(help: "Output: table, json, csv (a flat table) or presto (ACCEL files per DM and a .singlepulse file in --output-dir).")
    var format: CandidateFormat = .table
    @Option(help: "Directory for --format presto's files (created if missing).") var outputDir: String = "."
    @Flag(help: "Print the single-pulse events instead of the periodicity candidates.") var singlePulse = false
    @Flag(help: "Include single-pulse clusters taken for interference (DM ~0, or every DM).") var showFlagged = false

    func run() throws {
        let client = try options.client()
        if format == .presto { return try writePresto(client) }
        if singlePulse {
            let events = try client.singlePulseEvents(dataset).filter { showFlagged || $0.rfi == nil }
            if format == .json { return try printJSON(events) }
            if format == .csv { throw ValidationError("--single-pulse prints a table or json; --format presto writes a .singlepulse file") }
            return printEvents(events)
        }
        let candidates = try client.candidates(dataset)
        if format == .json { return try printJSON(candidates) }
        if format == .csv { return print(CandidateCSV.text(candidates), terminator: "") }
        if candidates.isEmpty {
            print("No candidates (yet): see `xunxing status \(dataset)`.")
        } else {
            print("  #    period_ms   freq_hz      dm   sigma  harm  accel   snr_fold  dm_hits  found            known")
            for (i, c) in candidates.enumerated() {
                print(String(format: "%3d %12.6f %9.4f %7.2f %7.2f %5d %6.1f %9.1f %8d  ",
                    i + 1, c.periodS * 1000, c.frequencyHz, c.dm, c.sigma, c.harmonics, c.accelMS2, c.snrFolded, c.dmHits)
                    + c.foundBy.leftAligned(15) + "  " + c.knownLabel)
            }
        }
        let events = try client.singlePulseEvents(dataset).filter { showFlagged || $0.rfi == nil }
        if !events.isEmpty {
            print("")
            printEvents(events)
        }
    }

    /// PRESTO's files need the observation's length and sample time: from the dataset's status.
    private func writePresto(_ client: CoordinatorClient) throws {
        let status = try client.dataset(dataset)
        guard let observation = status.observation else {
            throw ValidationError("dataset \(dataset): the coordinator did not report its observation (sample time, length), which PRESTO's files need")
        }
        let series = PrestoAccelFile.Series(stem: (status.name as NSString).deletingPathExtension, object: observation.info.source,
                                            epochMJD: observation.info.mjd, bins: observation.samples, sampleTime: observation.sampleTime,
                                            frequencyMHz: observation.lowestFrequencyMHz)
        let events = try client.singlePulseEvents(dataset).filter { showFlagged || $0.rfi == nil }
        let candidates = singlePulse ? [] : try client.candidates(dataset)
        for path in try CandidateOutput.writePresto(candidates, events: events, series: series, directory: outputDir) { print(path) }
    }

    private func printEvents(_ events: [SinglePulseEvent]) {
        guard !events.isEmpty else {
            print("No single-pulse events.")
            return
        }
        print("Single-pulse events:")
        print("  #     time_s          mjd       dm  width_ms    snr  members        dm range  flag")
        for (i, e) in events.enumerated() {
            print(String(format: "%3d %10.4f %12.6f %8.2f %9.3f %6.1f %8d %7.1f-%-7.1f %@",
                i + 1, e.timeSeconds, e.mjd, e.dm, e.widthSeconds * 1000, e.snr, e.members, e.dmMin, e.dmMax, e.rfi ?? ""))
        }
    }
}
