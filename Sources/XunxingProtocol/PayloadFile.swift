#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#endif

/// A file descriptor with the few POSIX calls the payload format needs; errors are `PayloadError`s
/// naming `name` (the path as the caller gave it).
final class PayloadFile {
    let descriptor: Int32
    let name: String
    private var closed = false

    private init(descriptor: Int32, name: String) {
        self.descriptor = descriptor
        self.name = name
    }

    deinit { if !closed { _ = systemClose(descriptor) } }

    static func openForReading(_ path: String, name: String) throws -> PayloadFile {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw PayloadError.cannotOpen(file: name, reason: errorMessage()) }
        var info = stat()
        if fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
            _ = systemClose(fd)
            throw PayloadError.cannotOpen(file: name, reason: "is a directory")
        }
        return PayloadFile(descriptor: fd, name: name)
    }

    static func create(_ path: String, name: String) throws -> PayloadFile {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw PayloadError.cannotOpen(file: name, reason: errorMessage()) }
        return PayloadFile(descriptor: fd, name: name)
    }

    func size() throws -> Int {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw PayloadError.io(file: name, reason: Self.errorMessage()) }
        return Int(info.st_size)
    }

    /// Reads up to `count` bytes at the current position; fewer only at the end of the file.
    func read(into buffer: UnsafeMutableRawPointer, count: Int) throws -> Int {
        var done = 0
        while done < count {
            let n = systemRead(descriptor, buffer + done, count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw PayloadError.io(file: name, reason: Self.errorMessage())
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    func write(_ buffer: UnsafeRawPointer, count: Int) throws {
        var done = 0
        while done < count {
            let n = systemWrite(descriptor, buffer + done, count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw PayloadError.io(file: name, reason: Self.errorMessage())
            }
            done += n
        }
    }

    func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0.baseAddress!, count: $0.count) }
    }

    /// Flushes the file's data to stable storage.
    func sync() throws {
        if fsync(descriptor) != 0 { throw PayloadError.io(file: name, reason: Self.errorMessage()) }
    }

    func close() throws {
        guard !closed else { return }
        closed = true
        if systemClose(descriptor) != 0 { throw PayloadError.io(file: name, reason: Self.errorMessage()) }
    }

    static func rename(_ from: String, to: String, name: String) throws {
        if systemRename(from, to) != 0 { throw PayloadError.io(file: name, reason: errorMessage()) }
    }

    static func remove(_ path: String) { _ = unlink(path) }

    static func errorMessage() -> String { String(cString: strerror(errno)) }
}

private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    #if canImport(Darwin)
    return Darwin.read(fd, buffer, count)
    #else
    return Glibc.read(fd, buffer, count)
    #endif
}

private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Darwin)
    return Darwin.write(fd, buffer, count)
    #else
    return Glibc.write(fd, buffer, count)
    #endif
}

private func systemClose(_ fd: Int32) -> Int32 {
    #if canImport(Darwin)
    return Darwin.close(fd)
    #else
    return Glibc.close(fd)
    #endif
}

private func systemRename(_ from: String, _ to: String) -> Int32 {
    #if canImport(Darwin)
    return Darwin.rename(from, to)
    #else
    return Glibc.rename(from, to)
    #endif
}
