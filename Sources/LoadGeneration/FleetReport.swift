import Foundation

/// What a fleet run measured, and the record an audit checks.
public struct FleetReport: Codable, Sendable {
    public var hosts: Int
    public var connections: Int
    public var wallSeconds: Double
    /// Work units this run saw validated (a report answered `valid`).
    public var unitsValidated: Int
    /// Completed work-unit cycles (request, acknowledge, report, validate, credit) per second.
    public var cyclesPerSecond: Double
    /// Results the coordinator accepted per second (each replica's request, acknowledge and report).
    public var reportsPerSecond: Double
    public var requestsPerSecond: Double
    public var latency: [String: LatencySummary]
    public var transportErrors: Int
    public var throttled: Int
    public var replicasAssigned: Int
    /// The same replica handed out twice (to this fleet): must be 0.
    public var duplicateAssignments: Int
    /// Reports the coordinator refused as late (their replica had been reissued).
    public var lateReports: Int
    /// Replicas whose acknowledgement or report was refused or never answered, with why.
    public var refused: [String: String]
    public var stalled: Bool
    /// Every accepted report: replica id to the outcome the coordinator gave.
    public var accepted: [String: String]

    init(hosts: Int, connections: Int, wallSeconds: Double, outcomes: [ThreadOutcome]) {
        self.hosts = hosts
        self.connections = connections
        self.wallSeconds = wallSeconds
        var latencies = LatencyRecorder()
        var accepted: [String: String] = [:]
        var valid = Set<String>()
        var assigned: [String] = []
        var refused: [String: String] = [:]
        var late = 0, transport = 0, throttled = 0
        var stalled = false
        for o in outcomes {
            latencies.merge(o.latencies)
            accepted.merge(o.accepted) { a, _ in a }
            valid.formUnion(o.validUnits)
            assigned += o.assigned
            refused.merge(o.refused) { a, _ in a }
            late += o.late.count
            transport += o.transportErrors
            throttled += o.throttled
            stalled = stalled || o.stalled
        }
        let summary = latencies.summary()
        self.latency = summary
        self.accepted = accepted
        self.unitsValidated = valid.count
        self.cyclesPerSecond = Double(valid.count) / max(wallSeconds, 1e-9)
        self.reportsPerSecond = Double(accepted.count) / max(wallSeconds, 1e-9)
        self.requestsPerSecond = Double(summary["all"]?.count ?? 0) / max(wallSeconds, 1e-9)
        self.transportErrors = transport
        self.throttled = throttled
        self.replicasAssigned = assigned.count
        self.duplicateAssignments = assigned.count - Set(assigned).count
        self.lateReports = late
        self.refused = refused
        self.stalled = stalled
    }

    /// A few lines for a terminal.
    public var text: String {
        func row(_ name: String) -> String {
            guard let l = latency[name] else { return "" }
            return String(format: "  %-8@ %8d requests  p50 %7.2f ms  p99 %7.2f ms  max %8.2f ms\n", name as NSString, l.count, l.p50Ms, l.p99Ms, l.maxMs)
        }
        var s = String(format: "%d hosts over %d connections, %.1f s\n", hosts, connections, wallSeconds)
        s += String(format: "work-unit cycles: %d validated, %.0f per second (%.0f results/s, %.0f requests/s)\n",
                    unitsValidated, cyclesPerSecond, reportsPerSecond, requestsPerSecond)
        s += "latency:\n" + ["request", "ack", "report", "all"].map(row).joined()
        s += "transport errors \(transportErrors), rate-limited \(throttled), late reports \(lateReports), "
        s += "duplicate assignments \(duplicateAssignments), refused \(refused.count)\(stalled ? ", STALLED" : "")\n"
        return s
    }
}
