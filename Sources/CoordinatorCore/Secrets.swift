import CoordinatorStore
import Foundation
import XunxingSupport

/// Secrets (API tokens, account keys, host keys): 32 random bytes, base64url, with a prefix that
/// says what they are. Only their SHA-256 is stored; they are long enough that no slow hash is
/// needed.
public enum Secrets {
    /// A new key for an account or host of `role`, its prefix saying which (`xxvol_...`).
    public static func key(for role: Role) -> String {
        let prefixes: [Role: String] = [.admin: "xxadm_", .astronomer: "xxast_", .volunteer: "xxvol_", .host: "xxhost_"]
        return generate(prefix: prefixes[role] ?? "xx_")
    }

    public static func generate(prefix: String) -> String {
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let encoded = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return prefix + encoded
    }

    public static func hash(_ secret: String) -> String {
        FileDigest.hex(SHA256.hash(data: Data(secret.utf8)))
    }

    /// A new random identifier (UUID, lowercase).
    public static func identifier() -> String { UUID().uuidString.lowercased() }
}


