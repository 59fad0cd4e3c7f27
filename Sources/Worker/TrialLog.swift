#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import PulsarSearch
import WorkUnits

/// What a task's search has found so far: `tasks/<replica>/trials.jsonl`, one JSON
/// ``TrialOutcome`` (the trial's candidates and toplist) per line, appended and flushed after
/// every trial.
typealias TrialLog = JSONLinesLog<TrialOutcome>

/// An append-only file of JSON lines. The checkpoint records how many bytes (and lines) of it are
/// valid; whatever a killed worker appended after its last checkpoint is cut off when the search
/// resumes. Appending keeps the per-trial checkpoint cost proportional to the trial's own output,
/// where rewriting everything so far would grow with the square of a large unit's trial count.
final class JSONLinesLog<Line: Codable> {
    let path: String
    private let descriptor: Int32
    /// Valid bytes in the file.
    private(set) var bytes: Int
    /// Lines in those bytes.
    private(set) var count: Int
    private let encoder = JSONEncoder()

    /// Opens the log keeping its first `validBytes` bytes, which must hold `expectedCount`
    /// lines; returns it with those lines.
    static func open(path: String, validBytes: Int, expectedCount: Int) throws -> (JSONLinesLog, [Line]) {
        #if canImport(Glibc)
        let fd = Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o640)
        #else
        let fd = Darwin.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o640)
        #endif
        guard fd >= 0 else { throw WorkerError.io(path: path, operation: "open", reason: errnoText()) }
        do {
            var data = Data(count: validBytes)
            let got = data.withUnsafeMutableBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                var done = 0
                while done < validBytes {
                    let n = pread(fd, base + done, validBytes - done, off_t(done))
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { break }
                    done += n
                }
                return done
            }
            guard got == validBytes else {
                throw WorkerError.invalidStateFile(
                    path: path, field: "", reason: "holds \(got) bytes, the checkpoint counts \(validBytes)")
            }
            let decoder = JSONDecoder()
            var lines: [Line] = []
            lines.reserveCapacity(expectedCount)
            for line in data.split(separator: UInt8(ascii: "\n")) {
                do {
                    lines.append(try decoder.decode(Line.self, from: Data(line)))
                } catch {
                    throw WorkerError.invalidStateFile(path: path, field: "[\(lines.count)]", reason: "\(error)")
                }
            }
            guard lines.count == expectedCount else {
                throw WorkerError.invalidStateFile(
                    path: path, field: "", reason: "holds \(lines.count) lines, the checkpoint counts \(expectedCount)")
            }
            guard ftruncate(fd, off_t(validBytes)) == 0 else {
                throw WorkerError.io(path: path, operation: "truncate", reason: errnoText())
            }
            let log = JSONLinesLog(path: path, descriptor: fd, bytes: validBytes, count: expectedCount)
            return (log, lines)
        } catch {
            close(fd)
            throw error
        }
    }

    private init(path: String, descriptor: Int32, bytes: Int, count: Int) {
        self.path = path
        self.descriptor = descriptor
        self.bytes = bytes
        self.count = count
        encoder.outputFormatting = [.sortedKeys]
    }

    deinit { close(descriptor) }

    /// Appends `lines` and flushes them to disk (before the checkpoint that counts them).
    func append<S: Collection>(_ lines: S) throws where S.Element == Line {
        guard !lines.isEmpty else { return }
        var data = Data()
        for line in lines {
            data.append(try encoder.encode(line))
            data.append(UInt8(ascii: "\n"))
        }
        try data.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            var done = 0
            while done < raw.count {
                let n = pwrite(descriptor, base + done, raw.count - done, off_t(bytes + done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw WorkerError.io(path: path, operation: "append", reason: errnoText())
                }
                done += n
            }
        }
        guard fdatasync(descriptor) == 0 else { throw WorkerError.io(path: path, operation: "fdatasync", reason: errnoText()) }
        bytes += data.count
        count += lines.count
    }
}
