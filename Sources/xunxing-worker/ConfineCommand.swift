import ArgumentParser
import Foundation
import Worker

struct ConfineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "confine",
        abstract: "Print a systemd drop-in that lets the service reach only its coordinator, within its own limits.",
        discussion: """
            The packaged unit confines the worker's files, privileges and system calls; which \
            addresses it may reach depends on the coordinator it is attached to, so that part is \
            a drop-in: IPAddressDeny=any, then IPAddressAllow= the coordinator's addresses (as \
            resolved now), localhost and the name servers of /etc/resolv.conf. It also sets \
            CPUQuota (cores x cpu_limit_percent, plus 10 % of a core for transfers) and MemoryMax \
            (memory_limit_mb plus 256 MB), so the kernel enforces the worker's own limits. Install \
            it as root and restart the service; run it again if the coordinator's addresses or \
            those settings change.

            Example:
              sudo -u xunxing xunxing-worker confine --state-dir /var/lib/xunxing \\
                | sudo install -D -m 0644 /dev/stdin \(NetworkConfinement.dropInPath)
              sudo systemctl daemon-reload && sudo systemctl restart xunxing-worker
            """
    )

    @OptionGroup var state: StateOptions
    @Option(help: "resolv.conf to take name servers from.") var resolvConf = "/etc/resolv.conf"

    func run() throws {
        let directory = state.state
        let output = try reporting { () -> String in
            let host = try directory.loadHost()
            guard let name = URLComponents(string: host.coordinatorURL)?.host else {
                throw WorkerError.invalidSetting(field: "coordinator", value: host.coordinatorURL, expected: "a URL with a host")
            }
            let addresses = try NetworkConfinement.resolve(host: name)
            let servers = NetworkConfinement.nameServers(resolvConf: (try? String(contentsOfFile: resolvConf, encoding: .utf8)) ?? "")
            let limits = ResourceLimits.dropInLines(try directory.loadConfiguration())
            return NetworkConfinement.dropIn(coordinatorURL: host.coordinatorURL, addresses: addresses, nameServers: servers)
                + limits.joined(separator: "\n") + "\n"
        }
        print(output, terminator: "")
    }
}
