import Foundation

/// A systemd drop-in that lets the worker's service reach its coordinator and nothing else:
/// `IPAddressDeny=any`, then `IPAddressAllow=` the coordinator's addresses, loopback and the name
/// servers in `resolv.conf` (so that the coordinator's name still resolves). Kept apart from the
/// packaged unit because the coordinator is only known once the machine is attached.
public enum NetworkConfinement {
    /// Where the drop-in goes.
    public static let dropInPath = "/etc/systemd/system/xunxing-worker.service.d/coordinator.conf"

    /// The drop-in for `coordinatorURL`, whose host resolves to `addresses`, with `nameServers`.
    public static func dropIn(coordinatorURL: String, addresses: [String], nameServers: [String]) -> String {
        var lines = [
            "# Written by `xunxing-worker confine` for \(coordinatorURL): the worker may reach its",
            "# coordinator, this machine and the name servers, nothing else. Run it again if the",
            "# coordinator moves.",
            "[Service]",
            "IPAddressDeny=any",
            "IPAddressAllow=localhost",
        ]
        for address in (addresses + nameServers).reduce(into: [String](), { if !$0.contains($1) { $0.append($1) } }) {
            lines.append("IPAddressAllow=\(address)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The IPv4 and IPv6 addresses `host` resolves to (the literal itself when it is an address).
    public static func resolve(host: String) throws -> [String] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let code = getaddrinfo(host, nil, &hints, &result)
        guard code == 0, let first = result else {
            throw WorkerError.invalidSetting(field: "coordinator", value: host, expected: "a host name that resolves (\(String(cString: gai_strerror(code))))")
        }
        defer { freeaddrinfo(first) }
        var addresses: [String] = []
        var node: UnsafeMutablePointer<addrinfo>? = first
        while let info = node {
            var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(info.pointee.ai_addr, info.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 {
                let text = String(cString: buffer)
                if !addresses.contains(text) { addresses.append(text) }
            }
            node = info.pointee.ai_next
        }
        return addresses
    }

    /// The `nameserver` addresses of a resolv.conf.
    public static func nameServers(resolvConf: String) -> [String] {
        resolvConf.split(separator: "\n").compactMap { line in
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, fields[0] == "nameserver" else { return nil }
            return String(fields[1])
        }
    }
}

/// The worker's own limits as systemd resource controls, for the same drop-in: the kernel then
/// enforces what the daemon already keeps to, so a bug or a runaway search cannot take more.
/// `CPUQuota` is the searches' cores times `cpu_limit_percent`, plus 10 % of a core for the
/// transfers and the supervisor; `MemoryMax` is `memory_limit_mb` plus 256 MB for the process.
public enum ResourceLimits {
    public static func dropInLines(_ configuration: WorkerConfiguration,
                                   available: Int = ProcessInfo.processInfo.activeProcessorCount) -> [String] {
        let cores = configuration.effectiveCores(available: available)
        let quota = Int((Double(cores) * configuration.cpuLimitPercent).rounded(.up)) + 10
        return [
            "# The worker's own limits (cores \(cores), cpu_limit_percent \(configuration.cpuLimitPercent), memory_limit_mb \(configuration.effectiveMemoryLimitMB())),",
            "# enforced by the kernel. Run `confine` again after changing them.",
            "CPUQuota=\(quota)%",
            "MemoryMax=\(configuration.effectiveMemoryLimitMB() + 256)M",
        ]
    }
}
