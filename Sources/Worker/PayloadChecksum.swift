import Crypto
import Foundation

/// SHA-256 of payload files, read in 1 MiB blocks (a payload is never held in memory whole here).
public enum PayloadChecksum {
    /// Lower-case hex SHA-256 of the file at `path`.
    public static func sha256(path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw WorkerError.io(path: path, operation: "open for reading", reason: errnoText())
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while true {
            let block: Data?
            do {
                block = try handle.read(upToCount: 1 << 20)
            } catch {
                throw WorkerError.io(path: path, operation: "read", reason: error.localizedDescription)
            }
            guard let block, !block.isEmpty else { break }
            hasher.update(data: block)
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// Throws ``WorkerError/checksumMismatch(path:expected:actual:)`` unless the file's SHA-256 is `expected`.
    public static func verify(path: String, expected: String) throws {
        let actual = try sha256(path: path)
        guard actual == expected.lowercased() else {
            throw WorkerError.checksumMismatch(path: path, expected: expected.lowercased(), actual: actual)
        }
    }
}
