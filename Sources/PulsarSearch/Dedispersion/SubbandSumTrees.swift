import CSearchKernels

/// Both steps of subband dedispersion as ``ShiftSumPlan``s, streaming: the subband series persist
/// from chunk to chunk, so each chunk sums only its own new samples of them.
///
/// Step 1, per subband, sums the subband's channel rows at every nominal DM (the channels are read
/// once per chunk, while they are in cache) into the next `chunk` samples of each group's subband
/// series. Step 2, per group, sums the group's subband series at each of its DMs, a tile of output
/// at a time so the partial sums stay in cache. Step 2 runs `lag` (the largest subband shift)
/// samples behind step 1, so every subband sample it reads was summed in this chunk or an earlier
/// one: nothing is summed twice, and the channels a chunk needs are only the chunk plus the
/// largest shift inside a subband (tens of samples), not plus the band's whole delay.
///
/// Each series is a buffer of `lag + laps * chunk` samples; when the next chunk would run past its
/// end, the last `lag` samples (all step 2 still reads) move to its front, once every `laps`
/// chunks. With `radices` `[]` both steps are flat sums in channel and subband order, the
/// arithmetic of the reference loops to the bit.
final class SubbandSumTrees {
    let shifts: SubbandShifts
    /// Per group: its DMs' sums of subbands.
    private let subbandPlans: [ShiftSumPlan]
    /// Per subband: the sums of its channels at every nominal DM.
    private let channelPlans: [ShiftSumPlan]
    let chunk: Int
    /// How far step 2 runs behind step 1: the largest subband shift.
    let lag: Int
    let tile: Int
    /// Samples of each subband series summed per pass of step 1.
    let channelTile: Int
    /// Samples of each series' buffer.
    private let seriesLength: Int
    /// Weighted channels of each subband: its channel plans' leaves.
    private let subChannels: [[Int]]
    /// Series (group `g`, subband `s`) at `(g * nsub + s) * seriesLength`; allocated by the first
    /// ``advance(channels:stride:)`` (a plan only counted never holds them).
    private var series: UnsafeMutablePointer<Float>?
    /// Where in each series buffer the next chunk's first sample goes.
    private var position = 0
    private var scratch: [Float]
    private let leafPointers: UnsafeMutablePointer<UnsafePointer<Float>>
    private let targetPointers: UnsafeMutablePointer<UnsafeMutablePointer<Float>>
    private let rowPointers: UnsafeMutablePointer<UnsafePointer<Float>?>

    /// Plans chunks of `chunk` samples; `channelRadices` and `subbandRadices` are the plans'
    /// hierarchies; each series buffer holds `laps` chunks past the lag.
    init(shifts: SubbandShifts, weights: [Float], chunk: Int, tile: Int, channelTile: Int,
         channelRadices: [Int], subbandRadices: [Int], laps: Int = 2) {
        self.shifts = shifts
        self.chunk = chunk
        let tile = max(1, tile), channelTile = max(1, channelTile)
        self.tile = tile
        self.channelTile = channelTile
        let nsub = shifts.subbandCount, nch = shifts.channelCount
        lag = shifts.maxSubbandDelay
        seriesLength = Self.seriesLength(shifts: shifts, chunk: chunk, laps: laps)
        let subChannels = (0..<nsub).map { s in (0..<nch).filter { shifts.subbandOf[$0] == s && weights[$0] != 0 } }
        self.subChannels = subChannels
        let subbandPlans = shifts.groups.map { members in
            ShiftSumPlan(shifts: members.map { shifts.subbandDelays[$0] }, targetExtra: members.map { _ in 0 },
                         leafCount: nsub, radices: subbandRadices)
        }
        self.subbandPlans = subbandPlans
        let channelPlans = (0..<nsub).map { s in
            ShiftSumPlan(shifts: shifts.groups.indices.map { g in subChannels[s].map { shifts.channelDelays[g][$0] } },
                         targetExtra: shifts.groups.map { _ in 0 }, leafCount: subChannels[s].count, radices: channelRadices)
        }
        self.channelPlans = channelPlans
        let scratchCount = max(subbandPlans.map { $0.scratchCount(tile: tile) }.max() ?? 0,
                               channelPlans.map { $0.scratchCount(tile: channelTile) }.max() ?? 0)
        scratch = [Float](repeating: 0, count: scratchCount)
        let pointerCount = max(nch, nsub, shifts.groups.count, shifts.groups.map(\.count).max() ?? 0,
                               (channelRadices + subbandRadices).max() ?? 0) + 1
        leafPointers = .allocate(capacity: pointerCount)
        targetPointers = .allocate(capacity: pointerCount)
        rowPointers = .allocate(capacity: pointerCount)
    }

