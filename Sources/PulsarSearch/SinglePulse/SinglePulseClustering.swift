import Foundation

/// One single-pulse event: a cluster of boxcar hits across DM, time and width, described by its
/// strongest member.
public struct SinglePulseEvent: Sendable, Equatable, Codable {
    /// Arrival at the top of the band, seconds from the start of the file, and as an MJD.
    public var timeSeconds: Double
    public var mjd: Double
    public var dm: Double
    public var widthSeconds: Double
    public var snr: Double
    /// Hits in the cluster.
    public var members: Int
    /// The cluster's extent in DM and time.
    public var dmMin: Double
    public var dmMax: Double
    public var timeMinSeconds: Double
    public var timeMaxSeconds: Double
    /// Why the cluster is taken for interference (`dm0`: strongest at DM ~0; `all-dm`: spans
    /// the whole DM range), or nil for a burst.
    public var rfi: String?
    /// The burst's plots, measured from the data (the coordinator keeps them for its strongest
    /// bursts); nil when not measured.
    public var diagnostics: BurstPlots?

    enum CodingKeys: String, CodingKey {
        case timeSeconds = "time_s", mjd, dm, widthSeconds = "width_s", snr, members, dmMin = "dm_min", dmMax = "dm_max"
        case timeMinSeconds = "time_min_s", timeMaxSeconds = "time_max_s", rfi, diagnostics
    }
}

/// Friends-of-friends clustering of boxcar hits: two hits are friends when their DM trials are at
/// most `dmRadius` trials apart and their boxcars, widened by `timeSlack` seconds, overlap in time;
/// a cluster is every hit reachable through friends.
public struct SinglePulseClustering: Sendable, Equatable {
    /// DM trials apart that still make friends.
    public var dmRadius: Int = 2
    /// Seconds added around each boxcar before testing overlap.
    public var timeSlack: Double = 0
    /// Clusters strongest below this DM are interference.
    public var lowDM: Double = 2
    /// Clusters spanning at least this fraction of the searched DM range are interference.
    public var broadFraction: Double = 0.8
    /// A cluster this weak relative to a stronger one it touches in time, within that one's DM
    /// span, is its fragment and joins it (``absorbFragments(_:of:)``).
    public var fragmentFraction: Float = 0.6
    /// Most hits a fragment has.
    public var fragmentMembers: Int = 3

    public init() {}

    /// Clusters `hits` into events, strongest first; `dms` are the DM trials searched, `startMJD`
    /// the file's first sample.
    public func cluster(_ hits: [SinglePulseHit], dms: [Double], startMJD: Double) -> [SinglePulseEvent] {
        guard !hits.isEmpty else { return [] }
        let sorted = hits.sorted { $0.time - 0.5 * $0.widthSeconds < $1.time - 0.5 * $1.widthSeconds }
        var parent = Array(sorted.indices)
        func find(_ i: Int) -> Int {
            var i = i
            while parent[i] != i { parent[i] = parent[parent[i]]; i = parent[i] }
            return i
        }
        let longest = sorted.map(\.widthSeconds).max() ?? 0
        for i in sorted.indices {
            let a = sorted[i]
            let aStart = a.time - 0.5 * a.widthSeconds - timeSlack, aEnd = a.time + 0.5 * a.widthSeconds + timeSlack
            var j = i - 1
            // Earlier hits start no later; once one starts before aStart by more than the widest
            // boxcar, none before it can reach a.
            while j >= 0 {
                let b = sorted[j]
                let bStart = b.time - 0.5 * b.widthSeconds
                if bStart < aStart - longest - timeSlack { break }
                let bEnd = b.time + 0.5 * b.widthSeconds
                if abs(a.dmIndex - b.dmIndex) <= dmRadius && bEnd >= aStart && bStart <= aEnd {
                    let ra = find(i), rb = find(j)
                    if ra != rb { parent[ra] = rb }
                }
                j -= 1
            }
        }
        var groups: [Int: [Int]] = [:]
        for i in sorted.indices { groups[find(i), default: []].append(i) }
        let span = (dms.max() ?? 0) - (dms.min() ?? 0)
        var events: [SinglePulseEvent] = absorbFragments(Array(groups.values), of: sorted).map { members in
            let best = members.max { sorted[$0].snr < sorted[$1].snr }!
            let top = sorted[best]
            let dmsOf = members.map { sorted[$0].dm }
            let times = members.map { sorted[$0].time }
            let dmMin = dmsOf.min()!, dmMax = dmsOf.max()!
            var rfi: String? = nil
            if top.dm < lowDM { rfi = "dm0" } else if dms.count > 2 && dmMax - dmMin >= broadFraction * span { rfi = "all-dm" }
            return SinglePulseEvent(
                timeSeconds: top.time, mjd: startMJD + top.time / 86_400, dm: top.dm, widthSeconds: top.widthSeconds,
                snr: Double(top.snr), members: members.count, dmMin: dmMin, dmMax: dmMax,
                timeMinSeconds: times.min()!, timeMaxSeconds: times.max()!, rfi: rfi)
        }
        events.sort { $0.snr > $1.snr }
        return events
    }

    /// A bright burst's S/N against DM falls below the threshold far from its DM and can rise above
    /// it again by chance, leaving a few hits that friends-of-friends cannot reach: fragments. A
    /// cluster of at most ``fragmentMembers`` hits, at most `fragmentFraction` as strong as a
    /// stronger burst (strongest at or above `lowDM`), overlapping its time extent (each hit's
    /// boxcar widened by `timeSlack`) and no further from its DM range than that range is wide,
    /// joins it. A weaker burst of its own has more hits than a fragment and stays apart.
    func absorbFragments(_ groups: [[Int]], of hits: [SinglePulseHit]) -> [[Int]] {
        struct Extent {
            var members: [Int]; var peak: Float; var peakDM: Double; var dmLow: Double; var dmHigh: Double; var start: Double; var end: Double
        }
        var extents = groups.map { members -> Extent in
            var e = Extent(members: members, peak: 0, peakDM: 0, dmLow: .infinity, dmHigh: -.infinity, start: .infinity, end: -.infinity)
            for i in members {
                let h = hits[i]
                if h.snr > e.peak { e.peak = h.snr; e.peakDM = h.dm }
                e.dmLow = min(e.dmLow, h.dm)
                e.dmHigh = max(e.dmHigh, h.dm)
                e.start = min(e.start, h.time - 0.5 * h.widthSeconds - timeSlack)
                e.end = max(e.end, h.time + 0.5 * h.widthSeconds + timeSlack)
            }
            return e
        }.sorted { $0.peak > $1.peak }
        var kept: [Extent] = []
        for e in extents {
            if e.members.count <= fragmentMembers, let k = kept.firstIndex(where: { g in
                g.peakDM >= lowDM && e.peak <= fragmentFraction * g.peak && e.start <= g.end && e.end >= g.start
                    && max(e.dmLow - g.dmHigh, g.dmLow - e.dmHigh) <= g.dmHigh - g.dmLow
            }) {
                kept[k].members += e.members
                continue
            }
            kept.append(e)
        }
        extents = kept
        return extents.map(\.members)
    }
}
