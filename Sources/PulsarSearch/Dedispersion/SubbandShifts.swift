import Foundation

/// The whole-sample shifts of two-step (subband) dedispersion at a set of DMs: nominal DM groups,
/// each channel's shift behind its subband's top at its group's nominal DM, and each DM's subband
/// shifts. The rounding rules, and the error they allow, are documented on ``SubbandDedisperser``.
struct SubbandShifts: Sendable {
    let channelCount: Int
    let subbandCount: Int
    /// The subband of each channel.
    let subbandOf: [Int]
    /// Indices into the DMs, one array per nominal DM group, in DM order of the groups.
    let groups: [[Int]]
    /// Per group, per channel: the channel's shift behind its subband's top at the nominal DM.
    let channelDelays: [[Int]]
    /// Per DM, per subband: the subband's shift.
    let subbandDelays: [[Int]]

    var maxChannelDelay: Int { channelDelays.map { $0.max() ?? 0 }.max() ?? 0 }
    var maxSubbandDelay: Int { subbandDelays.map { $0.max() ?? 0 }.max() ?? 0 }

    /// Channel `c` belongs to subband `c * subbands / channels`.
    init(frequencies freqs: [Double], subbands nsub: Int, dms: [Double], sampleTime dtEff: Double) {
        let nch = freqs.count
        channelCount = nch
        subbandCount = nsub
        let fTop = freqs.max() ?? 0
        let subOf = (0..<nch).map { Self.subband(ofChannel: $0, channels: nch, subbands: nsub) }
        subbandOf = subOf
        var subTop = [Double](repeating: 0, count: nsub)
        var subBottom = [Double](repeating: .infinity, count: nsub)
        for c in 0..<nch {
            subTop[subOf[c]] = max(subTop[subOf[c]], freqs[c])
            subBottom[subOf[c]] = min(subBottom[subOf[c]], freqs[c])
        }
        func samples(_ seconds: Double) -> Int { Int((seconds / dtEff).rounded()) }

        // Nominal DMs: spacing keeps the intra-subband error under one sample (half a sample either
        // way of the subband's middle).
        var widest = 0.0
        for s in 0..<nsub { widest = max(widest, Dispersion.delay(dm: 1, frequency: subBottom[s], reference: subTop[s])) }
        let nominalStep = widest > 0 ? 2 * dtEff / widest : .infinity
        let dmLow = dms.min() ?? 0
        var groupOf: [Int: [Int]] = [:]
        for (i, dm) in dms.enumerated() {
            let g = nominalStep.isFinite ? Int(((dm - dmLow) / nominalStep).rounded()) : 0
            groupOf[g, default: []].append(i)
        }
        let groupKeys = groupOf.keys.sorted()
        groups = groupKeys.map { groupOf[$0]! }
        // Rounded once, as the dedisperser's documentation says: each channel by its whole delay
        // behind the top of the band at the nominal DM, less the subband top's; each subband by its
        // top's delay at the nominal DM plus its middle's delay for the DM's offset from the nominal.
        let midPerDM = (0..<nsub).map { s in
            0.5 * (Dispersion.delay(dm: 1, frequency: subTop[s], reference: fTop)
                + Dispersion.delay(dm: 1, frequency: subBottom[s], reference: fTop)) / dtEff
        }
        var channelDelays: [[Int]] = []
        var subDelays = [[Int]](repeating: [], count: dms.count)
        for (g, members) in zip(groupKeys, groups) {
            let d0 = nominalStep.isFinite ? dmLow + Double(g) * nominalStep : dmLow
            let topDelays = (0..<nsub).map { s in samples(Dispersion.delay(dm: d0, frequency: subTop[s], reference: fTop)) }
            channelDelays.append((0..<nch).map { c in
                samples(Dispersion.delay(dm: d0, frequency: freqs[c], reference: fTop)) - topDelays[subOf[c]]
            })
            for i in members {
                let offset = dms[i] - d0
                // Clamped at 0 (the subband series start at the chunk's first sample). With the
                // nominal spacing above, the sum is negative only for the top subband below its
                // nominal DM at a rounding tie (|g_mid d| = 1/2), where 0 errs no more than -1.
                subDelays[i] = (0..<nsub).map { s in max(0, topDelays[s] + Int((midPerDM[s] * offset).rounded())) }
            }
        }
        self.channelDelays = channelDelays
        subbandDelays = subDelays
    }

    /// The subband channel `c` belongs to: consecutive channels, as evenly as they divide.
    static func subband(ofChannel c: Int, channels: Int, subbands: Int) -> Int { c * subbands / channels }

    /// Per DM, per channel: the channel's whole shift (its shift in its subband plus the subband's).
    func channelShifts() -> [[Int]] {
        var out = [[Int]](repeating: [], count: subbandDelays.count)
        for (g, members) in groups.enumerated() {
            for i in members {
                out[i] = (0..<channelCount).map { c in channelDelays[g][c] + subbandDelays[i][subbandOf[c]] }
            }
        }
        return out
    }
}
