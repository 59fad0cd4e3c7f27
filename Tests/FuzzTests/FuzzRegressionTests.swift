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
}
