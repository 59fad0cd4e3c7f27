import Foundation
import XunxingClient
import XunxingProtocol

/// Attaching a machine: registering it with the coordinator under the volunteer's account.
public enum Attach {
    /// Registers this machine with the account key and saves `host.json` (and a default
    /// `config.json` when there is none). Blocking: call from a thread that may block.
    public static func attach(
        coordinator: String, accountKey: String, state: StateDirectory, name: String? = nil,
        configuration: WorkerConfiguration? = nil
    ) throws -> HostIdentity {
        try CoordinatorURLPolicy.check(coordinator)
        // A failed first attach leaves no empty state directory behind.
        let existed = FileManager.default.fileExists(atPath: state.path)
        do {
            return try register(coordinator: coordinator, accountKey: accountKey, state: state, name: name, configuration: configuration)
        } catch {
            if !existed { try? FileManager.default.removeItem(atPath: state.path) }
            throw error
        }
    }

    private static func register(
        coordinator: String, accountKey: String, state: StateDirectory, name: String?, configuration: WorkerConfiguration?
    ) throws -> HostIdentity {
        try state.prepare()
        let config = try configuration ?? state.loadConfiguration()
        let client = CoordinatorClient(
            baseURL: coordinator, secret: accountKey,
            http: .init(configuration: WorkerDaemon.httpConfiguration(config)))
        let hostName = name ?? ProcessInfo.processInfo.hostName
        let registration = try client.registerHost(HostRegistration(
            name: hostName, cores: ProcessInfo.processInfo.activeProcessorCount,
            memoryMB: Int(ProcessInfo.processInfo.physicalMemory >> 20), os: operatingSystem()))
        let identity = HostIdentity(
            coordinatorURL: client.baseURL, hostID: registration.hostID, hostKey: registration.hostKey, name: hostName)
        try state.saveHost(identity)
        if !FileManager.default.fileExists(atPath: state.configFile) { try state.saveConfiguration(config) }
        return identity
    }

    /// "Linux <kernel release>" (or the platform's name elsewhere).
    static func operatingSystem() -> String {
        var names = utsname()
        uname(&names)
        let release = withUnsafeBytes(of: &names.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        #if os(Linux)
        return "Linux \(release)"
        #else
        return "Darwin \(release)"
        #endif
    }
}
