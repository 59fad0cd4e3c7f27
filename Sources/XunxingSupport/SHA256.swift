import CLibCrypto
import Foundation

/// SHA-256 through OpenSSL's libcrypto (Debian's libssl-dev, which libcurl already links): the
/// one hash every part uses, for payloads, observations, stored secrets and sync signatures.
public struct SHA256: Sendable {
    /// The number of bytes in a digest.
    public static let byteCount = 32

    private final class Context: @unchecked Sendable {
        let pointer: OpaquePointer
        init() {
            guard let pointer = EVP_MD_CTX_new(), EVP_DigestInit_ex(pointer, EVP_sha256(), nil) == 1 else {
                fatalError("libcrypto could not start a SHA-256 digest")
            }
            self.pointer = pointer
        }
        deinit { EVP_MD_CTX_free(pointer) }
    }

    private let context = Context()

    /// A digest of nothing yet: feed it with ``update(data:)``.
    public init() {}

    /// Adds `data` to the digest.
    public mutating func update(data: some DataProtocol) {
        for region in data.regions {
            region.withUnsafeBytes { bytes in
                _ = EVP_DigestUpdate(context.pointer, bytes.baseAddress, bytes.count)
            }
        }
    }

    /// The digest of everything added; the hasher is spent afterwards.
    public func finalize() -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Self.byteCount)
        var length: UInt32 = 0
        guard EVP_DigestFinal_ex(context.pointer, &digest, &length) == 1, length == Self.byteCount else {
            fatalError("libcrypto could not finish a SHA-256 digest")
        }
        return digest
    }

    /// The digest of `data`.
    public static func hash(data: some DataProtocol) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: data)
        return hasher.finalize()
    }
}

/// HMAC-SHA256 (RFC 2104) through libcrypto: signatures of sync batches and link codes.
public enum HMACSHA256 {
    /// The authentication code of `message` under `key`.
    public static func code(for message: some DataProtocol, key: some DataProtocol) -> [UInt8] {
        let key = [UInt8](key), message = [UInt8](message)
        var code = [UInt8](repeating: 0, count: SHA256.byteCount)
        var length: UInt32 = 0
        let done = key.withUnsafeBytes { k in
            message.withUnsafeBytes { m in
                HMAC(EVP_sha256(), k.baseAddress, Int32(k.count), m.baseAddress?.assumingMemoryBound(to: UInt8.self), m.count, &code, &length)
            }
        }
        guard done != nil, length == SHA256.byteCount else { fatalError("libcrypto could not compute an HMAC-SHA256") }
        return code
    }

    /// Whether `code` authenticates `message` under `key`, compared in constant time.
    public static func isValid(_ code: some DataProtocol, for message: some DataProtocol, key: some DataProtocol) -> Bool {
        let expected = Self.code(for: message, key: key), given = [UInt8](code)
        guard given.count == expected.count else { return false }
        return CRYPTO_memcmp(given, expected, expected.count) == 0
    }
}
