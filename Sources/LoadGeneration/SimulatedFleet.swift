import Foundation
import PulsarSearch
import WorkUnits
import XunxingClient
import XunxingHTTPClient
import XunxingProtocol
import XunxingSupport

/// A registered simulated host: its id, key and volunteer.
public struct SimulatedHost: Codable, Sendable {
    public var hostID: String
    public var hostKey: String
    public var accountID: String
}

/// Many simulated volunteer hosts speaking the coordinator's real protocol over HTTP: each asks
/// for work, acknowledges it, and reports a result at once, so the run measures the coordinator's
/// side of a work-unit cycle. A payload is downloaded and searched once per fleet (by its
/// SHA-256; seeded units share one), and its result reported for every unit that carries it: the
/// coordinator audits each report as it would a real host's. `connections` threads each drive their
/// share of the hosts over one kept-alive connection.
///
/// Hosts retry through transport failures, 5xx answers and rate limiting as a real worker does,
/// and keep a record of every report the coordinator accepted, so an audit can check afterwards
/// that none was lost.
public final class SimulatedFleet: Sendable {
    public struct Configuration: Sendable {
        public var coordinator: String
        public var hosts: Int = 1000
        public var connections: Int = 32
        /// Stop after this many seconds; nil runs until the coordinator says the project is idle.
        public var duration: Double?
        /// Seconds of work asked for per request (1e-9 asks for a single unit).
        public var secondsPerRequest: Double = 1e-9
        /// How long a host waits after "no work right now", at most.
        public var idleWait: Double = 0.2
        /// Give up a run whose hosts have seen no progress for this long.
        public var stallTimeout: Double = 120
        public var httpTimeout: Double = 10

        public init(coordinator: String) { self.coordinator = coordinator }
    }

    public let configuration: Configuration
    /// Results of searched payloads, by SHA-256.
    private let searched = Locked([String: WorkUnitResult]())
    private let planner = FFTPlanner(rigor: .estimate)

    public init(_ configuration: Configuration) {
        self.configuration = configuration
    }

    /// The result of searching `assignment`'s payload, searching it on first sight.
    private func result(for assignment: Assignment, session: TimedSession) throws -> WorkUnitResult {
        var result: WorkUnitResult
        if let known = searched.with({ $0[assignment.payloadSHA256] }) {
            result = known
        } else {
            let data = try session.payload(assignment)
            let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("loadgen-\(UUID().uuidString).payload")
            try data.write(to: URL(fileURLWithPath: path))
            defer { unlink(path) }
            result = try WorkUnitExecutor(payload: path, planner: planner).result(software: "xunxing-loadgen")
            searched.with { $0[assignment.payloadSHA256] = result }
        }
        result.workUnitID = assignment.workUnitID
        result.cpuSeconds = assignment.estimatedCost
        result.elapsedSeconds = assignment.estimatedCost
        return result
    }

    /// A session of this thread's own over a kept-alive, timed connection.
    private func session() -> TimedSession {
        TimedSession(baseURL: configuration.coordinator, http: TimedConnection(timeout: configuration.httpTimeout))
    }

    /// Signs up one volunteer per host and registers the hosts, `connections` at a time.
    public func register(namePrefix: String = "load") throws -> [SimulatedHost] {
        try registerHosts(count: configuration.hosts, namePrefix: namePrefix)
    }

    /// Signs up one volunteer for each of `count` hosts and registers them.
    public func registerHosts(count: Int, namePrefix: String = "load") throws -> [SimulatedHost] {
        let threads = max(1, min(configuration.connections, count))
        let results = Locked([SimulatedHost?](repeating: nil, count: count))
        let failure = Locked<(any Error)?>(nil)
        let run = String(UUID().uuidString.prefix(8)).lowercased()
        concurrentThreads(threads) { [self] t in
            let session = self.session()
            for i in stride(from: t, to: count, by: threads) {
                do {
                    let account = try session.signup(email: "\(namePrefix)-\(run)-\(i)@load.invalid", name: "\(namePrefix) \(i)")
                    let host = try session.with(secret: account.accountKey).registerHost(
                        HostRegistration(name: "\(namePrefix)-host-\(i)", cores: 1, memoryMB: 2048, os: "Linux"))
                    results.with { $0[i] = SimulatedHost(hostID: host.hostID, hostKey: host.hostKey, accountID: account.accountID) }
                } catch {
                    failure.with { $0 = $0 ?? error }
                    return
                }
            }
        }
        if let error = failure.with({ $0 }) { throw error }
        return results.with { $0.compactMap { $0 } }
    }

