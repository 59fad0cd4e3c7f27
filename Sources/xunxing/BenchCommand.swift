import ArgumentParser

/// `xunxing bench`: the benchmarks, each a subcommand with its own options; the periodicity search
/// (`bench search`) is the default. The group itself takes no options: an option here would
/// shadow the subcommands' options of the same name (ArgumentParser gives each option to the
/// first command in the chain that declares it).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks: the periodicity search (the default), the splitter, dedispersion, RFI, single-pulse and FFA searches.",
        discussion: """
            Build with `swift build -c release` first (or run the scripts/bench-*.sh scripts): \
            debug builds are not representative. `xunxing bench --input F` is `xunxing bench \
            search --input F`.
            """,
        subcommands: [BenchSearchCommand.self, BenchSplitCommand.self, BenchDedisperseCommand.self, BenchFloorCommand.self,
                      BenchUnitsCommand.self, BenchRFICommand.self, BenchSinglePulseCommand.self, BenchFFACommand.self],
        defaultSubcommand: BenchSearchCommand.self
    )
}
