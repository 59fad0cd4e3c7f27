#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// An exclusive `flock` on `worker.lock`, so that two daemons never share a state directory. The
/// kernel drops the lock when the process dies, however it dies.
public final class WorkerLock: Sendable {
    private let descriptor: Int32
    public let path: String

    /// Takes the lock or throws ``WorkerError/alreadyRunning(lockFile:)``.
    public init(path: String) throws {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw WorkerError.io(path: path, operation: "open", reason: errnoText()) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw WorkerError.alreadyRunning(lockFile: path)
        }
        let pid = "\(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = pid.withCString { pwrite(fd, $0, strlen($0), 0) }
        self.descriptor = fd
        self.path = path
    }

    deinit { close(descriptor) }

    /// True when a live process holds the lock at `path` (the daemon is running).
    public static func isHeld(path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return false
        }
        return errno == EWOULDBLOCK
    }
}

extension StateDirectory {
    /// Runs `body` holding an exclusive `flock` on `config.lock` (waiting for it), so that
    /// concurrent read-change-write cycles of `config.json` do not lose each other's changes.
    public func withConfigurationLock<T>(_ body: () throws -> T) throws -> T {
        let lockPath = (path as NSString).appendingPathComponent("config.lock")
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw WorkerError.io(path: lockPath, operation: "open", reason: errnoText()) }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw WorkerError.io(path: lockPath, operation: "lock", reason: errnoText()) }
        }
        return try body()
    }
}
