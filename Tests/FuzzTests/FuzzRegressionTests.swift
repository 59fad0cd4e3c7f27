import Foundation
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

    /// payload: a finite scale so large that 255 x scale overflows restored samples to infinity.
    @Test("a payload whose scale restores samples to infinity is refused")
    func payloadInfiniteSamples() throws {
        let harness = try FuzzHarness()
        let seed = try SeedCorpus.seeds(for: .payload, scratch: harness)[0]
        let length = Int(seed[8]) | Int(seed[9]) << 8 | Int(seed[10]) << 16 | Int(seed[11]) << 24
        var header = try #require(try JSONSerialization.jsonObject(with: Data(seed[12..<(12 + length)])) as? [String: Any])
        header["scales"] = [3.0e38, 1.0]
        let json = Array(try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]))
        let input = seed[0..<8] + withUnsafeBytes(of: UInt32(json.count).littleEndian, Array.init) + json + seed[(12 + length)...]
        let outcome = try harness.run(.payload, Array(input))
        guard case let .refused(message) = outcome else { Issue.record("accepted scale 3e38"); return }
        #expect(message.contains("input.xxwu: header field 'scales' has value 3e+38"), "\(message)")
    }

    /// api-bodies, result: DM indices at the ends of Int made the sifter's adjacency test
    /// (`b - a == 1`) overflow and trap: a host could crash the coordinator's assimilator.
    @Test("a result with extreme DM indices is sifted without trapping, and refused")
    func resultExtremeDMIndex() throws {
        let harness = try FuzzHarness()
        let seed = try SeedCorpus.seeds(for: .apiBodies, scratch: harness)[Int(APIBody.result.rawValue)]
        for extreme in ["-9223372036854775808", "9223372036854775807"] {
            let text = String(decoding: seed.dropFirst(), as: UTF8.self).replacingOccurrences(of: "\"dmIndex\":6", with: "\"dmIndex\":\(extreme)")
            // Sifted without trapping, then refused: the unit holds DM trials 0..<64.
            let outcome = try harness.run(.apiBodies, Self.bytes(text, selector: .result))
            #expect(outcome == .refused(
                "field 'candidates.2.dmIndex' has value \(extreme): the work unit holds DM trials 0..<64"))
        }
    }
}
