#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import PulsarSearch

/// The candidates a task's search has found so far: `tasks/<replica>/candidates.jsonl`, one JSON
/// candidate per line, appended and flushed after every trial. The checkpoint records how many
/// bytes (and candidates) of it are valid; whatever a killed worker appended after its last
/// checkpoint is cut off when the search resumes. Appending keeps the per-trial checkpoint cost
/// proportional to the trial's own candidates, where rewriting every candidate so far would grow
/// with the square of a large unit's trial count.
final class CandidateLog {
    let path: String
    private let descriptor: Int32
    /// Valid bytes in the file.
    private(set) var bytes: Int
    /// Candidates in those bytes.
    private(set) var count: Int
    private let encoder = JSONEncoder()

    /// Opens the log keeping its first `validBytes` bytes, which must hold `expectedCount`
    /// candidates; returns it with those candidates.
    static func open(path: String, validBytes: Int, expectedCount: Int) throws -> (CandidateLog, [SeriesCandidate]) {
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
            var candidates: [SeriesCandidate] = []
            candidates.reserveCapacity(expectedCount)
            for line in data.split(separator: UInt8(ascii: "\n")) {
                do {
                    candidates.append(try decoder.decode(SeriesCandidate.self, from: Data(line)))
                } catch {
                    throw WorkerError.invalidStateFile(path: path, field: "[\(candidates.count)]", reason: "\(error)")
                }
            }
            guard candidates.count == expectedCount else {
                throw WorkerError.invalidStateFile(
                    path: path, field: "", reason: "holds \(candidates.count) candidates, the checkpoint counts \(expectedCount)")
            }
            guard ftruncate(fd, off_t(validBytes)) == 0 else {
                throw WorkerError.io(path: path, operation: "truncate", reason: errnoText())
            }
            let log = CandidateLog(path: path, descriptor: fd, bytes: validBytes, count: expectedCount)
            return (log, candidates)
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

    /// Appends `candidates` and flushes them to disk (before the checkpoint that counts them).
    func append(_ candidates: ArraySlice<SeriesCandidate>) throws {
        guard !candidates.isEmpty else { return }
        var data = Data()
        for candidate in candidates {
            data.append(try encoder.encode(candidate))
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
        count += candidates.count
    }
}
