import ArgumentParser
import Foundation
import Worker
import XunxingClient

struct AttachCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attach",
        abstract: "Register this machine with a coordinator under your volunteer account.",
        discussion: """
            Stores the host's identity and key in the state directory (host.json, readable by its \
            owner only). Attaching again replaces it with a new host.

            Examples:
              xunxing-worker attach --coordinator https://xunxing.example.org --account-key xxvol_...
              sudo -u xunxing xunxing-worker attach --state-dir /var/lib/xunxing \\
                  --coordinator https://xunxing.example.org --account-key xxvol_...
            """
    )

    @OptionGroup var state: StateOptions
    @Option(help: "The coordinator's URL.") var coordinator: String
    @Option(help: "Your volunteer account key (from `xunxing signup`; default: $XUNXING_ACCOUNT_KEY).") var accountKey: String?
    @Option(help: "The name this machine is shown under (default: its host name).") var name: String?
    @Option(help: "Proxy URL (default: the https_proxy/http_proxy environment variables).") var proxy: String?

    func run() throws {
        guard let key = accountKey ?? ProcessInfo.processInfo.environment["XUNXING_ACCOUNT_KEY"], !key.isEmpty else {
            throw ValidationError("no account key: pass --account-key KEY or set XUNXING_ACCOUNT_KEY")
        }
        let directory = state.state
        let identity = try reporting { () -> HostIdentity in
            var configuration = try directory.loadConfiguration()
            if let proxy { configuration.proxy = proxy }
            do {
                return try Attach.attach(coordinator: coordinator, accountKey: key, state: directory, name: name,
                                         configuration: configuration)
            } catch let error as CoordinatorClientError {
                throw CommandFailure(description: "cannot attach to \(coordinator): \(error)")
            }
        }
        print("attached host \(identity.hostID) (\(identity.name)) to \(identity.coordinatorURL); state in \(directory.path)")
    }
}
