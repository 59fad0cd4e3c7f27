import ArgumentParser
import Foundation
import Logging
import Worker

@main
struct XunxingWorker: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "xunxing-worker",
        abstract: "The Xunxing (寻星) volunteer worker: searches radio-telescope data for pulsars on this machine.",
        discussion: """
            Sign up once with `xunxing signup` (or on the project's web site) to get an account key, \
            attach this machine with it, then run the daemon (the Debian package runs it as the \
            xunxing-worker systemd service, state in /var/lib/xunxing).

            The worker is a polite guest: it runs at the lowest priority, can be limited to a share \
            of each core, pauses on battery, and can pause while the machine is in use or too hot \
            (see `xunxing-worker config --help`).

            Examples:
              xunxing-worker attach --coordinator https://xunxing.example.org --account-key xxvol_...
              xunxing-worker run
              xunxing-worker status
              xunxing-worker config set cpu_limit_percent 50
            """,
        version: WorkerVersion.string,
        subcommands: [AttachCommand.self, RunCommand.self, StatusCommand.self, ConfigCommand.self, ConfineCommand.self, DetachCommand.self]
    )
}

/// `--state-dir`, shared by every subcommand.
struct StateOptions: ParsableArguments {
    @Option(help: "State directory (default: $XUNXING_STATE_DIR, else ~/.local/share/xunxing; the service uses /var/lib/xunxing).")
    var stateDir: String?

    var state: StateDirectory { StateDirectory(path: stateDir ?? StateDirectory.defaultPath()) }
}

/// Logs to standard error at `level`.
func makeLogger(level: Logger.Level) -> Logger {
    var logger = Logger(label: "xunxing-worker") { StreamLogHandler.standardError(label: $0) }
    logger.logLevel = level
    return logger
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// A failure reported as `Error: <message>` and exit status 1, without the usage text that
/// ArgumentParser adds to validation errors (the arguments were fine; the world was not).
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
}

/// Turns the library's errors into a clean exit with their message.
func reporting<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as WorkerError {
        throw CommandFailure(description: error.description)
    }
}
