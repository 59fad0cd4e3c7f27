import ArgumentParser
import Foundation
import Worker
import XunxingClient
import XunxingProtocol

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the tasks, their progress and time left, pending uploads, backoff and your hours.",
        discussion: """
            While the daemon runs this reads the status it writes every second; otherwise it reads \
            the state directory. `--format json` prints one JSON object: `tasks[]` (with \
            `progress` from 0 to 1, `seconds_left` and `state`: acknowledging, downloading, ready, \
            planning FFTs, running or paused), `now[]` (what it is doing), `last_error` \
            ({message, at}: the last problem of any kind), `pending_uploads[]`, `backoff`, \
            `memory_limit_mb` and `hours` (the last figure heard, kept while the coordinator is \
            unreachable, with `hours_updated_at`).

            Examples:
              xunxing-worker status
              xunxing-worker status --format json
              sudo -u xunxing xunxing-worker status --state-dir /var/lib/xunxing
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

    @OptionGroup var state: StateOptions
    @Option(help: "Output format: text or json.") var format: Format = .text

    func run() throws {
        let directory = state.state
        let status = try reporting { try StatusReader.read(state: directory) }
        switch format {
        case .json:
            print(String(decoding: try StateCoding.encoder().encode(status), as: UTF8.self))
        case .text:
            print(StatusText.render(status))
        }
    }
}

/// The status as text for people.
enum StatusText {
    static func render(_ s: WorkerStatus) -> String {
        var lines: [String] = []
        let paused = s.pausedReason.map { ", paused: \($0)" } ?? ""
        lines.append("xunxing-worker \(s.running ? "running" : "not running")\(paused) — host \(s.hostID) at \(s.coordinator)")
        let memory = s.memoryLimitMB.map { ", memory limit \($0) MB" } ?? ""
        lines.append("cores \(s.cores), CPU limit \(format(s.cpuLimitPercent))%\(memory), speed \(String(format: "%.2f", s.speed))")
        lines.append("charity hours: " + hours(s))
        for line in s.now ?? [] { lines.append("now: \(line)") }
        if let problem = s.lastError {
            lines.append("last error (\(ago(problem.at))): \(problem.message)")
        }
        if s.backoff.failures > 0 {
            let next = s.backoff.nextAttemptAt.map { " next attempt in \(duration(max(0, $0.timeIntervalSinceNow)))" } ?? ""
            lines.append("backoff: \(s.backoff.failures) failures,\(next); last error: \(s.backoff.lastError ?? "-")")
        } else {
            lines.append("backoff: none")
        }
        lines.append("tasks: \(s.tasks.count)")
        for t in s.tasks {
            let left = t.secondsLeft.map(duration) ?? "?"
            lines.append("  \(t.replicaID)  \(t.state.padding(toLength: 13, withPad: " ", startingAt: 0))  \(String(format: "%5.1f", t.progress * 100))%  \(left) left")
        }
        lines.append("pending uploads: \(s.pendingUploads.count)")
        for u in s.pendingUploads {
            lines.append("  \(u.replicaID)  finished \(u.finishedAt)  \(u.attempts) failed attempts")
        }
        return lines.joined(separator: "\n")
    }

    /// The hours in a unit that fits; an old figure says how old it is.
    static func hours(_ s: WorkerStatus) -> String {
        guard let hours = s.hours else { return "unknown (the coordinator has not answered yet)" }
        let text = HoursText.format(hours)
        guard let at = s.hoursUpdatedAt, Date().timeIntervalSince(at) > 1800 else { return text }
        return "\(text) (as of \(ago(at)); the coordinator has not answered since)"
    }

    static func ago(_ date: Date) -> String { "\(duration(max(0, -date.timeIntervalSinceNow))) ago" }

    static func format(_ x: Double) -> String { x == x.rounded() ? String(Int(x)) : String(format: "%.1f", x) }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s) s" }
        if s < 3600 { return "\(s / 60) min \(s % 60) s" }
        return "\(s / 3600) h \(s % 3600 / 60) min"
    }
}
