/// The plain loops subband dedispersion used before its vector kernels: each nominal group's
/// subbands summed channel by channel, then each DM's subbands added one by one. Kept as the
/// benchmark's baseline ("today's code") and as the order of additions `vector` reproduces.
struct ReferenceLoops {
    let shifts: SubbandShifts
    let weights: [Float]
    private let subStride: Int
    private var subbands: [Float]

    init(shifts: SubbandShifts, weights: [Float], chunk: Int) {
        self.shifts = shifts
        self.weights = weights
        subStride = chunk + shifts.maxSubbandDelay
        subbands = [Float](repeating: 0, count: shifts.subbandCount * subStride)
    }

    /// Dedisperses `current` samples from `channels` (row `c` at `c * stride`, the band's whole delay
    /// after the chunk) into `output` (DM `i` at `i * outStride`), or with `separateSubbands` the
    /// first DM's subbands aligned (subband `s` at `s * outStride`).
    mutating func compute(channels chan: UnsafePointer<Float>, stride: Int, current: Int,
                          output: UnsafeMutablePointer<Float>, outStride: Int, separateSubbands: Bool) {
        let nsub = shifts.subbandCount, subStride = self.subStride
        let span = current + shifts.maxSubbandDelay
        let tile = 2048
        subbands.withUnsafeMutableBufferPointer { buffer in
            let sub = buffer.baseAddress!
            for (g, members) in shifts.groups.enumerated() {
                sub.update(repeating: 0, count: nsub * subStride)
                let delays = shifts.channelDelays[g]
                for c in 0..<shifts.channelCount where weights[c] != 0 {
                    let dst = sub + shifts.subbandOf[c] * subStride
                    let src = chan + c * stride + delays[c]
                    for t in 0..<span { dst[t] += src[t] }
                }
                var first = 0
                while first < current {
                    let n = min(tile, current - first)
                    for i in members {
                        let subShifts = shifts.subbandDelays[i]
                        if separateSubbands {
                            for s in 0..<nsub {
                                (output + s * outStride + first).update(from: sub + s * subStride + subShifts[s] + first, count: n)
                            }
                            continue
                        }
                        let dst = output + i * outStride + first
                        dst.update(repeating: 0, count: n)
                        for s in 0..<nsub {
                            let src = sub + s * subStride + subShifts[s] + first
                            for t in 0..<n { dst[t] += src[t] }
                        }
                    }
                    first += n
                }
            }
        }
    }
}
