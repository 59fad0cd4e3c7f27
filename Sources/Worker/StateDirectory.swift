import Foundation

/// The worker's state directory and the files in it. Every file is written atomically
/// (``AtomicFile``), so a worker killed at any moment finds consistent state when it restarts.
///
/// Layout:
///
///     host.json                      coordinator URL, host id and host key (mode 0600)
///     config.json                    the volunteer's settings (``WorkerConfiguration``)
///     tasks/<replica>/assignment.json  what the coordinator assigned (``TaskRecord``)
///     tasks/<replica>/payload.xxwu     the downloaded payload
///     tasks/<replica>/checkpoint.json  next trial, candidates and CPU time so far (``Checkpoint``)
///     results/<replica>.json           finished results awaiting upload (``PendingResult``)
///     status.json                      written by the running daemon for `xunxing-worker status`
///     fftw-wisdom                      FFTW's plans for this machine
///     worker.lock                      held (flock) by the running daemon
public struct StateDirectory: Sendable, Equatable {
    /// The directory's path.
    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// The default: `$XUNXING_STATE_DIR`, else `$XDG_DATA_HOME/xunxing`, else
    /// `~/.local/share/xunxing`. The system service passes `--state-dir /var/lib/xunxing`.
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let explicit = environment["XUNXING_STATE_DIR"], !explicit.isEmpty { return explicit }
        if let xdg = environment["XDG_DATA_HOME"], !xdg.isEmpty { return (xdg as NSString).appendingPathComponent("xunxing") }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return (home as NSString).appendingPathComponent(".local/share/xunxing")
    }

    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    public var hostFile: String { file("host.json") }
    public var configFile: String { file("config.json") }
    public var statusFile: String { file("status.json") }
    public var wisdomFile: String { file("fftw-wisdom") }
    public var lockFile: String { file("worker.lock") }
    public var tasksDirectory: String { file("tasks") }
    public var resultsDirectory: String { file("results") }

    /// The directory of one task.
    public func taskDirectory(_ replica: String) -> String { (tasksDirectory as NSString).appendingPathComponent(replica) }

    /// Creates the directory and its subdirectories (mode 0750) and removes temporary files a
    /// killed process left behind.
    public func prepare() throws {
        for directory in [path, tasksDirectory, resultsDirectory] {
            do {
                try FileManager.default.createDirectory(
                    atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
            } catch {
                throw WorkerError.io(path: directory, operation: "create directory", reason: error.localizedDescription)
            }
        }
        AtomicFile.removeLeftovers(in: path)
        AtomicFile.removeLeftovers(in: resultsDirectory)
        for replica in (try? FileManager.default.contentsOfDirectory(atPath: tasksDirectory)) ?? [] {
            AtomicFile.removeLeftovers(in: taskDirectory(replica))
        }
    }

    // MARK: host.json and config.json

    /// The attached host, or ``WorkerError/notAttached(stateDirectory:)``.
    public func loadHost() throws -> HostIdentity {
        guard let host = try AtomicFile.readJSON(HostIdentity.self, from: hostFile) else {
            throw WorkerError.notAttached(stateDirectory: path)
        }
        return host
    }

    /// Saves the host identity readable by its owner only (it holds the host key).
    public func saveHost(_ host: HostIdentity) throws {
        try AtomicFile.writeJSON(host, to: hostFile, mode: 0o600)
    }

    /// The saved configuration, or the defaults when there is no `config.json`.
    public func loadConfiguration() throws -> WorkerConfiguration {
        let configuration = try AtomicFile.readJSON(WorkerConfiguration.self, from: configFile) ?? WorkerConfiguration()
        try configuration.validate(file: configFile)
        return configuration
    }

    public func saveConfiguration(_ configuration: WorkerConfiguration) throws {
        try configuration.validate(file: configFile)
        try AtomicFile.writeJSON(configuration, to: configFile, mode: 0o640)
    }
}

/// The host as the coordinator registered it: kept in `host.json` (mode 0600).
public struct HostIdentity: Codable, Sendable, Equatable {
    /// The coordinator's base URL, e.g. `https://xunxing.example.org`.
    public var coordinatorURL: String
    public var hostID: String
    /// The host's secret key (sent as a bearer token with every call).
    public var hostKey: String
    /// The name registered for this machine.
    public var name: String
    public var attachedAt: Date

    enum CodingKeys: String, CodingKey {
        case coordinatorURL = "coordinator_url", hostID = "host_id", hostKey = "host_key", name, attachedAt = "attached_at"
    }

    public init(coordinatorURL: String, hostID: String, hostKey: String, name: String, attachedAt: Date = Date()) {
        self.coordinatorURL = coordinatorURL
        self.hostID = hostID
        self.hostKey = hostKey
        self.name = name
        self.attachedAt = attachedAt
    }
}

extension StateDirectory {
    /// Bytes free for an unprivileged writer on the state directory's file system (nil when it
    /// cannot be read).
    public func freeDiskBytes() -> Int64? {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return nil }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }
}
