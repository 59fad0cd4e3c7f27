import ArgumentParser
import Foundation
import PulsarSearch
import XunxingMarkup
import XunxingSupport

struct FoldCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fold",
        abstract: "Fold a filterbank at a period and DM and show what prepfold shows: the diagnostics a candidate is judged by.",
        discussion: """
            Dedisperses FILE (SIGPROC or PSRFITS) in subbands at --dm, folds it at --period (and \
            --pdot) into sub-integrations and phase bins, and searches around them as prepfold \
            does: trial periods and period derivatives by rotating the sub-integrations (2 Fourier \
            bins either side), trial DMs by rotating the subbands. Prints the best period, period \
            derivative and DM with their 1-sigma uncertainties (where the fold's chi-square falls \
            by 1; for DM, a jackknife over subbands), the reduced chi-square and S/N; --plot writes \
            one SVG with the header facts and six panels: the profile over two turns, phase \
            against time, phase against frequency, reduced chi-square against DM, against period, \
            and over the period - period-derivative plane.

            Examples:
              xunxing fold obs.fil --period 0.0338118 --dm 56.77 --plot crab.svg
              xunxing fold obs.fits --period 1.2 --dm 30 --pdot 1e-12 --format json > fold.json
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json }

    @Argument(help: "The observation: a SIGPROC filterbank or a PSRFITS search-mode file.") var file: String
    @Option(help: "Period to fold at, s.") var period: Double
    @Option(help: "DM to dedisperse at, pc cm^-3.") var dm: Double
    @Option(help: "Period derivative, s/s.") var pdot: Double = 0
    @Option(help: "Phase bins (default: as the search folds, up to 64).") var bins: Int?
    @Option(help: "Sub-integrations.") var subintegrations: Int = 32
    @Option(help: "Subbands.") var subbands: Int = 32
    @Option(help: "DM searched either side of --dm (default: 10 %, at least 2).") var dmSpan: Double?
    @Option(help: "Write the diagnostics as one SVG to this file.") var plot: String?
    @Option(help: "Write them as a PNG too (drawn from the SVG by rsvg-convert, Debian's librsvg2-bin).") var png: String?
    @Option(help: "table or json (every number of the diagnostics).") var format: Format = .table

    func validate() throws {
        guard period > 0, period.isFinite else { throw ValidationError("--period \(period): must be a positive number of seconds") }
        guard dm >= 0, dm.isFinite else { throw ValidationError("--dm \(dm): must be 0 or more") }
        guard pdot.isFinite else { throw ValidationError("--pdot \(pdot): must be a number") }
        if let bins, !(8...1024).contains(bins) { throw ValidationError("--bins \(bins): must be 8 to 1024") }
        guard (2...1024).contains(subintegrations) else { throw ValidationError("--subintegrations \(subintegrations): must be 2 to 1024") }
        guard (1...1024).contains(subbands) else { throw ValidationError("--subbands \(subbands): must be 1 to 1024") }
    }

    func run() throws {
        let reader = try ObservationFile.open(file)
        let d = try FoldDiagnostics.measure(
            reader, observation: reader.info, period: period, dm: dm, periodDerivative: pdot, bins: bins,
            subintegrations: subintegrations, subbands: subbands, dmSpan: dmSpan)
        let facts = FoldFacts.lines(d)
        let svg = FoldCharts.document(FoldFacts.panels(d, title: "\((file as NSString).lastPathComponent): fold at P \(String(format: "%.9g", period)) s, DM \(dm)"))
        if let plot { try Data(svg.utf8).write(to: URL(fileURLWithPath: plot), options: .atomic) }
        if let png { try Self.writePNG(svg: svg, to: png) }
        switch format {
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            print(String(decoding: try encoder.encode(d), as: UTF8.self))
        case .table:
            facts.forEach { print($0) }
            if let plot { print("plot: \(plot)") }
            if let png { print("png: \(png)") }
        }
    }

    /// Rasterises `svg` with rsvg-convert (at the SVG's own size, white background) into `path`.
    static func writePNG(svg: String, to path: String) throws {
        let input = (NSTemporaryDirectory() as NSString).appendingPathComponent("xunxing-fold-\(getpid()).svg")
        try Data(svg.utf8).write(to: URL(fileURLWithPath: input))
        defer { try? FileManager.default.removeItem(atPath: input) }
        let run: SubprocessOutput
        do {
            run = try Subprocess.run("/usr/bin/env", ["rsvg-convert", "--format", "png", "--background-color", "white", "--output", path, input])
        } catch {
            throw ValidationError("--png \(path): cannot run rsvg-convert (\(error)); install Debian's librsvg2-bin")
        }
        guard run.status == 0 else {
            throw ValidationError("--png \(path): rsvg-convert failed (status \(run.status)): \(run.stderr.isEmpty ? "install Debian's librsvg2-bin" : run.stderr)")
        }
    }
}
