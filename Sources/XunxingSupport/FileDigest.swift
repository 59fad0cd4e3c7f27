import Foundation

/// SHA-256 of files, read in 1 MiB blocks (a payload or an observation is never held in memory
/// whole): the one routine the coordinator, the worker, the command line and the tests use.
public enum FileDigest {
    /// Why a file could not be hashed; names the file.
    public enum Failure: Error, CustomStringConvertible, Sendable, Equatable {
        case unreadable(path: String, reason: String)

        public var description: String {
            switch self {
            case let .unreadable(path, reason): return "\(path): cannot read: \(reason)"
            }
        }
    }

    /// Lower-case hexadecimal SHA-256 of the file at `path`.
    public static func sha256(path: String) throws(Failure) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw .unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while true {
            let block: Data?
            do {
                block = try handle.read(upToCount: 1 << 20)
            } catch {
                throw .unreadable(path: path, reason: error.localizedDescription)
            }
            guard let block, !block.isEmpty else { break }
            hasher.update(data: block)
        }
        return hex(hasher.finalize())
    }

    /// Lower-case hexadecimal of a digest.
    /// (Every authenticated request hashes its key, so this is a table lookup per byte, not
    /// `String(format:)`, which cost 7 % of the coordinator's time under load.)
    public static func hex(_ digest: some Sequence<UInt8>) -> String {
        let digits: StaticString = "0123456789abcdef"
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digest.underestimatedCount * 2)
        digits.withUTF8Buffer { table in
            for byte in digest {
                bytes.append(table[Int(byte >> 4)])
                bytes.append(table[Int(byte & 0x0f)])
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
