#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Whole-file writes that a crash or `kill -9` can never leave half done: the data goes to a
/// temporary file beside the target, is flushed to disk (`fsync`), renamed over the target, and the
/// directory is flushed so the rename itself survives a power cut.
public enum AtomicFile {
    /// Suffix of the temporary files; leftovers of a killed process are removed by ``removeLeftovers(in:)``.
    static let temporaryMarker = ".tmp-"

    /// Writes `data` to `path` atomically, with permissions `mode` (not reduced by the umask).
    public static func write(_ data: Data, to path: String, mode: mode_t = 0o644) throws {
        let temp = "\(path)\(temporaryMarker)\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw WorkerError.io(path: temp, operation: "create", reason: errnoText()) }
        var renamed = false
        defer {
            if !renamed { unlink(temp) }
        }
        do {
            guard fchmod(fd, mode) == 0 else { throw WorkerError.io(path: temp, operation: "chmod", reason: errnoText()) }
            try data.withUnsafeBytes { raw in
                guard let base = raw.baseAddress else { return }
                var done = 0
                while done < raw.count {
                    let n = systemWrite(fd, base + done, raw.count - done)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw WorkerError.io(path: temp, operation: "write", reason: errnoText())
                    }
                    done += n
                }
            }
            guard fsync(fd) == 0 else { throw WorkerError.io(path: temp, operation: "fsync", reason: errnoText()) }
        } catch {
            close(fd)
            throw error
        }
        guard close(fd) == 0 else { throw WorkerError.io(path: temp, operation: "close", reason: errnoText()) }
        guard rename(temp, path) == 0 else { throw WorkerError.io(path: path, operation: "rename into place", reason: errnoText()) }
        renamed = true
        syncDirectory(of: path)
    }

    /// Encodes `value` as JSON (sorted keys, ISO 8601 dates) and writes it atomically.
    public static func writeJSON<T: Encodable>(_ value: T, to path: String, mode: mode_t = 0o644) throws {
        let data: Data
        do {
            data = try StateCoding.encoder().encode(value)
        } catch {
            throw WorkerError.invalidStateFile(path: path, field: "", reason: "cannot encode \(T.self): \(error)")
        }
        try write(data + Data("\n".utf8), to: path, mode: mode)
    }

    /// Reads JSON written by ``writeJSON(_:to:mode:)``; nil when the file does not exist.
    public static func readJSON<T: Decodable>(_ type: T.Type, from path: String) throws -> T? {
        guard let data = try read(path) else { return nil }
        do {
            return try StateCoding.decoder().decode(T.self, from: data)
        } catch let error as DecodingError {
            let (field, reason) = StateCoding.describe(error)
            throw WorkerError.invalidStateFile(path: path, field: field, reason: reason)
        }
    }

    /// The whole file at `path`; nil when it does not exist.
    ///
    /// One `open` decides both: asking "does it exist?" after a failed read raced the first
    /// write of a file another process was creating (the read saw no file, the check saw one).
    public static func read(_ path: String) throws -> Data? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            throw WorkerError.io(path: path, operation: "read", reason: errnoText())
        }
        defer { close(fd) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw WorkerError.io(path: path, operation: "read", reason: errnoText())
            }
            if n == 0 { return data }
            data.append(contentsOf: buffer[0..<n])
        }
    }

    /// Deletes temporary files a killed process left in `directory`.
    ///
    /// Only files of processes that no longer run: a temporary file is named after the pid that
    /// writes it, and another command (`config set`, a second `run`) must never delete the one a
    /// running daemon is about to rename into place.
    public static func removeLeftovers(in directory: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for name in names {
            guard let writer = writerPID(ofTemporary: name), !processIsAlive(writer) else { continue }
            unlink((directory as NSString).appendingPathComponent(name))
        }
    }

    /// The pid in a temporary file's name (`<target>.tmp-<pid>-<random>`); nil for other files.
    static func writerPID(ofTemporary name: String) -> pid_t? {
        guard let marker = name.range(of: temporaryMarker, options: .backwards) else { return nil }
        return pid_t(name[marker.upperBound...].prefix { $0 != "-" })
    }

    /// Whether a process with this pid exists (ours included).
    static func processIsAlive(_ pid: pid_t) -> Bool {
        pid > 0 && (kill(pid, 0) == 0 || errno == EPERM)
    }

    static func syncDirectory(of path: String) {
        let directory = (path as NSString).deletingLastPathComponent
        let fd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    private static func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
        #if canImport(Glibc)
        return Glibc.read(fd, buffer, count)
        #else
        return Darwin.read(fd, buffer, count)
        #endif
    }

    private static func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
        #if canImport(Glibc)
        return Glibc.write(fd, buffer, count)
        #else
        return Darwin.write(fd, buffer, count)
        #endif
    }
}

/// JSON coding of the state directory's files: sorted keys, indented, ISO 8601 dates with
/// milliseconds (whole-second dates are read too).
public enum StateCoding {
    public static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted]
        e.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            try c.encode(date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
        }
        return e
    }

    public static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .custom { decoder in
            let c = try decoder.singleValueContainer()
            let text = try c.decode(String.self)
            if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return date }
            if let date = try? Date.ISO8601FormatStyle().parse(text) { return date }
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "expected an ISO 8601 date, found \"\(text)\"")
        }
        return d
    }

    static func describe(_ error: DecodingError) -> (field: String, reason: String) {
        func path(_ keys: [CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
                .trimmingCharacters(in: CharacterSet(charactersIn: "."))
        }
        switch error {
        case let .keyNotFound(key, context): return (path(context.codingPath + [key]), "required field is missing")
        case let .typeMismatch(type, context): return (path(context.codingPath), "expected \(type)")
        case let .valueNotFound(type, context): return (path(context.codingPath), "expected \(type), found null")
        case let .dataCorrupted(context): return (path(context.codingPath), context.debugDescription)
        @unknown default: return ("", "\(error)")
        }
    }
}
