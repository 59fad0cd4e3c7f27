import ArgumentParser

@main
struct Xunxing: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "xunxing",
        abstract: "Xunxing (寻星): search radio-telescope data for pulsars.",
        discussion: """
            Search a file on this machine with `xunxing search FILE`, or make test data with \
            `xunxing simulate`. `xunxing bench` measures the search against the bare FFT.

            With a coordinator: astronomers `submit` datasets and follow them with `status` and \
            `candidates`; volunteers `signup` and attach machines with xunxing-worker.

            Examples:
              xunxing simulate --period 0.0123 --dm 75 --snr 25 obs.fil
              xunxing search obs.fil
              xunxing search obs.fil --dm-max 200 --accel-max 50 --format json
              xunxing submit obs.fil --coordinator http://localhost:8080 --token xxast_...
            """,
        subcommands: [
            SearchCommand.self, SinglePulseCommand.self, RFICommand.self, FoldCommand.self, KnownCommand.self, SimulateCommand.self, BenchCommand.self,
            SubmitCommand.self, StatusCommand.self, PublishCommand.self, CandidatesCommand.self, SignupCommand.self, ProfileCommand.self, KeyCommand.self,
        ]
    )
}
