#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#endif

/// Making files survive a crash before anything says they exist: a file is written under a
/// temporary name and fsynced, renamed into place, and the directory holding it fsynced, and only
/// then may a database row name it. (A rename alone can be lost with the directory entry it
/// changed; data not fsynced can come back as zeros after a power cut.)
public enum DurableFiles {
    /// Errors, naming the path and what failed.
    public struct Failure: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "\(path): \(reason)" }
    }

    /// fsyncs the file at `path`.
    public static func syncFile(_ path: String) throws {
        try sync(path, flags: O_RDONLY)
    }

    /// fsyncs the directory at `path`, so that names created, renamed or removed in it last.
    public static func syncDirectory(_ path: String) throws {
        try sync(path.isEmpty ? "." : path, flags: O_RDONLY | O_DIRECTORY)
    }

    /// fsyncs `temporary`, renames it to `path` and fsyncs `path`'s directory.
    public static func publish(_ temporary: String, as path: String) throws {
        try syncFile(temporary)
        guard rename(temporary, path) == 0 else { throw Failure(path: path, reason: "rename from \(temporary): \(message())") }
        try syncDirectory(directory(of: path))
    }

    /// The directory part of `path` ("." when it has none).
    public static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    private static func sync(_ path: String, flags: Int32) throws {
        let fd = open(path, flags)
        guard fd >= 0 else { throw Failure(path: path, reason: "open for fsync: \(message())") }
        defer { _ = close(fd) }
        guard fsync(fd) == 0 else { throw Failure(path: path, reason: "fsync: \(message())") }
    }

    private static func message() -> String { String(cString: strerror(errno)) }
}
