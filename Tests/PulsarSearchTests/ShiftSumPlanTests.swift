import Foundation
@testable import PulsarSearch
import Testing

/// The shared-partial-sum plans behind tree dedispersion, against brute-force sums of shifted rows.
@Suite struct ShiftSumPlanTests {
    /// Runs `plan` on random leaf rows that are NaN past what ``ShiftSumPlan/leafReach`` says is
    /// read, with scratch and outputs NaN beforehand, and checks every target sample against a
    /// brute-force double sum. A plan that reads past its reach, or a node it never wrote, shows NaN.
    /// Every buffer has 64 NaN floats past its end that must stay NaN.
    static func check(shifts: [[Int]], extra: [Int], radices: [Int], first: Int, count: Int,
                      rng: inout SeededGenerator, _ label: String) -> ShiftSumPlan {
        let leafCount = shifts.first?.count ?? 0
        let plan = ShiftSumPlan(shifts: shifts, targetExtra: extra, leafCount: leafCount, radices: radices)
        // The reach is exactly what brute force reads.
        let reach = (0..<leafCount).map { i in zip(shifts, extra).map { $0[i] + $1 }.max()! }
        #expect(plan.leafReach == reach, "\(label): leaf reach")
        let width = first + count + (reach.max() ?? 0) + 40
        var rows = [[Float]]()
        for i in 0..<leafCount {
            rows.append((0..<width).map { t in t < first + count + reach[i] ? Float(rng.gaussian() * 3 + rng.uniform()) : .nan })
        }
        let guardCount = 64
        var outputs = zip(shifts, extra).map { _, e in [Float](repeating: .nan, count: first + count + e + guardCount) }
        let scratchCount = plan.scratchCount(tile: count)
        var scratch = [Float](repeating: .nan, count: scratchCount + guardCount)
        let leafPointers = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: max(1, leafCount))
        let targetPointers = UnsafeMutablePointer<UnsafeMutablePointer<Float>>.allocate(capacity: max(1, shifts.count))
        let rowPointers = UnsafeMutablePointer<UnsafePointer<Float>?>.allocate(capacity: leafCount + 16)
        defer { leafPointers.deallocate(); targetPointers.deallocate(); rowPointers.deallocate() }
        let rowStore = rows.map { row -> UnsafeMutablePointer<Float> in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: row.count)
            p.initialize(from: row, count: row.count)
            return p
        }
        let outStore = outputs.map { out -> UnsafeMutablePointer<Float> in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: out.count)
            p.initialize(from: out, count: out.count)
            return p
        }
        defer { (rowStore + outStore).forEach { $0.deallocate() } }
        for i in 0..<leafCount { leafPointers[i] = UnsafePointer(rowStore[i]) }
        for t in 0..<shifts.count { targetPointers[t] = outStore[t] }
        scratch.withUnsafeMutableBufferPointer { work in
            plan.run(leaves: leafPointers, first: first, count: count, targets: targetPointers,
                     scratch: work.baseAddress!, rowPointers: rowPointers)
        }
        let scratchGuard = scratch[scratchCount...].allSatisfy { $0.isNaN }
        #expect(scratchGuard, "\(label): wrote past the scratch it asked for")
        for t in 0..<shifts.count { outputs[t] = Array(UnsafeBufferPointer(start: outStore[t], count: outputs[t].count)) }
        var worst = 0.0
        for (t, s) in shifts.enumerated() {
            let end = first + count + extra[t]
            let unwritten = outputs[t][max(first, end)...].allSatisfy { $0.isNaN }
            #expect(unwritten, "\(label): target \(t) written past sample \(end)")
            for u in first..<max(first, end) {
                var sum = 0.0
                for i in 0..<leafCount { sum += Double(rows[i][u + s[i]]) }
                let got = Double(outputs[t][u])
                worst = max(worst, got.isNaN ? .infinity : abs(got - sum))
            }
            // Nothing before `first` is written.
            let untouched = outputs[t][..<first].allSatisfy { $0.isNaN }
            #expect(untouched, "\(label): wrote before first")
        }
        let bound = 1e-4 * Double(Swift.max(1, leafCount))
        #expect(worst <= bound, "\(label): worst error \(worst)")
        return plan
    }

    @Test("sums equal brute force for every hierarchy, with dispersion-like and random shifts")
    func matchesBruteForce() {
        var rng = SeededGenerator(seed: 1807)
        for (leaves, targets) in [(1, 3), (7, 5), (16, 18), (13, 40), (64, 55)] {
            // Dispersion-like: target a shifts leaf i by round(a * g_i), g falling across the band.
            let g = (0..<leaves).map { i in 30 * (1 - Double(i) / Double(leaves)) + rng.uniform() }.reversed().map { $0 }
            let dispersed = (0..<targets).map { t in g.map { Int((Double(t) * 0.21 * $0 / 10).rounded()) } }
            let random = (0..<targets).map { _ in (0..<leaves).map { _ in Int(rng.uniform() * 25) } }
            for (name, shifts) in [("dispersed", dispersed), ("random", random)] {
                let extra = (0..<targets).map { _ in Int(rng.uniform() * 30) }
                for radices in [[], [2], [4], [4, 4], [2, 2, 2], [3, 5]] {
                    let first = Int(rng.uniform() * 50), count = 1 + Int(rng.uniform() * 300)
                    let plan = Self.check(shifts: shifts, extra: extra, radices: radices, first: first, count: count,
                                          rng: &rng, "\(leaves) leaves, \(targets) \(name) targets, radices \(radices)")
                    let flat = zip(shifts, extra).reduce(0) { $0 + max(0, leaves - 1) * (count + $1.1) }
                    if radices.isEmpty {
                        #expect(plan.additions(tile: count) == flat, "flat plan adds every row once")
                    }
                }
            }
        }
    }

    @Test("targets that differ only by a constant share every partial sum below the top")
    func sharing() {
        var rng = SeededGenerator(seed: 7)
        let v = (0..<16).map { _ in Int(rng.uniform() * 9) }
        let shifts = (0..<10).map { t in v.map { $0 + 3 * t } }
        let plan = Self.check(shifts: shifts, extra: [Int](repeating: 0, count: 10), radices: [4], first: 0, count: 100,
                              rng: &rng, "shared")
        // 4 shared blocks of 4 leaves, then one root of 4 blocks per target.
        #expect(plan.nodes.count == 4 + 10)
        #expect(plan.nodes.filter { $0.target < 0 }.count == 4)
        #expect(plan.additions(tile: 100) < 10 * 15 * 100 / 3)
    }

    @Test("tree dedispersion at the benchmark's plan needs several times fewer additions than flat sums")
    func treeCost() {
        // 1024 channels of 1200-1500 MHz at 64 us, 64 subbands, DM 0-99.9 in steps of 0.1.
        let freqs = (0..<1024).map { 1500 - 300 * Double($0) / 1024 }
        let shifts = SubbandShifts(frequencies: freqs, subbands: 64, dms: (0..<1000).map { Double($0) / 10 }, sampleTime: 64e-6)
        let weights = [Float](repeating: 1, count: 1024)
        let flat = SubbandSumTrees(shifts: shifts, weights: weights, chunk: 4096, tile: 512, channelTile: 1024, channelRadices: [], subbandRadices: [])
        let tree = SubbandSumTrees(shifts: shifts, weights: weights, chunk: 4096, tile: 512, channelTile: 1024, channelRadices: [4], subbandRadices: [4, 4])
        let flatSteps = flat.additionsPerSample(), treeSteps = tree.additionsPerSample()
        // The subband series persist across chunks: step 1 sums each subband sample once, the
        // subband's 16 channels at each nominal DM (15 additions), nothing again for the overlap.
        #expect(flatSteps.channels == Double(shifts.groups.count * 64 * 15), "flat step 1 \(flatSteps.channels), \(shifts.groups.count) groups")
        let flatCost = flatSteps.channels + flatSteps.subbands, treeCost = treeSteps.channels + treeSteps.subbands
        // Flat: about 18 nominal DMs x 1024 channels + 1000 DMs x 64 subbands.
        #expect(flatCost > 75_000 && flatCost < 95_000, "flat \(flatCost)")
        // Step 1 in tiles of 64 redoes the shared sums' extra samples at every tile: it costs more.
        let small = SubbandSumTrees(shifts: shifts, weights: weights, chunk: 4096, tile: 512, channelTile: 64, channelRadices: [4], subbandRadices: [4, 4])
        #expect(small.additionsPerSample().channels > treeSteps.channels)
        // Measured: about 35,100 (10,400 + 24,800); each step needs fewer additions than flat.
        #expect(treeCost < flatCost / 2, "tree \(treeCost) against flat \(flatCost)")
        #expect(treeSteps.channels < flatSteps.channels * 0.7 && treeSteps.subbands < flatSteps.subbands * 0.5, "\(treeSteps) against \(flatSteps)")
    }
}
