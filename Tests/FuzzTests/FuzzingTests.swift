import FuzzTargets
import Testing

/// The scaled-down fuzzing of issue 7: every target over its seeds and a few thousand
/// deterministic mutations, asserting the contract (accepted with sane output, or refused with a
/// typed error naming the file and field). The million-input runs are `scripts/fuzz.sh`.
@Suite("Fuzzing: readers, payload and API bodies")
struct FuzzingTests {
    /// Mutations per target; the whole suite stays well under a minute in a debug build.
    static let mutations = 10_000

    @Test("every seed is accepted", arguments: FuzzTarget.allCases)
    func seedsAreAccepted(_ target: FuzzTarget) throws {
        let harness = try FuzzHarness()
        let seeds = try SeedCorpus.seeds(for: target, scratch: harness)
        #expect(seeds.count >= 2)
        for (i, seed) in seeds.enumerated() {
            #expect(try harness.run(target, seed) == .accepted, "seed \(i) of \(target)")
        }
    }

    @Test("mutated inputs keep the contract", arguments: FuzzTarget.allCases)
    func mutationsKeepTheContract(_ target: FuzzTarget) throws {
        let harness = try FuzzHarness()
        let seeds = try SeedCorpus.seeds(for: target, scratch: harness)
        var fuzzer = MutationFuzzer(target: target, seed: 0x5EED_0007)
        let report = fuzzer.run(seeds: seeds, mutations: Self.mutations, harness: harness)
        #expect(report.inputs == seeds.count + Self.mutations)
        for failure in report.failures {
            Issue.record("\(failure.violation)\ninput (\(failure.input.count) bytes): \(Self.hex(failure.input))")
        }
        // The mutations must reach past the first check: some inputs accepted, most refused.
        #expect(report.accepted > seeds.count, "only \(report.accepted) inputs accepted")
        #expect(report.accepted < report.inputs / 2 || target == .apiBodies)
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.prefix(512).map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }
            .joined()
    }
}
