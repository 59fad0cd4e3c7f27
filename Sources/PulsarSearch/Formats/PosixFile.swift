#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A thin owner of a POSIX file descriptor used by the format readers and writers.
///
/// Every failure is reported as a ``FormatError`` naming `path`. Reads use `pread`, so the
/// descriptor carries no position state; writes append sequentially.
final class PosixFile {
    let path: String
    private var fd: Int32

    private init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    deinit {
        if fd >= 0 { _ = systemClose(fd) }
    }

    /// Opens `path` for reading; a missing, unreadable or directory path is `cannotOpen`.
    static func openForReading(_ path: String) throws -> PosixFile {
        let fd = path.withCString { systemOpen($0, O_RDONLY) }
        if fd < 0 {
            throw FormatError.cannotOpen(file: path, reason: lastErrorMessage())
        }
        let file = PosixFile(path: path, fd: fd)
        var info = stat()
        if fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
            throw FormatError.cannotOpen(file: path, reason: "it is a directory")
        }
        return file
    }

    /// Creates (or truncates) `path` for writing.
    static func openForWriting(_ path: String) throws -> PosixFile {
        let fd = path.withCString { systemOpen($0, O_WRONLY | O_CREAT | O_TRUNC, 0o644) }
        if fd < 0 {
            throw FormatError.cannotOpen(file: path, reason: lastErrorMessage())
        }
        return PosixFile(path: path, fd: fd)
    }

    /// The file's size in bytes.
    func size() throws -> Int {
        var info = stat()
        if fstat(fd, &info) != 0 {
            throw FormatError.io(file: path, reason: "cannot determine size: \(Self.lastErrorMessage())")
        }
        return Int(info.st_size)
    }

    /// Reads up to `count` bytes at `offset` into `buffer`, retrying short reads; returns the
    /// number of bytes read, which is less than `count` only at end of file.
    func read(into buffer: UnsafeMutableRawPointer, count: Int, offset: Int) throws -> Int {
        var done = 0
        while done < count {
            let n = pread(fd, buffer + done, count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw FormatError.io(file: path, reason: "read failed at byte \(offset + done): \(Self.lastErrorMessage())")
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// Reads exactly `count` bytes at `offset`; a short read means the file shrank while open.
    func readFully(into buffer: UnsafeMutableRawPointer, count: Int, offset: Int) throws {
        let got = try read(into: buffer, count: count, offset: offset)
        if got != count {
            throw FormatError.io(
                file: path,
                reason: "expected \(count) bytes at byte \(offset) but the file ended after \(got) (did it shrink?)")
        }
    }

    /// Writes all `count` bytes of `buffer` at the current position.
    func write(_ buffer: UnsafeRawPointer, count: Int) throws {
        var done = 0
        while done < count {
            let n = systemWrite(fd, buffer + done, count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw FormatError.io(file: path, reason: "write failed: \(Self.lastErrorMessage())")
            }
            done += n
        }
    }

    /// Writes a byte array at the current position.
    func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { raw in
            if let base = raw.baseAddress { try write(base, count: raw.count) }
        }
    }

    /// Closes the descriptor, reporting a failed close (which can signal a lost write).
    func close() throws {
        guard fd >= 0 else { return }
        let result = systemClose(fd)
        fd = -1
        if result != 0 {
            throw FormatError.io(file: path, reason: "close failed: \(Self.lastErrorMessage())")
        }
    }

    /// The current `errno` as text.
    static func lastErrorMessage() -> String {
        String(cString: strerror(errno))
    }
}

// Module-level wrappers so the class's own `read`, `write` and `close` methods do not shadow
// the C functions.
private func systemOpen(_ path: UnsafePointer<CChar>, _ flags: Int32, _ mode: mode_t = 0) -> Int32 {
    open(path, flags, mode)
}

private func systemClose(_ fd: Int32) -> Int32 {
    close(fd)
}

private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}

/// Path helpers that avoid Foundation.
enum PathText {
    /// The extension after the last dot of the last path component, lower-cased ("" if none).
    static func pathExtension(_ path: String) -> String {
        let name = lastComponent(path)
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return "" }
        return String(name[name.index(after: dot)...]).lowercased()
    }

    /// `path` with the extension of its last component (and the dot) removed.
    static func deletingExtension(_ path: String) -> String {
        let ext = pathExtension(path)
        guard !ext.isEmpty else { return path }
        return String(path.dropLast(ext.count + 1))
    }

    /// The last path component.
    static func lastComponent(_ path: String) -> String {
        if let slash = path.lastIndex(of: "/") {
            return String(path[path.index(after: slash)...])
        }
        return path
    }
}
