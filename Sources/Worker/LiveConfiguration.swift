#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import PulsarSearch

/// Settings given on `run`'s command line: they override `config.json` for that run, and keep
/// overriding it when the file changes while the daemon runs.
public struct ConfigurationOverrides: Sendable, Equatable {
    public var cores: Int?
    public var cpuLimitPercent: Double?
    public var bufferSeconds: Double?
    public var speed: Double?
    public var fftRigor: FFTRigor?
    public var loopIntervalSeconds: Double?
    public var backoffBaseSeconds: Double?
    public var backoffCapSeconds: Double?

    public init() {}

    /// `configuration` with these overrides applied.
    public func applied(to configuration: WorkerConfiguration) -> WorkerConfiguration {
        var c = configuration
        if let cores { c.cores = cores }
        if let cpuLimitPercent { c.cpuLimitPercent = cpuLimitPercent }
        if let bufferSeconds { c.bufferSeconds = bufferSeconds }
        if let speed { c.speed = speed }
        if let fftRigor { c.fftRigor = fftRigor }
        if let loopIntervalSeconds { c.loopIntervalSeconds = loopIntervalSeconds }
        if let backoffBaseSeconds { c.backoffBaseSeconds = backoffBaseSeconds }
        if let backoffCapSeconds { c.backoffCapSeconds = backoffCapSeconds }
        return c
    }
}

/// Notices a changed `config.json` while the daemon runs. `config set` replaces the file by a
/// rename, so a new inode, size or modification time means a new file; SIGHUP asks for a reread
/// whatever the file looks like. A file that does not parse or validate is reported and the
/// running settings are kept.
struct ConfigurationWatcher {
    let path: String
    private var signature: [Int64]?

    init(path: String) {
        self.path = path
        signature = Self.signature(of: path)
    }

    static func signature(of path: String) -> [Int64]? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return [Int64(info.st_ino), Int64(info.st_size), Int64(info.st_mtim.tv_sec), Int64(info.st_mtim.tv_nsec)]
    }

    /// True when the file changed since the last call (or `force`).
    mutating func changed(force: Bool = false) -> Bool {
        let now = Self.signature(of: path)
        defer { signature = now }
        return force || now != signature
    }
}

extension WorkerConfiguration {
    /// Fields that take effect only at the next start (the HTTP clients and the FFT planner are
    /// made once).
    static let restartOnlyKeys: Set<String> = ["proxy", "verify_tls", "ca_bundle_path", "fft_rigor",
                                               "backoff_base_seconds", "backoff_cap_seconds"]

    /// The `config.json` fields whose values differ between `self` and `other`, as
    /// "name: old -> new", in the file's order.
    func differences(from other: WorkerConfiguration) -> [(key: String, change: String)] {
        guard let mine = try? Self.fields(self), let theirs = try? Self.fields(other) else { return [] }
        return Self.settableKeys.compactMap { key in
            let old = theirs[key] ?? "null", new = mine[key] ?? "null"
            return old == new ? nil : (key, "\(key): \(old) -> \(new)")
        }
    }

    private static func fields(_ c: WorkerConfiguration) throws -> [String: String] {
        let data = try StateCoding.encoder().encode(c)
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        return object.mapValues { "\($0)" }
    }
}
