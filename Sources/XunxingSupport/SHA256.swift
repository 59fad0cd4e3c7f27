import CLibCrypto
import Foundation

/// SHA-256 through OpenSSL's libcrypto (Debian's libssl-dev, which libcurl already links): the
/// one hash every part uses, for payloads, observations, stored secrets and sync signatures.
///
/// Non-copyable: a digest in progress is one libcrypto context, which two copies could not share.
public struct SHA256: ~Copyable, @unchecked Sendable {
    /// The number of bytes in a digest.
    public static let byteCount = 32

    private let context: OpaquePointer

    /// A digest of nothing yet: feed it with ``update(data:)``.
    public init() {
        guard let context = EVP_MD_CTX_new(), EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1 else {
            fatalError("libcrypto could not start a SHA-256 digest")
        }
        self.context = context
    }

    deinit { EVP_MD_CTX_free(context) }

    /// Adds `data` to the digest.
    public mutating func update(data: some DataProtocol) {
        for region in data.regions {
            region.withUnsafeBytes { bytes in
                guard EVP_DigestUpdate(context, bytes.baseAddress, bytes.count) == 1 else {
                    fatalError("libcrypto could not add to a SHA-256 digest")
                }
            }
        }
    }

    /// The digest of everything added (the hasher is used up).
    public consuming func finalize() -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Self.byteCount)
        var length: UInt32 = 0
        guard EVP_DigestFinal_ex(context, &digest, &length) == 1, length == Self.byteCount else {
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
