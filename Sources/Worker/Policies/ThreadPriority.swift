#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Lowers the scheduling priority of every thread of this process to `niceness` (0...19).
///
/// On Linux niceness belongs to each thread, not the process: `setpriority(PRIO_PROCESS, 0)`
/// changes only the calling thread, and threads made before it (libdispatch's, Foundation's) keep
/// theirs. So this walks `/proc/self/task` and lowers each thread that is above `niceness`; the
/// daemon calls it at start and every loop, which catches threads made since. A thread already
/// lower (the systemd unit's Nice=19 with a setting of 10) is left alone: an unprivileged process
/// cannot raise it back, and should not.
/// - Returns: the threads lowered now, and the threads that could not be lowered.
@discardableResult
public func lowerPriorityOfAllThreads(niceness: Int) -> (lowered: Int, failed: Int) {
    var lowered = 0, failed = 0
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
    for name in tasks {
        guard let tid = id_t(name) else { continue }
        errno = 0
        let current = Int(getpriority(which(), tid))
        guard errno == 0, current < niceness else { continue }
        if setpriority(which(), tid, Int32(niceness)) == 0 { lowered += 1 } else { failed += 1 }
    }
    return (lowered, failed)
}

/// The niceness of each thread of process `pid`, from `/proc/PID/task/*/stat` (field 19).
public func threadNiceness(pid: Int32) -> [Int] {
    let directory = "/proc/\(pid)/task"
    return ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).compactMap { tid in
        guard let text = try? String(contentsOfFile: "\(directory)/\(tid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        // After "pid (comm)": state is field 3, nice is field 19.
        let fields = text[text.index(after: close)...].split(separator: " ")
        return fields.count > 16 ? Int(fields[16]) : nil
    }
}

private func which() -> __priority_which_t {
    __priority_which_t(PRIO_PROCESS.rawValue)
}
