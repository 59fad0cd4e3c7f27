import FuzzTargets
import Testing

/// The minimised inputs of every contract violation the fuzzers found, kept so that each stays
/// fixed. Each input is run through the same harness and contract as the fuzzers.
@Suite("Fuzzing: regressions")
struct FuzzRegressionTests {
    static func bytes(_ text: String, selector: APIBody? = nil) -> [UInt8] {
        (selector.map { [$0.rawValue] } ?? []) + Array(text.utf8)
    }

    /// libFuzzer, api-bodies: a body that is JSON but not an object was refused as
    /// "field '' has the wrong type", naming no field.
    @Test("a JSON body that is not an object is refused as such", arguments: ["[]", "\"x\"", "3", "null"])
    func bodyNotAnObject(_ json: String) throws {
        let harness = try FuzzHarness()
        for kind in APIBody.allCases {
            let outcome = try harness.run(.apiBodies, Self.bytes(json, selector: kind))
            guard case let .refused(message) = outcome else {
                Issue.record("\(kind) body \(json) accepted")
                continue
            }
            #expect(message.hasSuffix("the body must be a JSON object"), "\(message)")
        }
    }

    /// `bytes` with `replacement` written over the bytes just after the first occurrence of `marker`.
    static func patch(_ bytes: [UInt8], after marker: String, with replacement: [UInt8]) throws -> [UInt8] {
        let m = Array(marker.utf8)
        let at = try #require((0...(bytes.count - m.count)).first { Array(bytes[$0..<($0 + m.count)]) == m })
        var out = bytes
        out.replaceSubrange((at + m.count)..<(at + m.count + replacement.count), with: replacement)
        return out
    }

    /// .tim: `refdm` NaN (or infinite) was accepted and became the series' DM.
    @Test("a .tim file whose refdm is not finite is refused", arguments: [Double.nan, .infinity])
    func timNonFiniteDM(_ dm: Double) throws {
        let harness = try FuzzHarness()
        let seed = try SeedCorpus.seeds(for: .tim, scratch: harness)[1]
        let input = try Self.patch(seed, after: "refdm", with: withUnsafeBytes(of: dm.bitPattern.littleEndian, Array.init))
        let outcome = try harness.run(.tim, input)
        guard case let .refused(message) = outcome else { Issue.record("accepted refdm \(dm)"); return }
        #expect(message.contains("input.tim: field 'refdm' has value \(dm)"), "\(message)")
    }
}