    /// Samples of each subband series' buffer: the largest subband shift plus `laps` chunks.
    static func seriesLength(shifts: SubbandShifts, chunk: Int, laps: Int) -> Int {
        shifts.maxSubbandDelay + max(1, laps) * chunk
    }

    /// Floats of subband series the plans for `shifts` hold: every group's every subband.
    static func seriesFloats(shifts: SubbandShifts, chunk: Int, laps: Int) -> Int {
        shifts.groups.count * shifts.subbandCount * seriesLength(shifts: shifts, chunk: chunk, laps: laps)
    }

    deinit {
        if let series { xx_free_floats(series) }
        leafPointers.deallocate()
        targetPointers.deallocate()
        rowPointers.deallocate()
    }

    /// Additions per output sample of every DM in each step (the plans' cost): channels into
    /// subbands, subbands into DMs.
    func additionsPerSample() -> (channels: Double, subbands: Double) {
        var step1 = 0
        for plan in channelPlans {
            var first = 0
            while first < chunk {
                let n = min(channelTile, chunk - first)
                step1 += plan.additions(tile: n)
                first += n
            }
        }
        let step2 = subbandPlans.reduce(0) { $0 + $1.additions(tile: tile) }
        return (Double(step1) / Double(chunk), Double(step2) / Double(tile))
    }

    /// Step 1: sums the next `chunk` samples of every subband series from `channels` (row `c` at
    /// `c * stride`, column 0 the chunk's first sample, `chunk` plus the largest channel shift
    /// columns read). Then step 2 can emit output up to the chunk's end less ``lag``.
    func advance(channels: UnsafePointer<Float>, stride: Int) throws {
        let nsub = shifts.subbandCount, groups = shifts.groups.count
        let series = try self.series ?? {
            let floats = groups * nsub * seriesLength
            guard let buffer = xx_alloc_floats_huge(floats) else { throw DedispersionError.outOfMemory(floats: floats) }
            // Every sample is written before step 2 reads it (a subband with no weighted channel
            // gets zeros from its empty sums); zeroed anyway, so nothing stale can ever show.
            buffer.initialize(repeating: 0, count: floats)
            self.series = buffer
            return buffer
        }()
        if position + chunk > seriesLength {
            // Keep what step 2 still reads: the last `lag` samples.
            for k in 0..<(groups * nsub) {
                let row = series + k * seriesLength
                row.update(from: row + position - lag, count: lag)
            }
            position = lag
        }
        scratch.withUnsafeMutableBufferPointer { scratchBuffer in
            let work = scratchBuffer.baseAddress!
            for s in 0..<nsub {
                for (k, c) in subChannels[s].enumerated() { leafPointers[k] = channels + c * stride }
                for g in 0..<groups { targetPointers[g] = series + (g * nsub + s) * seriesLength + position }
                channelPlans[s].run(leaves: leafPointers, count: chunk, tile: channelTile, targets: targetPointers,
                                    scratch: work, rowPointers: rowPointers)
            }
        }
        position += chunk
    }

    /// Step 2 after ``advance(channels:stride:)``: the output samples from `skip` after the
    /// chunk's first less ``lag``, `count` of them (`skip + count <= chunk`), into `output` (DM `i`
    /// at `i * outStride`), or with `separateSubbands` the first DM's subbands aligned (subband `s`
    /// at `s * outStride`).
    func emit(skip: Int, count: Int, output: UnsafeMutablePointer<Float>, outStride: Int, separateSubbands: Bool) {
        let start = position - chunk - lag + skip
        precondition(skip >= 0 && skip + count <= chunk && start >= 0, "emit: skip \(skip), count \(count) outside the summed series")
        guard count > 0, let series else { return }
        let nsub = shifts.subbandCount
        scratch.withUnsafeMutableBufferPointer { scratchBuffer in
            let work = scratchBuffer.baseAddress!
            for (g, members) in shifts.groups.enumerated() {
                for s in 0..<nsub { leafPointers[s] = UnsafePointer(series + (g * nsub + s) * seriesLength + start) }
                if separateSubbands {
                    for i in members {
                        for s in 0..<nsub {
                            (output + s * outStride).update(from: leafPointers[s] + shifts.subbandDelays[i][s], count: count)
                        }
                    }
                    continue
                }
                for (j, i) in members.enumerated() { targetPointers[j] = output + i * outStride }
                subbandPlans[g].run(leaves: leafPointers, count: count, tile: tile, targets: targetPointers,
                                    scratch: work, rowPointers: rowPointers)
            }
        }
    }
}
