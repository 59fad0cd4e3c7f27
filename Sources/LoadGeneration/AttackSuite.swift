import Foundation
import PulsarSearch
import WorkUnits
import XunxingClient
import XunxingHTTPClient
import XunxingProtocol
import XunxingSupport

/// The attacks of issue 13 run against a real coordinator through its documented API, each
/// reporting what got through against its goal. `scripts/attack.sh` starts a coordinator and
/// runs them; the figures go to BENCHMARKS.md.
public struct AttackSuite: Sendable {
    public struct Configuration: Sendable {
        public var coordinator: String
        /// An astronomer's key, to submit the dataset the hosts search.
        public var astronomerKey: String
        /// A filterbank with a pulsar in it (the sample data).
        public var filterbank: String
        /// The pulsar's period, s, to check it comes out on top.
        public var pulsarPeriod: Double
        /// Seconds of honest work requests measured without and with the page flood.
        public var floodSeconds: Double = 10
        /// Threads flooding the pages.
        public var floodThreads: Int = 8

        public init(coordinator: String, astronomerKey: String, filterbank: String, pulsarPeriod: Double) {
            self.coordinator = coordinator
            self.astronomerKey = astronomerKey
            self.filterbank = filterbank
            self.pulsarPeriod = pulsarPeriod
        }
    }

    /// One attack's outcome.
    public struct Outcome: Codable, Sendable {
        public var attack: String
        public var measured: String
        public var goal: String
        public var met: Bool
    }

    public let configuration: Configuration
    private let planner = FFTPlanner(rigor: .estimate)

    public init(_ configuration: Configuration) { self.configuration = configuration }

    /// Runs every attack in turn.
    public func run(log: (String) -> Void = { print($0) }) throws -> [Outcome] {
        var outcomes: [Outcome] = []
        log("== forged results: two accounts that never search take every unit first")
        outcomes += try forgedResults(log: log)
        log("== platform link without the platform's code")
        outcomes.append(try linkWithoutCode())
        log("== page flood from one address while honest hosts ask for work")
        outcomes.append(pageFlood(log: log))
        return outcomes
    }

    // MARK: Forged results

    private func volunteerHost(_ name: String) throws -> CoordinatorClient {
        let anonymous = CoordinatorClient(baseURL: configuration.coordinator)
        let account = try anonymous.signup(email: "\(name)-\(UUID().uuidString.prefix(8))@attack.invalid", name: name)
        let host = try CoordinatorClient(baseURL: configuration.coordinator, secret: account.accountKey)
            .registerHost(HostRegistration(name: name, cores: 1, memoryMB: 1024, os: "Linux"))
        return CoordinatorClient(baseURL: configuration.coordinator, secret: host.hostKey)
    }

