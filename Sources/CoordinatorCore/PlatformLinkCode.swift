import Foundation
import XunxingSupport

/// The proof a volunteer brings to link their profile on the external platform: a code the
/// platform issues to the signed-in owner of the profile, signed with the secret the platform and
/// the project share (the one sync batches are signed with), single use and expiring.
///
/// Format: `xxlink1.<profile id, base64url>.<expiry, Unix seconds>.<nonce>.<HMAC-SHA256, hex>`,
/// the MAC over everything before its dot. Without it anyone could link any profile id and send
/// their hours there.
public enum PlatformLinkCode {
    /// Longest a code may be valid for, seconds from now (a day).
    public static let longestValidity: Double = 86_400

    /// Why a code was refused.
    public enum Problem: Error, Equatable, CustomStringConvertible {
        case malformed
        case badSignature
        case expired
        case tooLongValid

        public var description: String {
            switch self {
            case .malformed: return "not a link code from the platform (expected xxlink1.<profile>.<expiry>.<nonce>.<signature>)"
            case .badSignature: return "the link code's signature is not the platform's"
            case .expired: return "the link code has expired: ask the platform for a new one"
            case .tooLongValid: return "the link code is valid for more than a day: the platform must issue short-lived codes"
            }
        }
    }

    /// A code for `profileID` valid until `expires` (Unix seconds), as the platform makes it.
    public static func make(profileID: String, expires: Double, nonce: String, secret: String) -> String {
        let body = "xxlink1.\(base64url(Data(profileID.utf8))).\(Int(expires)).\(nonce)"
        return body + "." + mac(body, secret: secret)
    }

    /// The profile id and nonce of a valid code.
    public static func verify(_ code: String, secret: String, now: Double) throws(Problem) -> (profileID: String, nonce: String) {
        let parts = code.trimmingCharacters(in: .whitespaces).split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 5, parts[0] == "xxlink1", let expires = Double(parts[2]),
            (1...128).contains(parts[3].count), parts[3].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }),
            let profileData = unbase64url(parts[1]), let profileID = String(data: profileData, encoding: .utf8),
            (1...200).contains(profileID.count)
        else { throw .malformed }
        let body = parts[0..<4].joined(separator: ".")
        guard let given = hexBytes(parts[4]),
            HMACSHA256.isValid(given, for: Data(body.utf8), key: Data(secret.utf8))
        else { throw .badSignature }
        guard expires > now else { throw .expired }
        guard expires <= now + longestValidity + 60 else { throw .tooLongValid }
        return (profileID, parts[3])
    }

    static func mac(_ body: String, secret: String) -> String {
        FileDigest.hex(HMACSHA256.code(for: Data(body.utf8), key: Data(secret.utf8)))
    }

    static func base64url(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func unbase64url(_ text: String) -> Data? {
        var s = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while s.count % 4 != 0 { s += "=" }
        return Data(base64Encoded: s)
    }

    static func hexBytes(_ hex: String) -> Data? {
        guard hex.count == 64 else { return nil }
        var out = Data(capacity: 32)
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            out.append(byte)
            index = next
        }
        return out
    }
}
