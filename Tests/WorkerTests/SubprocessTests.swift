import Foundation
import Testing
import XunxingSupport

@Suite("Running a program to completion")
struct SubprocessTests {
    @Test("200 kB on standard error before anything on standard output: both captured whole, no stall")
    func bothPipesFull() async throws {
        // More than a pipe holds (64 kB) on stderr first: a reader waiting for stdout's end before
        // it reads stderr would wait forever, the program blocked on its full stderr pipe.
        let script = "head -c 200000 /dev/zero | tr '\\0' e >&2; head -c 150000 /dev/zero | tr '\\0' o; exit 3"
        let run = try await Subprocess.output("/bin/sh", ["-c", script])
        #expect(run.status == 3)
        #expect(run.stderr.utf8.count == 200_000 && run.stderr.allSatisfy { $0 == "e" })
        #expect(run.stdout.utf8.count == 150_000 && run.stdout.allSatisfy { $0 == "o" })
    }

    @Test("the environment is this process's plus the given entries, which win; a signal is a negative status")
    func environmentAndSignals() throws {
        let home = ProcessInfo.processInfo.environment["HOME"] ?? ""
        let run = try Subprocess.run("/bin/sh", ["-c", "printf '%s|%s' \"$XX_SUBPROCESS_TEST\" \"$HOME\""],
                                     environment: ["XX_SUBPROCESS_TEST": "given"])
        #expect(run.status == 0 && run.stdout == "given|\(home)", "\(run)")
        let replaced = try Subprocess.run("/bin/sh", ["-c", "printf %s \"$HOME\""], environment: ["HOME": "/elsewhere"])
        #expect(replaced.stdout == "/elsewhere")
        let killed = try Subprocess.run("/bin/sh", ["-c", "kill -9 $$"])
        #expect(killed.status == -9, "\(killed)")
    }

    @Test("a program that does not exist is an error, not a status")
    func missingProgram() {
        #expect(throws: (any Error).self) { try Subprocess.run("/nonexistent/xunxing-no-such-program", []) }
    }
}
