import ArgumentParser

@main
struct Xunxing: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "xunxing",
        abstract: "Xunxing (寻星): search radio-telescope data for pulsars.",
        discussion: """
            Search a file on this machine with `xunxing search FILE`, or make test data with \
            `xunxing simulate`. `xunxing bench` measures the search against the bare FFT.

            Examples:
              xunxing simulate --period 0.0123 --dm 75 --snr 25 obs.fil
              xunxing search obs.fil
              xunxing search obs.fil --dm-max 200 --accel-max 50 --format json
            """,
        subcommands: [SearchCommand.self, SimulateCommand.self, BenchCommand.self]
    )
}
