import ArgumentParser
import Foundation
import PulsarSearch

struct RFICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rfi",
        abstract: "Find the interference in a filterbank: a channel x time mask, as PRESTO's rfifind makes.",
        discussion: """
            Reads FILE (SIGPROC or PSRFITS) once. Each channel x block cell is judged by its mean, \
            its standard deviation and its strongest Fourier power against robust statistics of \
            the rest; channels and blocks mostly bad are masked whole. Prints what was masked per \
            channel and over time, and with -o writes the mask for `xunxing search --mask`.

            `xunxing search` measures the same mask itself by default (--rfi auto).

            Examples:
              xunxing rfi obs.fil
              xunxing rfi obs.fits -o obs.mask --time-sigma 8 --zap-channel 0 --zap-channel 1
              xunxing search obs.fil --mask obs.mask
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json }

    @Argument(help: "The observation: a SIGPROC filterbank or a PSRFITS search-mode file.")
    var file: String

    @Option(name: .shortAndLong, help: "Write the mask to this file.")
    var output: String?

    @Option(help: "table: a summary and plots in text; json: the report (fractions per channel and block).")
    var format: Format = .table

    @OptionGroup(title: "Interference")
    var rfi: RFIArguments

    func run() throws {
        var options = rfi.options
        options.mode = .auto
        let source = try ObservationFile.open(file)
        let started = Date()
        let mask = try RFIMasker(options: options, planner: FFTPlanner(rigor: .estimate)).measure(source)
        let report = try CleanedSpectra(source: source, mask: mask).report()
        let elapsed = Date().timeIntervalSince(started)
        if let output { try mask.write(to: output) }
        switch format {
        case .json:
            try printJSON(report)
        case .table:
            print(String(format: "%@: %d channels x %d blocks of %.3g s, measured in %.2f s",
                         (file as NSString).lastPathComponent, mask.channels, mask.blocks, report.blockSeconds, elapsed))
            print(report.summary)
            if !report.maskedChannels.isEmpty { print("channels masked whole: \(Self.ranges(report.maskedChannels))") }
            print("masked per channel (\(Self.columns(mask.channels)) columns, low to high channel number):")
            print(Self.bar(report.channelFractions))
            print("masked per block (\(Self.columns(mask.blocks)) columns, start to end):")
            print(Self.bar(report.blockFractions))
            if let output { print("mask written to \(output)") }
        }
    }

    static func columns(_ n: Int) -> Int { min(n, 64) }

    /// Fractions as a row of shades: ' ' none, '.' < 10 %, ':' < 50 %, '#' above.
    static func bar(_ fractions: [Double]) -> String {
        let width = columns(fractions.count)
        let cells = (0..<width).map { i -> Character in
            let lo = i * fractions.count / width, hi = max(lo + 1, (i + 1) * fractions.count / width)
            let f = fractions[lo..<hi].reduce(0, +) / Double(hi - lo)
            return f == 0 ? " " : f < 0.1 ? "." : f < 0.5 ? ":" : "#"
        }
        return "|" + String(cells) + "|"
    }

    /// `0-3, 7, 9-10`.
    static func ranges(_ values: [Int]) -> String {
        var parts: [String] = []
        var i = 0
        while i < values.count {
            var j = i
            while j + 1 < values.count && values[j + 1] == values[j] + 1 { j += 1 }
            parts.append(i == j ? "\(values[i])" : "\(values[i])-\(values[j])")
            i = j + 1
        }
        return parts.joined(separator: ", ")
    }
}
