import Foundation
import Logging

/// Folds repeated log lines, as syslog does: the first line with a given key is logged, repeats of
/// it are only counted, and "previous message repeated N times" is logged when a line with another
/// key comes, or with the next repeat once `window` has passed since the line was last written.
/// One instance per stream of lines (the transfer thread's, the supervisor's); thread-safe.
final class LogFolder: @unchecked Sendable {
    let logger: Logger
    let window: TimeInterval
    private let lock = NSLock()
    private var last: (key: String, level: Logger.Level, written: Date, repeats: Int)?

    init(logger: Logger, window: TimeInterval = 600) {
        self.logger = logger
        self.window = window
    }

    /// Logs `message` unless it repeats the previous line's `key` (default: the message itself)
    /// within the window.
    func log(_ level: Logger.Level, _ message: String, key: String? = nil, now: Date = Date()) {
        let key = key ?? message
        let (write, summary): (Bool, (Logger.Level, Int)?) = lock.withLock {
            let previous = last
            if let previous, previous.key == key, now.timeIntervalSince(previous.written) < window {
                last?.repeats += 1
                return (false, nil)
            }
            last = (key, level, now, 0)
            guard let previous, previous.repeats > 0 else { return (true, nil) }
            return (true, (previous.level, previous.repeats))
        }
        if let (previousLevel, repeats) = summary {
            logger.log(level: previousLevel, "previous message repeated \(repeats) times")
        }
        if write { logger.log(level: level, "\(message)") }
    }
}
