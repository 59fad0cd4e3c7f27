import Foundation

/// What a finished subprocess said: its exit status (the signal's number, negated, when a signal
/// ended it) and everything it wrote.
public struct SubprocessOutput: Sendable, CustomStringConvertible {
    public let status: Int32
    public let stdout: String
    public let stderr: String

    public var description: String { "exit \(status); stdout: \(stdout); stderr: \(stderr)" }
}

/// Running another program to completion and capturing its output: the one way this package
/// does it (rsvg-convert for PNG plots, and the tests' runs of the built executables, Chromium,
/// curl, psql and systemd-analyze).
public enum Subprocess {
    /// Runs `executable` with `arguments` and this process's environment plus `environment`
    /// (whose entries win), and returns once it has exited. Standard output and standard error are
    /// read as they come (one of them on a thread of its own), so a program that fills one pipe
    /// while the other is being read cannot stall. Blocks the calling thread: from async code use
    /// ``output(_:_:environment:)``.
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> SubprocessOutput {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let errors = Locked(Data())
        let errorsRead = DispatchSemaphore(value: 0)
        startThread(name: "subprocess-stderr", stackSize: 1 << 20) {
            let data = err.fileHandleForReading.readDataToEndOfFile()
            errors.with { $0 = data }
            errorsRead.signal()
        }
        let output = out.fileHandleForReading.readDataToEndOfFile()
        errorsRead.wait()
        process.waitUntilExit()
        let status = process.terminationReason == .exit ? process.terminationStatus : -process.terminationStatus
        return SubprocessOutput(status: status, stdout: String(decoding: output, as: UTF8.self),
                                stderr: String(decoding: errors.current, as: UTF8.self))
    }

    /// ``run(_:_:environment:)``, waiting on a thread of its own: the program may be talking to a
    /// server that answers on the Swift concurrency pool (an in-process coordinator), so the wait
    /// must not hold a pool thread.
    public static func output(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) async throws -> SubprocessOutput {
        try await onThread(name: "subprocess") { try run(executable, arguments, environment: environment) }
    }
}
