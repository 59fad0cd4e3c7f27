import CoordinatorTestSupport
import Foundation
import Worker
import XunxingClient
import XunxingSupport

/// A real `xunxing-worker` process, its output captured in a log file.
final class WorkerProcess: @unchecked Sendable {
    let process: Process
    let logPath: String

    /// The built binary: next to the test bundle, else in the package's .build/debug.
    static var binary: String {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("xunxing-worker").path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        return CoordinatorFixture.packageRoot.appendingPathComponent(".build/debug/xunxing-worker").path
    }

    init(_ arguments: [String], log: String) throws {
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = arguments
        process.standardOutput = handle
        process.standardError = handle
        logPath = log
        try process.run()
        try handle.close()
    }

    /// A test that fails part-way leaves no worker behind.
    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    var output: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Waits for the process to exit; kills it and throws after `timeout` seconds.
    func waitForExit(timeout: Double) async throws -> Int32 {
        let end = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() > end {
                kill(process.processIdentifier, SIGKILL)
                throw FixtureError.timeout("xunxing-worker \(process.arguments ?? []) to exit; log:\n\(output.suffix(3000))")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        return process.terminationStatus
    }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Runs a short command to completion and returns its exit status and output.
    static func run(_ arguments: [String], timeout: Double = 30) async throws -> (status: Int32, output: String) {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("worker-cmd-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        let p = try WorkerProcess(arguments, log: log)
        let status = try await p.waitForExit(timeout: timeout)
        return (status, p.output)
    }
}

/// A volunteer's machine for the end-to-end tests: a fresh state directory attached with
/// `xunxing-worker attach` under a new volunteer account.
struct VolunteerMachine: Sendable {
    let state: StateDirectory
    let logDirectory: String
    /// The volunteer's account key (to revoke the host, as a volunteer who lost it would).
    var accountKey: String = ""

    static func attach(_ fixture: CoordinatorFixture, name: String) async throws -> VolunteerMachine {
        let root = fixture.directory.appendingPathComponent("worker-\(name)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let account = try await onThread {
            try CoordinatorClient(baseURL: fixture.baseURL).signup(email: "\(name)-\(UUID().uuidString.prefix(6))@example.org", name: name)
        }
        let state = StateDirectory(path: root.appendingPathComponent("state").path)
        let (status, output) = try await WorkerProcess.run([
            "attach", "--coordinator", fixture.baseURL, "--account-key", account.accountKey, "--state-dir", state.path,
            "--name", name,
        ])
        guard status == 0 else { throw FixtureError.timeout("attach failed (\(status)): \(output)") }
        // Niceness 0, not the volunteers' default 19: these workers share the machine with the
        // test process's other suites, and a niced worker gets ~1.5 % of a core against them (a
        // whole-suite run once starved one for five minutes). The guest tests set it themselves.
        let (niced, said) = try await WorkerProcess.run(["config", "set", "--state-dir", state.path, "niceness", "0"])
        guard niced == 0 else { throw FixtureError.timeout("config set niceness failed (\(niced)): \(said)") }
        return VolunteerMachine(state: state, logDirectory: root.path, accountKey: account.accountKey)
    }

    /// Starts `xunxing-worker run` with fast test settings plus `extra`.
    func run(_ extra: [String] = [], log: String = "run") throws -> WorkerProcess {
        try WorkerProcess(
            ["run", "--state-dir", state.path, "--cores", "1", "--speed", "1", "--fft-rigor", "estimate",
             "--loop-interval", "0.1", "--buffer-seconds", "0", "--backoff-base", "0.2", "--backoff-cap", "1"] + extra,
            log: (logDirectory as NSString).appendingPathComponent("\(log).log"))
    }

    /// Starts `xunxing-worker run` with exactly `options` (no test defaults).
    func runWith(_ options: [String], log: String) throws -> WorkerProcess {
        try WorkerProcess(["run", "--state-dir", state.path] + options,
                          log: (logDirectory as NSString).appendingPathComponent("\(log).log"))
    }

    var store: TaskStore { TaskStore(state: state) }

    /// The first task with a checkpoint part-way through (at least `atLeast` trials done), if any.
    func partialCheckpoint(atLeast: Int = 1) -> (replica: String, checkpoint: Checkpoint)? {
        for task in (try? store.tasks()) ?? [] {
            if let c = try? store.checkpoint(task.replicaID), c.nextTrial >= atLeast, c.nextTrial < c.trialCount {
                return (task.replicaID, c)
            }
        }
        return nil
    }

    func status() async throws -> WorkerStatus {
        let (code, output) = try await WorkerProcess.run(["status", "--state-dir", state.path, "--format", "json"])
        guard code == 0 else { throw FixtureError.timeout("status failed: \(output)") }
        return try StateCoding.decoder().decode(WorkerStatus.self, from: Data(output.utf8))
    }
}