    /// Works units one at a time until none is offered `idleRounds` times in a row; `forge` reads
    /// the payload's header only and reports an invented result.
    private func work(_ client: CoordinatorClient, forge: Bool, idleRounds: Int) throws -> [String] {
        var outcomes: [String] = []
        var idle = 0
        let directory = NSTemporaryDirectory() + "xunxing-attack-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        while idle < idleRounds {
            let response = try client.requestWork(WorkRequest(cores: 1, memoryMB: 1024, speed: 1, seconds: 1e-9))
            guard !response.assignments.isEmpty else {
                if response.projectIdle { break }
                idle += 1
                Thread.sleep(forTimeInterval: 0.2)
                continue
            }
            idle = 0
            for assignment in response.assignments {
                try client.acknowledge(replica: assignment.replicaID)
                // A file per replica: a download resumes whatever is already at its path.
                let path = directory + "/\(assignment.replicaID).payload"
                defer { unlink(path) }
                try client.downloadPayload(assignment, to: path)
                let result = forge
                    ? ForgedResult.withoutSearching(try WorkUnitPayload.readHeader(path: path))
                    : try WorkUnitExecutor(payload: path, planner: planner).result(software: "xunxing-loadgen attack")
                outcomes.append(try client.report(replica: assignment.replicaID, result: result).outcome)
            }
        }
        return outcomes
    }

    private func forgedResults(log: (String) -> Void) throws -> [Outcome] {
        let astronomer = CoordinatorClient(baseURL: configuration.coordinator, secret: configuration.astronomerKey)
        let dataset = try astronomer.submit(
            file: configuration.filterbank, name: "attack-\(UUID().uuidString.prefix(6))", preset: "tiny", dmMax: 400, accelMax: nil,
            sha256: nil)
        while try astronomer.dataset(dataset.id).state == "splitting" { Thread.sleep(forTimeInterval: 0.2) }
        let units = try astronomer.dataset(dataset.id).units.total
        let cheaters = try (1...2).map { try volunteerHost("cheat-\($0)") }
        let honest = try (1...2).map { try volunteerHost("honest-\($0)") }
        var forged: [String] = []
        for c in cheaters { forged += try work(c, forge: true, idleRounds: 3) }
        log("  \(units) units; the cheaters reported \(forged.count) results: \(Dictionary(grouping: forged, by: { $0 }).mapValues(\.count))")
        let errors = Locked<[String]>([])
        concurrentThreads(honest.count) { i in
            do { _ = try self.work(honest[i], forge: false, idleRounds: 50) } catch { errors.with { $0.append("\(error)") } }
        }
        if let first = errors.with({ $0.first }) { throw AttackError.failed("an honest host failed: \(first)") }
        let deadline = Date().addingTimeInterval(120)
        while try astronomer.dataset(dataset.id).state != "complete" {
            guard Date() < deadline else { throw AttackError.failed("the dataset did not complete") }
            Thread.sleep(forTimeInterval: 0.5)
        }
        func hours(_ host: CoordinatorClient) throws -> Double { try host.hostHours().volunteerHoursTotal }
        let cheaterHours = try cheaters.map(hours).reduce(0, +)
        let honestHours = try honest.map(hours)
        let candidates = try astronomer.candidates(dataset.id)
        let invented = candidates.filter { abs($0.frequencyHz - ForgedResult.inventedFrequency) < 0.5 }.count
        let top = candidates.first.map { abs($0.periodS - configuration.pulsarPeriod) / configuration.pulsarPeriod < 1e-3 } ?? false
        return [
            Outcome(attack: "forged hours credited", measured: HoursText.format(cheaterHours), goal: "0", met: cheaterHours == 0),
            Outcome(attack: "forged candidates assimilated", measured: "\(invented)", goal: "0", met: invented == 0),
            Outcome(
                attack: "honest volunteers credited, pulsar on top",
                measured: honestHours.map(HoursText.format).joined(separator: ", ") + (top ? "; pulsar first" : "; pulsar not first"),
                goal: "both > 0; pulsar first", met: honestHours.allSatisfy { $0 > 0 } && top),
        ]
    }

    // MARK: Platform link

    private func linkWithoutCode() throws -> Outcome {
        let anonymous = CoordinatorClient(baseURL: configuration.coordinator)
        let account = try anonymous.signup(email: "linker-\(UUID().uuidString.prefix(8))@attack.invalid", name: "linker")
        let volunteer = CoordinatorClient(baseURL: configuration.coordinator, secret: account.accountKey)
        let attempts = [
            "victim-profile",
            "xxlink1.dmljdGlt.\(Int(Date().timeIntervalSince1970) + 600).n1." + String(repeating: "0", count: 64),
        ]
        var accepted = 0
        for code in attempts where (try? volunteer.linkPlatform(code: code)) != nil { accepted += 1 }
        return Outcome(attack: "profiles linked without the platform's code", measured: "\(accepted) of \(attempts.count)", goal: "0", met: accepted == 0)
    }

    // MARK: Page flood

    /// An honest host's work-request latencies for `seconds`, with `flood` threads requesting
    /// pages from one forwarded address meanwhile; and how many flood requests were served and refused.
    private func honestLatency(_ host: CoordinatorClient, flood: Int, seconds: Double) -> (LatencyRecorder, Int, Int) {
        let stop = Date().addingTimeInterval(seconds)
        let floodCounts = Locked((served: 0, refused: 0))
        let recorder = Locked(LatencyRecorder())
        concurrentThreads(1 + flood) { t in
            if t == 0 {
                var mine = LatencyRecorder()
                while Date() < stop {
                    let started = Date()
                    _ = try? host.requestWork(WorkRequest(cores: 1, memoryMB: 1024, speed: 1, seconds: 1e-9))
                    mine.record("request", seconds: Date().timeIntervalSince(started))
                    Thread.sleep(forTimeInterval: 0.02)
                }
                recorder.with { $0.merge(mine) }
            } else {
                let connection = HTTPConnection(configuration: HTTPClientConfiguration())
                let pages = ["/", "/datasets", "/leaderboard", "/api/v1/stats/volunteers.json", "/api/v1/leaderboard"]
                var i = t
                while Date() < stop {
                    let status = (try? connection.send(
                        "GET", url: configuration.coordinator + pages[i % pages.count], headers: ["X-Forwarded-For": "203.0.113.66"], body: nil))?.status
                    floodCounts.with { if status == 200 { $0.served += 1 } else { $0.refused += 1 } }
                    i += 1
                }
            }
        }
        let counts = floodCounts.with { $0 }
        return (recorder.with { $0 }, counts.served, counts.refused)
    }

    /// Three rounds of quiet then flooded, `floodSeconds` each, so a background job running during
    /// one round does not decide the comparison; p99 over each kind's samples.
    private func pageFlood(log: (String) -> Void) -> Outcome {
        guard let host = try? volunteerHost("steady") else {
            return Outcome(attack: "honest p99 under a page flood", measured: "could not register a host", goal: "< 2x", met: false)
        }
        var quiet = LatencyRecorder(), flooded = LatencyRecorder()
        var served = 0, refused = 0
        for _ in 0..<3 {
            quiet.merge(honestLatency(host, flood: 0, seconds: configuration.floodSeconds).0)
            let (f, s, r) = honestLatency(host, flood: configuration.floodThreads, seconds: configuration.floodSeconds)
            flooded.merge(f)
            served += s
            refused += r
        }
        let q = quiet.summary()["request"] ?? LatencySummary([]), fl = flooded.summary()["request"] ?? LatencySummary([])
        let ratio = fl.p99Ms / max(0.001, q.p99Ms)
        log(String(format: "  honest work requests: p99 %.2f ms quiet (%d), %.2f ms flooded (%d); flood (%d threads): %d served, %d refused",
                   q.p99Ms, q.count, fl.p99Ms, fl.count, configuration.floodThreads, served, refused))
        return Outcome(
            attack: "honest p99 under a page flood", measured: String(format: "%.2fx (%.2f -> %.2f ms)", ratio, q.p99Ms, fl.p99Ms),
            goal: "< 2x", met: ratio < 2)
    }
}

public enum AttackError: Error, CustomStringConvertible {
    case failed(String)
    public var description: String {
        switch self { case .failed(let m): return m }
    }
}
