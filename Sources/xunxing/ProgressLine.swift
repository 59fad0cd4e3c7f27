import Foundation
import PulsarSearch

/// Progress on standard error: one rewritten line on a terminal, nothing when redirected.
final class ProgressLine: @unchecked Sendable {
    private let enabled: Bool
    private let lock = NSLock()
    private var lastDraw = Date.distantPast
    private var lastPhase: SearchProgress.Phase?

    init(enabled: Bool = isatty(STDERR_FILENO) != 0) { self.enabled = enabled }

    func update(_ progress: SearchProgress) {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        let now = Date()
        guard progress.phase != lastPhase || now.timeIntervalSince(lastDraw) > 0.1 else { return }
        lastDraw = now
        lastPhase = progress.phase
        let percent = Int((progress.fraction * 100).rounded())
        let width = 30
        let filled = min(width, Int(progress.fraction * Double(width)))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let label = progress.phase.rawValue.padding(toLength: 13, withPad: " ", startingAt: 0)
        FileHandle.standardError.write("\r\(label) [\(bar)] \(percent)%  ".data(using: .utf8)!)
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write("\r\u{1B}[2K".data(using: .utf8)!)
    }
}

/// Writes a line to standard error.
func printError(_ message: String) {
    FileHandle.standardError.write((message + "\n").data(using: .utf8)!)
}
