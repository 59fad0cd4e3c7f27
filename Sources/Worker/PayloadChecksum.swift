import Foundation
import XunxingSupport

/// SHA-256 of payload files, read in 1 MiB blocks (a payload is never held in memory whole here).
public enum PayloadChecksum {
    /// Lower-case hex SHA-256 of the file at `path`.
    public static func sha256(path: String) throws -> String {
        do {
            return try FileDigest.sha256(path: path)
        } catch let FileDigest.Failure.unreadable(path, reason) {
            throw WorkerError.io(path: path, operation: "read", reason: reason)
        }
    }

    /// Throws ``WorkerError/checksumMismatch(path:expected:actual:)`` unless the file's SHA-256 is `expected`.
    public static func verify(path: String, expected: String) throws {
        let actual = try sha256(path: path)
        guard actual == expected.lowercased() else {
            throw WorkerError.checksumMismatch(path: path, expected: expected.lowercased(), actual: actual)
        }
    }
}
