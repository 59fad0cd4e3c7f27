import ArgumentParser
import Foundation
import Worker

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Show or change the worker's settings (config.json in the state directory).",
        discussion: """
            Settings: \(WorkerConfiguration.settableKeys.joined(separator: ", ")).
            A running daemon picks a change up within a second and logs it ("settings changed: \
            ..."); proxy, verify_tls, ca_bundle_path, fft_rigor and the backoff settings take effect \
            when it restarts. Options given to `run` keep overriding the file.

            Examples:
              xunxing-worker config show
              xunxing-worker config set cores 2
              xunxing-worker config set cpu_limit_percent 50
              xunxing-worker config set pause_when_in_use true
              xunxing-worker config set thermal_limit_celsius 80
              xunxing-worker config set proxy http://proxy.example.org:3128
            """,
        subcommands: [Show.self, Set.self],
        defaultSubcommand: Show.self
    )

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the settings as JSON.")
        @OptionGroup var state: StateOptions

        func run() throws {
            let configuration = try reporting { try state.state.loadConfiguration() }
            print(String(decoding: try StateCoding.encoder().encode(configuration), as: UTF8.self))
        }
    }

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change one setting (an empty value or null clears an optional one).")
        @OptionGroup var state: StateOptions
        @Argument(help: "The setting, as named in config.json.") var key: String
        @Argument(help: "The new value.") var value: String

        func run() throws {
            try reporting {
                let directory = state.state
                try directory.prepare()
                // Two `config set` at once must not lose one change: read, change and replace under a lock.
                try directory.withConfigurationLock {
                    var configuration = try directory.loadConfiguration()
                    try configuration.set(key, value)
                    try directory.saveConfiguration(configuration)
                }
            }
            print("\(key) = \(value)")
        }
    }
}
