import CoordinatorStore

/// How many hours one host may be credited per UTC day: from the speed it has shown on validated
/// work, never from the cores or speed it claims (a claim can only lower the cap).
public enum HostDailyCap {
    /// Validated units a host's demonstrated speed is measured over.
    public static let window = 64
    /// Headroom over the demonstrated speed: the cost model's error (within 20 %) and a host that
    /// is busier today than over its last units.
    public static let headroom = 1.5

    /// Reference cores a host has shown: the estimated cost of its validated units over the wall
    /// time during which it held them (the union of the intervals from sending each unit to
    /// receiving its result, on the coordinator's clock). A host cannot shorten these intervals
    /// nor raise the costs, and audits make it do the work, so it cannot show more than it has.
    public static func demonstratedCores(_ work: [HeldWork]) -> Double {
        let spans = work.map { (start: $0.sentAt, end: max($0.sentAt, $0.reportedAt)) }.sorted { $0.start < $1.start }
        var busy = 0.0
        var current: (start: Double, end: Double)?
        for span in spans {
            if let c = current, span.start <= c.end {
                current = (c.start, max(c.end, span.end))
            } else {
                if let c = current { busy += c.end - c.start }
                current = span
            }
        }
        if let c = current { busy += c.end - c.start }
        let cost = work.reduce(0) { $0 + $1.estimatedCost }
        return busy > 0 ? cost / busy : 0
    }

    /// Reference-core hours a host may be credited per UTC day: 24 x the reference cores it has
    /// demonstrated (with headroom), at least one reference core's day so that a new or small host
    /// is never cut short, and never more than its own claim (benchmark speed x cores) allows.
    /// The claim can only lower the cap: a host declaring 10^8 cores or speed 100 gains nothing.
    public static func hours(host: HostRecord, work: [HeldWork]) -> Double {
        let claimed = max(0, host.speed) * Double(max(1, host.cores))
        let shown = max(1, headroom * demonstratedCores(work))
        return 24 * min(claimed, shown)
    }
}
