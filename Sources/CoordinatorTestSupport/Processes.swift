import Foundation
import XunxingSupport

/// The package's built executables (they sit beside the test bundle).
public enum BuiltExecutable {
    public static func path(_ name: String) -> String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name).path
    }

    /// Runs one of the package's executables to completion, returning its status and output,
    /// waiting off the concurrency pool (``Subprocess/output(_:_:environment:)``): the executable
    /// may be talking to an in-process coordinator.
    public static func run(_ name: String, _ arguments: [String], environment: [String: String] = [:]) async throws -> SubprocessOutput {
        try await Subprocess.output(path(name), arguments, environment: environment)
    }
}

/// A `xunxing-coordinator serve` process, for tests that kill and restart it.
public final class CoordinatorProcess: @unchecked Sendable {
    public let dataDirectory: String
    public private(set) var port: Int
    private var process: Process?
    private let extraArguments: [String]

    public init(dataDirectory: String, port: Int = 0, arguments: [String] = []) {
        self.dataDirectory = dataDirectory
        self.port = port
        self.extraArguments = arguments
    }

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Starts the server and waits until it listens (learning the port if it was 0).
    public func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BuiltExecutable.path("xunxing-coordinator"))
        process.arguments = ["serve", "--data-dir", dataDirectory, "--port", String(port), "--log-level", "warning"] + extraArguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        var seen = ""
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen += String(decoding: chunk, as: UTF8.self)
            if let range = seen.range(of: #"listening on http://[0-9.]+:(\d+)"#, options: .regularExpression) {
                let text = String(seen[range])
                port = Int(text.split(separator: ":").last!) ?? port
                return
            }
        }
        throw FixtureError.timeout("xunxing-coordinator to listen (output: \(seen))")
    }

    /// kill -9: no chance to clean up.
    public func kill() {
        guard let process else { return }
        Darwin_or_Glibc_kill(process.processIdentifier)
        process.waitUntilExit()
        self.process = nil
    }

    /// SIGTERM and wait.
    public func stop() {
        _ = terminate()
    }

    /// SIGTERM; waits for the exit and returns its status (nil when not running).
    public func terminate() -> Int32? {
        guard let process else { return nil }
        process.terminate()
        process.waitUntilExit()
        self.process = nil
        return process.terminationReason == .exit ? process.terminationStatus : -process.terminationStatus
    }
}

private func Darwin_or_Glibc_kill(_ pid: Int32) {
    _ = Foundation.kill(pid, SIGKILL)
}
