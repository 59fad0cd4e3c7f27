import Foundation
import PulsarSearch

/// The volunteer's settings, kept in `config.json`. Every field is optional in the file (missing
/// fields take the defaults below), so old files keep working as settings are added.
public struct WorkerConfiguration: Codable, Sendable, Equatable {
    /// Searches run at once, one core each; nil: all cores but one (at least one).
    public var cores: Int?
    /// Seconds of work to keep buffered (downloaded or being downloaded) per core.
    public var bufferSeconds: Double = 1800
    /// Percent of each core's time the searches may use (duty cycle), 1...100.
    public var cpuLimitPercent: Double = 100
    /// Pause searching while the machine is in use (other processes busy, or keyboard and mouse
    /// interrupts in the last `inUseIdleMinutes`).
    public var pauseWhenInUse: Bool = false
    /// Other processes' share of all cores above which the machine counts as in use, 0...1.
    public var inUseLoadThreshold: Double = 0.25
    /// Minutes without keyboard or mouse interrupts before the machine counts as idle again.
    public var inUseIdleMinutes: Double = 3
    /// Pause searching while the machine runs on battery.
    public var pauseOnBattery: Bool = true
    /// Pause while any thermal zone is hotter than this (°C); resume 5 °C below. nil: no limit.
    public var thermalLimitCelsius: Double?
    /// Proxy URL for every transfer; nil: the standard environment variables (`https_proxy`, ...);
    /// "": no proxy at all.
    public var proxy: String?
    /// Verify the coordinator's TLS certificate (turn off only for testing).
    public var verifyTLS: Bool = true
    /// A PEM bundle of certificate authorities replacing the system's.
    public var caBundlePath: String?
    /// First retry delay bound after a failed transfer, seconds (doubles per failure).
    public var backoffBaseSeconds: Double = 1
    /// Largest retry delay bound, seconds.
    public var backoffCapSeconds: Double = 3600
    /// Seconds between rounds of the daemon's loops (status file, policies, polling for work).
    public var loopIntervalSeconds: Double = 1
    /// FFTW planning rigor; `measure` plans are kept as wisdom in the state directory.
    public var fftRigor: FFTRigor = .measure
    /// Process niceness set at start (0...19).
    public var niceness: Int = 19
    /// Measured speed relative to the project's reference core (nil: measured at the next start).
    public var speed: Double?
    /// Where /proc and /sys are (tests point these at fake trees).
    public var procRoot: String = "/proc"
    public var sysRoot: String = "/sys"
    public var devRoot: String = "/dev"
    /// Assignments held at once (downloaded, being searched or waiting); more are refused, and the
    /// coordinator gives them to someone else.
    public var maxTasks: Int = 16
    /// Largest payload the worker downloads, bytes; a larger assignment is refused.
    public var maxPayloadBytes: Int64 = 4 << 30
    /// Memory the searches may use together, MB; nil: half of this machine's memory. Units that
    /// would need more are refused (and the coordinator, told this limit, does not send them);
    /// units that fit wait until running ones leave room.
    public var memoryLimitMB: Int?
    /// Disk space to leave free, MB: a payload that would eat into it is given up ("disk full").
    public var diskReserveMB: Int = 512

    public init() {}

    /// The memory limit in force: the setting, or half of `physicalMB`.
    public func effectiveMemoryLimitMB(physicalMB: Int = Int(ProcessInfo.processInfo.physicalMemory >> 20)) -> Int {
        memoryLimitMB ?? max(256, physicalMB / 2)
    }

    /// Searches to run at once on a machine with `available` cores.
    public func effectiveCores(available: Int = ProcessInfo.processInfo.activeProcessorCount) -> Int {
        cores ?? max(1, available - 1)
    }

