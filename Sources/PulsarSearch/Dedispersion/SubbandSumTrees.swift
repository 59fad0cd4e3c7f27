import CSearchKernels

/// Both steps of subband dedispersion of one chunk as ``ShiftSumPlan``s.
///
/// Step 1, per subband, sums the subband's channel rows at every nominal DM of a batch of groups
/// (the channels are read once per batch, while they are in cache); step 2, per group, sums the
/// group's subband series at each of its DMs, a tile of output at a time so the partial sums stay in
/// cache. With `radices` `[]` both are flat sums in channel and subband order, the arithmetic of the
/// loops they replace to the bit.
final class SubbandSumTrees {
    let shifts: SubbandShifts
    /// Per group: its DMs' sums of subbands.
    private let subbandPlans: [ShiftSumPlan]
    /// Per batch of groups, per subband: the sums of its channels at the batch's nominal DMs.
    private let channelPlans: [[ShiftSumPlan]]
    private let batches: [Range<Int>]
    private let subStride: Int
    let tile: Int
    /// Samples of each subband series summed per pass of step 1.
    let channelTile: Int
    /// Weighted channels of each subband: its channel plans' leaves.
    private let subChannels: [[Int]]
    private var subbands: [Float]
    private var scratch: [Float]
    private let leafPointers: UnsafeMutablePointer<UnsafePointer<Float>>
    private let targetPointers: UnsafeMutablePointer<UnsafeMutablePointer<Float>>
    private let limits: UnsafeMutablePointer<Int>
    private let rowPointers: UnsafeMutablePointer<UnsafePointer<Float>?>
    private let pointerCount: Int

    /// Plans chunks of up to `chunk` samples whose subband series are `chunk + shifts.maxSubbandDelay`
    /// long; `channelRadices` and `subbandRadices` are the plans' hierarchies; subband buffers of a
    /// batch of groups take at most about `batchFloats` floats.
    init(shifts: SubbandShifts, weights: [Float], chunk: Int, tile: Int, channelTile: Int,
         channelRadices: [Int], subbandRadices: [Int], batchFloats: Int = 8 << 20) {
        self.shifts = shifts
        self.tile = tile
        self.channelTile = max(1, channelTile)
        let nsub = shifts.subbandCount, nch = shifts.channelCount
        subStride = chunk + shifts.maxSubbandDelay
        let subChannels = (0..<nsub).map { s in (0..<nch).filter { shifts.subbandOf[$0] == s && weights[$0] != 0 } }
        self.subChannels = subChannels
        let subbandPlans = shifts.groups.map { members in
            ShiftSumPlan(shifts: members.map { shifts.subbandDelays[$0] }, targetExtra: members.map { _ in 0 },
                         leafCount: nsub, radices: subbandRadices)
        }
        self.subbandPlans = subbandPlans
        let perBatch = max(1, batchFloats / max(1, nsub * subStride))
        batches = stride(from: 0, to: shifts.groups.count, by: perBatch).map { $0..<min(shifts.groups.count, $0 + perBatch) }
        // Step 1 runs in tiles too, each subband series to its own length (`limits`).
        channelPlans = batches.map { batch in
            (0..<nsub).map { s in
                ShiftSumPlan(shifts: batch.map { g in subChannels[s].map { shifts.channelDelays[g][$0] } },
                             targetExtra: batch.map { _ in 0 }, leafCount: subChannels[s].count, radices: channelRadices)
            }
        }
        let widestBatch = batches.map(\.count).max() ?? 0
        subbands = [Float](repeating: 0, count: widestBatch * nsub * subStride)
        let scratchCount = max(subbandPlans.map { $0.scratchCount(tile: tile) }.max() ?? 0,
                               channelPlans.joined().map { $0.scratchCount(tile: max(1, channelTile)) }.max() ?? 0)
        scratch = [Float](repeating: 0, count: scratchCount)
        pointerCount = max(nch, nsub, widestBatch, shifts.groups.map(\.count).max() ?? 0,
                           (channelRadices + subbandRadices).max() ?? 0) + 1
        leafPointers = .allocate(capacity: pointerCount)
        targetPointers = .allocate(capacity: pointerCount)
        limits = .allocate(capacity: pointerCount)
        rowPointers = .allocate(capacity: pointerCount)
    }

    deinit {
        leafPointers.deallocate()
        targetPointers.deallocate()
        limits.deallocate()
        rowPointers.deallocate()
    }

    /// Additions per output sample of every DM in each step (the plans' cost): channels into
    /// subbands, subbands into DMs.
    func additionsPerSample(chunk: Int) -> (channels: Double, subbands: Double) {
        var step1 = 0
        for (batch, plans) in zip(batches, channelPlans) {
            for (s, plan) in plans.enumerated() {
                // Tile by tile, as compute runs it: shared sums are redone past each tile's end.
                let limits = batch.map { chunk + subbandPlans[$0].leafReach[s] }
                let span = limits.max() ?? 0
                for first in stride(from: 0, to: span, by: channelTile) {
                    step1 += plan.additions(tile: min(channelTile, span - first), limits: limits.map { $0 - first })
                }
            }
        }
        let step2 = subbandPlans.reduce(0) { $0 + $1.additions(tile: tile) }
        return (Double(step1) / Double(chunk), Double(step2) / Double(tile))
    }

    /// Dedisperses `current` samples from `channels` (row `c` at `c * stride`, the chunk's overlap
    /// after it) into `output` (DM `i` at `i * outStride`), or with `separateSubbands` the first
    /// DM's subbands aligned (subband `s` at `s * outStride`).
    func compute(channels: UnsafePointer<Float>, stride: Int, current: Int,
                 output: UnsafeMutablePointer<Float>, outStride: Int, separateSubbands: Bool) {
        let nsub = shifts.subbandCount
        let subStride = self.subStride
        subbands.withUnsafeMutableBufferPointer { subBuffer in
            scratch.withUnsafeMutableBufferPointer { scratchBuffer in
                let sub = subBuffer.baseAddress!, work = scratchBuffer.baseAddress!
                for (batch, plans) in zip(batches, channelPlans) {
                    for s in 0..<nsub {
                        for (k, c) in subChannels[s].enumerated() { leafPointers[k] = channels + c * stride }
                        // Each group's subband series is as long as its DMs read it.
                        var span = 0
                        for (k, g) in batch.enumerated() {
                            targetPointers[k] = sub + (k * nsub + s) * subStride
                            limits[k] = current + subbandPlans[g].leafReach[s]
                            span = max(span, limits[k])
                        }
                        var first = 0
                        while first < span {
                            let n = min(channelTile, span - first)
                            plans[s].run(leaves: leafPointers, first: first, count: n, targets: targetPointers,
                                         limits: limits, scratch: work, rowPointers: rowPointers)
                            first += n
                        }
                    }
                    for (k, g) in batch.enumerated() {
                        let members = shifts.groups[g]
                        for s in 0..<nsub { leafPointers[s] = UnsafePointer(sub + (k * nsub + s) * subStride) }
                        if separateSubbands {
                            for i in members {
                                for s in 0..<nsub {
                                    (output + s * outStride).update(from: leafPointers[s] + shifts.subbandDelays[i][s], count: current)
                                }
                            }
                            continue
                        }
                        var first = 0
                        while first < current {
                            let n = min(tile, current - first)
                            for (j, i) in members.enumerated() { targetPointers[j] = output + i * outStride }
                            subbandPlans[g].run(leaves: leafPointers, first: first, count: n, targets: targetPointers,
                                                scratch: work, rowPointers: rowPointers)
                            first += n
                        }
                    }
                }
            }
        }
    }
}
