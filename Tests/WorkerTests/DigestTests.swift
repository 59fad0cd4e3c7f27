import Foundation
import Testing
import XunxingSupport

/// SHA-256 and HMAC-SHA256 (libcrypto) against published answers, and streamed against one-shot.
@Suite("SHA-256 and HMAC-SHA256")
struct DigestTests {
    @Test("SHA-256 of FIPS 180-2's examples: empty, abc, the 448-bit message, a million a")
    func sha256KnownAnswers() {
        let cases: [(Data, String)] = [
            (Data(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            (Data("abc".utf8), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            (Data("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8),
             "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
            (Data(repeating: UInt8(ascii: "a"), count: 1_000_000), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
        ]
        for (data, expected) in cases {
            #expect(FileDigest.hex(SHA256.hash(data: data)) == expected, "\(data.count) bytes")
        }
    }

    @Test("SHA-256 fed in random pieces equals the one-shot digest, on random data")
    func sha256Streamed() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            let bytes = (0..<Int.random(in: 0...5000, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            var hasher = SHA256()
            var i = 0
            while i < bytes.count {
                let n = Int.random(in: 1...300, using: &generator)
                hasher.update(data: bytes[i..<min(bytes.count, i + n)])
                i += n
            }
            #expect(hasher.finalize() == SHA256.hash(data: bytes))
        }
    }

    @Test("HMAC-SHA256 of RFC 4231's test cases 1, 2 and 6; a changed byte or a short code is refused")
    func hmacKnownAnswers() {
        let cases: [([UInt8], Data, String)] = [
            ([UInt8](repeating: 0x0b, count: 20), Data("Hi There".utf8),
             "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
            (Array("Jefe".utf8), Data("what do ya want for nothing?".utf8),
             "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
            ([UInt8](repeating: 0xaa, count: 131), Data("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
             "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
        ]
        for (key, message, expected) in cases {
            let code = HMACSHA256.code(for: message, key: key)
            #expect(FileDigest.hex(code) == expected)
            #expect(HMACSHA256.isValid(code, for: message, key: key))
            var changed = code
            changed[7] ^= 0x01
            #expect(!HMACSHA256.isValid(changed, for: message, key: key))
            #expect(!HMACSHA256.isValid(code.prefix(16), for: message, key: key))
            #expect(!HMACSHA256.isValid(code, for: message + Data([0]), key: key))
        }
    }
}