    enum CodingKeys: String, CodingKey {
        case cores, bufferSeconds = "buffer_seconds", cpuLimitPercent = "cpu_limit_percent"
        case pauseWhenInUse = "pause_when_in_use", inUseLoadThreshold = "in_use_load_threshold"
        case inUseIdleMinutes = "in_use_idle_minutes", pauseOnBattery = "pause_on_battery"
        case thermalLimitCelsius = "thermal_limit_celsius", proxy, verifyTLS = "verify_tls", caBundlePath = "ca_bundle_path"
        case backoffBaseSeconds = "backoff_base_seconds", backoffCapSeconds = "backoff_cap_seconds"
        case loopIntervalSeconds = "loop_interval_seconds", fftRigor = "fft_rigor", niceness, speed
        case procRoot = "proc_root", sysRoot = "sys_root", devRoot = "dev_root", maxTasks = "max_tasks", maxPayloadBytes = "max_payload_bytes"
        case memoryLimitMB = "memory_limit_mb", diskReserveMB = "disk_reserve_mb"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = WorkerConfiguration.defaults
        cores = try c.decodeIfPresent(Int.self, forKey: .cores)
        bufferSeconds = try c.decodeIfPresent(Double.self, forKey: .bufferSeconds) ?? d.bufferSeconds
        cpuLimitPercent = try c.decodeIfPresent(Double.self, forKey: .cpuLimitPercent) ?? d.cpuLimitPercent
        pauseWhenInUse = try c.decodeIfPresent(Bool.self, forKey: .pauseWhenInUse) ?? d.pauseWhenInUse
        inUseLoadThreshold = try c.decodeIfPresent(Double.self, forKey: .inUseLoadThreshold) ?? d.inUseLoadThreshold
        inUseIdleMinutes = try c.decodeIfPresent(Double.self, forKey: .inUseIdleMinutes) ?? d.inUseIdleMinutes
        pauseOnBattery = try c.decodeIfPresent(Bool.self, forKey: .pauseOnBattery) ?? d.pauseOnBattery
        thermalLimitCelsius = try c.decodeIfPresent(Double.self, forKey: .thermalLimitCelsius)
        proxy = try c.decodeIfPresent(String.self, forKey: .proxy)
        verifyTLS = try c.decodeIfPresent(Bool.self, forKey: .verifyTLS) ?? d.verifyTLS
        caBundlePath = try c.decodeIfPresent(String.self, forKey: .caBundlePath)
        backoffBaseSeconds = try c.decodeIfPresent(Double.self, forKey: .backoffBaseSeconds) ?? d.backoffBaseSeconds
        backoffCapSeconds = try c.decodeIfPresent(Double.self, forKey: .backoffCapSeconds) ?? d.backoffCapSeconds
        loopIntervalSeconds = try c.decodeIfPresent(Double.self, forKey: .loopIntervalSeconds) ?? d.loopIntervalSeconds
        fftRigor = try c.decodeIfPresent(FFTRigor.self, forKey: .fftRigor) ?? d.fftRigor
        niceness = try c.decodeIfPresent(Int.self, forKey: .niceness) ?? d.niceness
        speed = try c.decodeIfPresent(Double.self, forKey: .speed)
        procRoot = try c.decodeIfPresent(String.self, forKey: .procRoot) ?? d.procRoot
        sysRoot = try c.decodeIfPresent(String.self, forKey: .sysRoot) ?? d.sysRoot
        devRoot = try c.decodeIfPresent(String.self, forKey: .devRoot) ?? d.devRoot
        maxTasks = try c.decodeIfPresent(Int.self, forKey: .maxTasks) ?? d.maxTasks
        maxPayloadBytes = try c.decodeIfPresent(Int64.self, forKey: .maxPayloadBytes) ?? d.maxPayloadBytes
        memoryLimitMB = try c.decodeIfPresent(Int.self, forKey: .memoryLimitMB)
        diskReserveMB = try c.decodeIfPresent(Int.self, forKey: .diskReserveMB) ?? d.diskReserveMB
    }

    static let defaults = WorkerConfiguration()

    /// Throws ``WorkerError/invalidSetting(field:value:expected:)`` naming the first field out of
    /// range (`file`, when given, is named too).
    public func validate(file: String? = nil) throws {
        func bad(_ key: CodingKeys, _ value: Any, _ expected: String) -> WorkerError {
            .invalidSetting(field: (file.map { "\($0): " } ?? "") + key.rawValue, value: "\(value)", expected: expected)
        }
        if let cores, cores < 1 { throw bad(.cores, cores, "at least 1") }
        guard bufferSeconds.isFinite, bufferSeconds >= 0 else { throw bad(.bufferSeconds, bufferSeconds, "a non-negative number of seconds") }
        guard cpuLimitPercent.isFinite, cpuLimitPercent >= 1, cpuLimitPercent <= 100 else {
            throw bad(.cpuLimitPercent, cpuLimitPercent, "a percentage from 1 to 100")
        }
        guard inUseLoadThreshold >= 0, inUseLoadThreshold <= 1 else { throw bad(.inUseLoadThreshold, inUseLoadThreshold, "a fraction from 0 to 1") }
        guard inUseIdleMinutes.isFinite, inUseIdleMinutes >= 0 else { throw bad(.inUseIdleMinutes, inUseIdleMinutes, "non-negative minutes") }
        if let t = thermalLimitCelsius, !(t.isFinite && t > 0 && t < 150) { throw bad(.thermalLimitCelsius, t, "degrees Celsius between 0 and 150") }
        guard backoffBaseSeconds.isFinite, backoffBaseSeconds > 0 else { throw bad(.backoffBaseSeconds, backoffBaseSeconds, "a positive number of seconds") }
        guard backoffCapSeconds.isFinite, backoffCapSeconds >= backoffBaseSeconds else {
            throw bad(.backoffCapSeconds, backoffCapSeconds, "seconds, at least backoff_base_seconds (\(backoffBaseSeconds))")
        }
        guard loopIntervalSeconds.isFinite, loopIntervalSeconds >= 0.01, loopIntervalSeconds <= 60 else {
            throw bad(.loopIntervalSeconds, loopIntervalSeconds, "seconds from 0.01 to 60")
        }
        guard (0...19).contains(niceness) else { throw bad(.niceness, niceness, "0 to 19") }
        if let speed, !(speed.isFinite && speed > 0) { throw bad(.speed, speed, "a positive factor") }
        if let proxy, !proxy.isEmpty, !proxy.contains("://") { throw bad(.proxy, proxy, "a URL such as http://proxy:3128, or \"\" for none") }
        guard (1...1024).contains(maxTasks) else { throw bad(.maxTasks, maxTasks, "1 to 1024") }
        guard maxPayloadBytes >= 1 << 20 else { throw bad(.maxPayloadBytes, maxPayloadBytes, "at least 1048576 bytes") }
        if let memoryLimitMB, memoryLimitMB < 64 { throw bad(.memoryLimitMB, memoryLimitMB, "at least 64 MB, or null for half of this machine's memory") }
        guard diskReserveMB >= 0 else { throw bad(.diskReserveMB, diskReserveMB, "a non-negative number of MB") }
    }