    /// Runs the hosts until the project is idle (or the duration passes) and reports what happened.
    public func run(_ hosts: [SimulatedHost]) -> FleetReport {
        let threads = max(1, min(configuration.connections, hosts.count))
        let start = Date()
        let stop = Date(timeIntervalSinceNow: configuration.duration ?? .infinity)
        let progress = Locked(Date())
        let outcomes = Locked([ThreadOutcome]())
        concurrentThreads(threads) { [self] t in
            var mine = ThreadOutcome()
            let session = self.session()
            var active = Array(stride(from: t, to: hosts.count, by: threads))
            var next = 0
            while !active.isEmpty, Date() < stop {
                if Date().timeIntervalSince(progress.with { $0 }) > configuration.stallTimeout {
                    mine.stalled = true
                    break
                }
                next %= active.count
                let host = hosts[active[next]]
                switch cycle(session.with(secret: host.hostKey), outcome: &mine) {
                case .worked:
                    progress.with { $0 = Date() }
                    next += 1
                case .noWork(let wait):
                    next += 1
                    if next >= active.count { Thread.sleep(forTimeInterval: wait) }
                case .idle:
                    active.remove(at: next)
                }
            }
            mine.latencies.merge(session.http.latencies)
            mine.transportErrors += session.http.transportErrors
            mine.throttled += session.http.throttled
            outcomes.with { $0.append(mine) }
        }
        return FleetReport(hosts: hosts.count, connections: threads, wallSeconds: Date().timeIntervalSince(start),
                           outcomes: outcomes.with { $0 })
    }

    /// The HTTP floor: `GET /api/v1/health` as fast as `connections` threads can ask, for
    /// `seconds`; returns requests per second and the latency summary. A cycle's requests can be
    /// no faster than this on the same machine.
    public func measureFloor(seconds: Double) -> (requestsPerSecond: Double, latency: LatencySummary) {
        let threads = max(1, configuration.connections)
        let stop = Date(timeIntervalSinceNow: seconds)
        let merged = Locked(LatencyRecorder())
        let started = Date()
        concurrentThreads(threads) { [self] _ in
            let session = self.session()
            while Date() < stop { try? session.health() }
            merged.with { $0.merge(session.http.latencies) }
        }
        let summary = merged.with { $0.summary() }["health"] ?? LatencySummary([])
        return (Double(summary.count) / Date().timeIntervalSince(started), summary)
    }

    enum CycleResult {
        case worked
        case noWork(wait: Double)
        case idle
    }

    /// One scheduler round trip for one host: ask, then acknowledge and report what came back.
    private func cycle(_ host: TimedSession, outcome: inout ThreadOutcome) -> CycleResult {
        let request = WorkRequest(cores: 1, memoryMB: 2048, speed: 1, seconds: configuration.secondsPerRequest)
        guard let work = try? host.requestWork(request) else { return .noWork(wait: configuration.idleWait) }
        if work.assignments.isEmpty {
            return work.projectIdle ? .idle : .noWork(wait: min(configuration.idleWait, work.retryAfterSeconds))
        }
        for assignment in work.assignments {
            outcome.assigned.append(assignment.replicaID)
            // Acknowledge and report until the coordinator gives a definite answer.
            guard retrying({ try host.acknowledge(replica: assignment.replicaID) })
            else {
                outcome.refused[assignment.replicaID] = "ack refused"
                continue
            }
            var searched: WorkUnitResult?
            _ = retrying { searched = try self.result(for: assignment, session: host) }
            guard let result = searched else {
                outcome.refused[assignment.replicaID] = "payload could not be downloaded or searched"
                continue
            }
            var response: ReportResponse?
            let definite = retrying {
                response = try host.report(replica: assignment.replicaID, result: result)
            }
            if let response {
                outcome.accepted[assignment.replicaID] = response.outcome
                if response.outcome == "valid" { outcome.validUnits.insert(assignment.workUnitID) }
            } else if !definite {
                outcome.refused[assignment.replicaID] = "report never answered"
            } else {
                outcome.late.insert(assignment.replicaID)
            }
        }
        return .worked
    }

    /// Repeats `body` through transport errors, 5xx and 429 answers; false when the coordinator
    /// refused (4xx), true when `body` went through or the refusal was a 409 (a late replica).
    private func retrying(_ body: () throws -> Void) -> Bool {
        let deadline = Date(timeIntervalSinceNow: configuration.stallTimeout)
        while Date() < deadline {
            do {
                try body()
                return true
            } catch let error as CoordinatorClientError where error.isDefinite {
                return error.status == 409
            } catch {
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
        return false
    }
}

/// What one thread's hosts saw.
struct ThreadOutcome: Sendable {
    var assigned: [String] = []
    var accepted: [String: String] = [:]
    var late: Set<String> = []
    var refused: [String: String] = [:]
    var validUnits: Set<String> = []
    var latencies = LatencyRecorder()
    var transportErrors = 0
    var throttled = 0
    var stalled = false
}

/// Runs `body(0..<count)` on `count` threads and waits for all of them.
func concurrentThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let group = DispatchGroup()
    for t in 0..<count {
        group.enter()
        let thread = Thread {
            body(t)
            group.leave()
        }
        thread.stackSize = 1 << 20
        thread.start()
    }
    group.wait()
}


