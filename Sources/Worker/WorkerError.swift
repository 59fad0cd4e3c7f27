import Foundation

/// Why the worker could not do something. Every case names the file, field or value concerned, so
/// ``description`` is a sentence a volunteer can act on.
public enum WorkerError: Error, CustomStringConvertible, Sendable, Equatable {
    /// A file or directory operation failed; `reason` is the operating system's explanation.
    case io(path: String, operation: String, reason: String)
    /// A state file is not the JSON it should be; `field` is the coding path concerned.
    case invalidStateFile(path: String, field: String, reason: String)
    /// A setting (command-line option or `config.json` field) is out of range.
    case invalidSetting(field: String, value: String, expected: String)
    /// The state directory holds no `host.json`: run `xunxing-worker attach` first.
    case notAttached(stateDirectory: String)
    /// Another worker process holds the state directory's lock.
    case alreadyRunning(lockFile: String)
    /// A payload's SHA-256 is not the one the coordinator announced.
    case checksumMismatch(path: String, expected: String, actual: String)
    /// The coordinator sent something the worker will not store (an unsafe replica id, ...).
    case unacceptableAssignment(field: String, value: String, reason: String)

    public var description: String {
        switch self {
        case let .io(path, operation, reason):
            return "\(path): cannot \(operation): \(reason)"
        case let .invalidStateFile(path, field, reason):
            return field.isEmpty ? "\(path): invalid JSON: \(reason)" : "\(path): field '\(field)' is invalid: \(reason)"
        case let .invalidSetting(field, value, expected):
            return "setting '\(field)' has value \(value): expected \(expected)"
        case let .notAttached(directory):
            return "\(directory): no host.json: attach this machine first with `xunxing-worker attach --coordinator URL --account-key KEY --state-dir \(directory)`"
        case let .alreadyRunning(lockFile):
            return "\(lockFile): another xunxing-worker is running with this state directory"
        case let .checksumMismatch(path, expected, actual):
            return "\(path): checksum mismatch: field 'sha256' has value \(actual): expected \(expected)"
        case let .unacceptableAssignment(field, value, reason):
            return "assignment field '\(field)' has value \(value): \(reason)"
        }
    }
}

/// The current `errno` as text.
func errnoText() -> String { String(cString: strerror(errno)) }