    /// Applies `key=value` (a `config.json` field name) and validates the result.
    public mutating func set(_ key: String, _ value: String) throws {
        var changed = self
        try changed.apply(key, value)
        try changed.validate()
        self = changed
    }

    private mutating func apply(_ key: String, _ value: String) throws {
        guard let field = CodingKeys(rawValue: key) else {
            throw WorkerError.invalidSetting(
                field: key, value: value, expected: "one of " + Self.settableKeys.joined(separator: ", "))
        }
        func number() throws -> Double {
            guard let v = Double(value) else { throw WorkerError.invalidSetting(field: key, value: value, expected: "a number") }
            return v
        }
        func flag() throws -> Bool {
            switch value.lowercased() {
            case "true", "yes", "on", "1": return true
            case "false", "no", "off", "0": return false
            default: throw WorkerError.invalidSetting(field: key, value: value, expected: "true or false")
            }
        }
        let unset = value.isEmpty || value == "null"
        switch field {
        case .cores: cores = try unset ? nil : Int(number())
        case .bufferSeconds: bufferSeconds = try number()
        case .cpuLimitPercent: cpuLimitPercent = try number()
        case .pauseWhenInUse: pauseWhenInUse = try flag()
        case .inUseLoadThreshold: inUseLoadThreshold = try number()
        case .inUseIdleMinutes: inUseIdleMinutes = try number()
        case .pauseOnBattery: pauseOnBattery = try flag()
        case .thermalLimitCelsius: thermalLimitCelsius = try unset ? nil : number()
        case .proxy: proxy = value == "null" ? nil : value
        case .verifyTLS: verifyTLS = try flag()
        case .caBundlePath: caBundlePath = unset ? nil : value
        case .backoffBaseSeconds: backoffBaseSeconds = try number()
        case .backoffCapSeconds: backoffCapSeconds = try number()
        case .loopIntervalSeconds: loopIntervalSeconds = try number()
        case .fftRigor:
            guard let rigor = FFTRigor(rawValue: value) else {
                throw WorkerError.invalidSetting(field: key, value: value, expected: "estimate, measure or patient")
            }
            fftRigor = rigor
        case .niceness: niceness = Int(try number())
        case .speed: speed = try unset ? nil : number()
        case .procRoot: procRoot = value
        case .sysRoot: sysRoot = value
        case .devRoot: devRoot = value
        case .maxTasks: maxTasks = Int(try number())
        case .maxPayloadBytes: maxPayloadBytes = Int64(try number())
        case .memoryLimitMB: memoryLimitMB = try unset ? nil : Int(number())
        case .diskReserveMB: diskReserveMB = Int(try number())
        }
    }

    /// The field names `set` accepts.
    public static var settableKeys: [String] {
        [CodingKeys.cores, .bufferSeconds, .cpuLimitPercent, .pauseWhenInUse, .inUseLoadThreshold, .inUseIdleMinutes,
         .pauseOnBattery, .thermalLimitCelsius, .proxy, .verifyTLS, .caBundlePath, .backoffBaseSeconds,
         .backoffCapSeconds, .loopIntervalSeconds, .fftRigor, .niceness, .speed, .procRoot, .sysRoot, .devRoot, .maxTasks,
         .maxPayloadBytes, .memoryLimitMB, .diskReserveMB].map(\.rawValue)
    }
}
