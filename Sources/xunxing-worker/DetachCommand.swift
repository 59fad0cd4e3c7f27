import ArgumentParser
import Foundation
import Worker

struct DetachCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detach",
        abstract: "Detach this machine from its coordinator: upload finished results, give back the rest.",
        discussion: """
            Stop the daemon first (sudo systemctl stop xunxing-worker). Finished results are \
            uploaded, and every unit still held is given back so that the coordinator sends it \
            to another volunteer at once instead of waiting for its deadline. Then the host's \
            identity (host.json), tasks and results are deleted; your settings (config.json) and \
            this machine's FFTW plans stay for the next attach. If the coordinator cannot be \
            reached nothing is deleted, unless --force.

            Examples:
              xunxing-worker detach
              sudo systemctl stop xunxing-worker && sudo -u xunxing xunxing-worker detach --state-dir /var/lib/xunxing
            """
    )

    @OptionGroup var state: StateOptions
    @Flag(help: "Detach even if the coordinator cannot be told (its units then wait for their deadlines).")
    var force = false

    func run() throws {
        let directory = state.state
        let summary = try reporting { try Detach.detach(state: directory, force: force, logger: makeLogger(level: .warning)) }
        print("detached: \(summary.resultsUploaded) results uploaded, \(summary.resultsRefused) refused, \(summary.unitsGivenBack) units given back")
        for problem in summary.unreachable { print("not told: \(problem)") }
        print("attach again with: xunxing-worker attach --coordinator URL --account-key KEY --state-dir \(directory.path)")
    }
}
