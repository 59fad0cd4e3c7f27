#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin POSIX file helpers that report failures as ``HTTPClientError/file(path:reason:)``.
enum FileIO {
    /// The text of the current `errno`.
    static func lastError() -> String {
        String(cString: strerror(errno))
    }

    /// Size of a regular file, `nil` if nothing exists at `path`; throws for directories and
    /// other non-regular files.
    static func regularFileSize(_ path: String) throws -> Int64? {
        var info = stat()
        if stat(path, &info) != 0 {
            if errno == ENOENT { return nil }
            throw HTTPClientError.file(path: path, reason: lastError())
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw HTTPClientError.file(path: path, reason: "not a regular file")
        }
        return Int64(info.st_size)
    }

    /// Opens `path` with `flags` (creating it with mode 0644 when `O_CREAT` is among them).
    static func openFile(_ path: String, flags: Int32) throws -> Int32 {
        var fd: Int32
        repeat {
            fd = open(path, flags, 0o644)
        } while fd < 0 && errno == EINTR
        guard fd >= 0 else { throw HTTPClientError.file(path: path, reason: lastError()) }
        return fd
    }

    /// Writes all `count` bytes, retrying short writes.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int, path: String) throws {
        var done = 0
        while done < count {
            let n = write(fd, bytes + done, count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw HTTPClientError.file(path: path, reason: lastError())
            }
            done += n
        }
    }

    /// Reads up to `count` bytes; returns the number read, 0 at end of file.
    static func readSome(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int, path: String) throws -> Int {
        while true {
            let n = read(fd, buffer, count)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw HTTPClientError.file(path: path, reason: lastError())
        }
    }

    /// Truncates the file to `length` and moves the write position to its end.
    static func truncate(_ fd: Int32, to length: Int64, path: String) throws {
        guard ftruncate(fd, off_t(length)) == 0, lseek(fd, off_t(length), SEEK_SET) >= 0 else {
            throw HTTPClientError.file(path: path, reason: lastError())
        }
    }

    /// Moves the read/write position to `offset`; false on failure.
    static func seek(_ fd: Int32, to offset: Int64) -> Bool {
        lseek(fd, off_t(offset), SEEK_SET) >= 0
    }

    /// Closes `fd`; reports a failure (which can signal a lost write) as an error.
    static func closeFile(_ fd: Int32, path: String) throws {
        let result = close(fd)
        if result != 0 && errno != EINTR {
            throw HTTPClientError.file(path: path, reason: lastError())
        }
    }
}
