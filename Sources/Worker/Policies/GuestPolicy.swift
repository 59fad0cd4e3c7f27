import Foundation

/// Why searching is paused.
public enum PauseReason: Sendable, Equatable, CustomStringConvertible {
    /// Other processes use this share of the CPUs.
    case machineInUse(load: Double)
    /// Keyboard, pointer or a terminal were used in the last minutes.
    case userActive
    case onBattery
    /// The hottest thermal zone is at this temperature, °C.
    case tooHot(celsius: Double)

    public var description: String {
        switch self {
        case .machineInUse(let load): return "machine in use (other processes use \(Int((load * 100).rounded()))% of the CPUs)"
        case .userActive: return "machine in use (keyboard, pointer or terminal)"
        case .onBattery: return "on battery"
        case .tooHot(let celsius): return "too hot (\(String(format: "%.1f", celsius)) °C)"
        }
    }

    /// The reason without its figures: a pause whose load moves from 31 % to 32 % is the same
    /// pause (logged once, not once a second).
    public var kind: String {
        switch self {
        case .machineInUse: return "machine in use"
        case .userActive: return "user active"
        case .onBattery: return "on battery"
        case .tooHot: return "too hot"
        }
    }
}

/// The host policies that decide whether searches may run now: in use, on battery, too hot. One
/// instance, called from one thread (the daemon's supervisor) about once per loop interval.
public struct GuestPolicy: Sendable {
    public private(set) var configuration: WorkerConfiguration
    /// Degrees below the thermal limit at which searching resumes.
    public static let thermalHysteresis = 5.0

    private let sys: SysReader
    private let proc: ProcReader
    private var loadMeter: OtherLoadMeter
    private let input: InputActivity
    private var lastInput: InputActivity.Reading?
    private var lastInputChange: Date?
    private var hot = false

    public init(configuration: WorkerConfiguration) {
        self.configuration = configuration
        sys = SysReader(root: configuration.sysRoot)
        proc = ProcReader(root: configuration.procRoot)
        loadMeter = OtherLoadMeter(reader: proc)
        input = InputActivity(procRoot: configuration.procRoot, sysRoot: configuration.sysRoot, devRoot: configuration.devRoot)
    }

    /// Takes changed settings, keeping what the policy has seen (the last input, a thermal pause
    /// in its hysteresis): a volunteer typing `config set` is not a reason to resume at once.
    public mutating func reconfigure(_ changed: WorkerConfiguration) {
        if changed.procRoot != configuration.procRoot || changed.sysRoot != configuration.sysRoot
            || changed.devRoot != configuration.devRoot {
            self = GuestPolicy(configuration: changed)
        } else {
            configuration = changed
        }
    }

    /// Why searching should pause now, or nil to run.
    public mutating func evaluate(now: Date = Date()) -> PauseReason? {
        if let limit = configuration.thermalLimitCelsius, let celsius = sys.hottestZoneCelsius() {
            if celsius > limit { hot = true }
            if hot && celsius < limit - Self.thermalHysteresis { hot = false }
            if hot { return .tooHot(celsius: celsius) }
        }
        if configuration.pauseOnBattery, sys.onBattery() { return .onBattery }
        if configuration.pauseWhenInUse {
            let reading = input.read()
            if !reading.isEmpty {
                if let last = lastInput, reading != last { lastInputChange = now }
                lastInput = reading
            }
            if let changed = lastInputChange, now.timeIntervalSince(changed) < configuration.inUseIdleMinutes * 60 {
                return .userActive
            }
            if let load = loadMeter.sample(), load > configuration.inUseLoadThreshold {
                return .machineInUse(load: load)
            }
        }
        return nil
    }
}
