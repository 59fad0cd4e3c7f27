import CoordinatorCore
import CoordinatorService
import CoordinatorStore
import Foundation
import Hummingbird
import LoadGeneration
import Logging
import PulsarSearch
import ServiceLifecycle
import WorkUnits
import XunxingClient
import XunxingHTTPClient
import XunxingProtocol
import XunxingSupport

/// Test support: a real coordinator on a loopback port with its own temporary data directory.
public final class CoordinatorFixture: @unchecked Sendable {
    public private(set) var coordinator: Coordinator
    public private(set) var baseURL: String
    public let directory: URL
    private var task: Task<Void, Error>
    private var group: ServiceGroup
    private var configuration: CoordinatorConfiguration?
    private var serverStopped = false

    public static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    public static func dataPath(_ name: String) -> String {
        packageRoot.deletingLastPathComponent().appendingPathComponent("shared/data/\(name)").path
    }

    /// Starts a coordinator on a fresh database; `clock` is where its domain reads the time (a
    /// ``ManualClock`` lets a test move past deadlines instead of waiting for them).
    public static func start(
        backend: Backend = .sqlite, clock: any CoordinatorClock = SystemClock(),
        _ adjust: (inout CoordinatorConfiguration) -> Void = { _ in }
    ) async throws -> CoordinatorFixture {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("coordinator-\(UUID().uuidString)")
        var configuration = CoordinatorConfiguration(
            dataDirectory: directory.path, presetsDirectory: packageRoot.appendingPathComponent("workunits").path)
        configuration.port = 0
        configuration.defaultPreset = "tiny"
        configuration.jobInterval = 0.2
        // Pages as they are now: tests look at a page right after changing what it shows
        // (PageCacheTests turn the cache on).
        configuration.pageCacheSeconds = 0
        if backend == .postgres { configuration.databaseURL = try await onThread { try PostgresTestCluster.shared.makeDatabase() } }
        adjust(&configuration)
        let (coordinator, task, group, port) = try await serve(configuration, clock: clock)
        let fixture = CoordinatorFixture(
            coordinator: coordinator, baseURL: "http://127.0.0.1:\(port)", directory: directory, task: task, group: group)
        configuration.port = port
        fixture.configuration = configuration
        return fixture
    }

    private static func serve(
        _ configuration: CoordinatorConfiguration, clock: any CoordinatorClock = SystemClock()
    ) async throws -> (Coordinator, Task<Void, Error>, ServiceGroup, Int) {
        var logger = Logger(label: "test.coordinator")
        logger.logLevel = .warning
        let coordinator = try await Coordinator.open(configuration, logger: logger, clock: clock)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = coordinator.application { port in continuation.yield(port) }
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
        let task = Task {
            defer { continuation.finish() }
            try await group.run()
        }
        var port = 0
        for await p in ports {
            port = p
            break
        }
        guard port != 0 else {
            // The server did not start (its port is taken, ...).
            try? await coordinator.store.close()
            try await task.value
            throw FixtureError.timeout("the coordinator to listen on port \(configuration.port)")
        }
        return (coordinator, task, group, port)
    }

    /// Stops the server (nothing listens on its port any more) but keeps its data directory, so
    /// that ``restartServer()`` can bring the same coordinator back.
    public func stopServer() async {
        guard !serverStopped else { return }
        serverStopped = true
        await group.triggerGracefulShutdown()
        _ = try? await task.value
        try? await coordinator.store.close()
    }

    /// Starts the coordinator again on the same data directory and port after ``stopServer()``;
    /// with `anyPort`, on a free port (``baseURL`` changes), for tests whose clients do not need
    /// the old address: another test's server may take the port in the meantime.
    public func restartServer(timeout: Double = 10, anyPort: Bool = false) async throws {
        guard serverStopped, var configuration else { return }
        if anyPort { configuration.port = 0 }
        let end = Date().addingTimeInterval(timeout)
        while true {
            do {
                let port: Int
                (coordinator, task, group, port) = try await Self.serve(configuration)
                serverStopped = false
                if anyPort {
                    baseURL = "http://127.0.0.1:\(port)"
                    configuration.port = port
                    self.configuration = configuration
                }
                return
            } catch {
                // The port may linger for a moment after the old server closed it.
                if Date() > end { throw error }
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    private init(coordinator: Coordinator, baseURL: String, directory: URL, task: Task<Void, Error>, group: ServiceGroup) {
        self.coordinator = coordinator
        self.baseURL = baseURL
        self.directory = directory
        self.task = task
        self.group = group
    }

    public func stop() async {
        await stopServer()
        try? FileManager.default.removeItem(at: directory)
    }

    /// GET a path on the coordinator (no credentials), returning the body as text; fails on non-2xx.
    public func httpGet(_ path: String) throws -> String {
        let response = try XunxingHTTPClient.HTTPClient().send("GET", url: baseURL + path)
        guard (200..<300).contains(response.status) else { throw FixtureError.timeout("GET \(path) answered \(response.status)") }
        return String(decoding: response.body, as: UTF8.self)
    }

    /// A client with a fresh astronomer token.
    public func astronomer() async throws -> CoordinatorClient {
        let (_, token) = try await coordinator.core.accounts.createAccount(role: .astronomer, name: "astronomer-\(UUID().uuidString.prefix(6))")
        return CoordinatorClient(baseURL: baseURL, secret: token)
    }

    /// Runs `body` against a fresh coordinator and always stops it.
    public static func with<T>(
        backend: Backend = .sqlite, clock: any CoordinatorClock = SystemClock(), _ adjust: (inout CoordinatorConfiguration) -> Void = { _ in },
        _ body: (CoordinatorFixture) async throws -> T
    ) async throws -> T {
        let fixture = try await start(backend: backend, clock: clock, adjust)
        do {
            let value = try await body(fixture)
            await fixture.stop()
            return value
        } catch {
            await fixture.stop()
            throw error
        }
    }

    /// Writes a small simulated observation (with a pulsar) and returns its path.
    public func simulatedObservation(samples: Int = 1 << 15, seed: UInt64 = 1, psrfits: Bool = false) throws -> String {
        var o = SimulatedObservation()
        o.channels = 32
        o.foff = -4
        o.tsamp = 512e-6
        o.samples = samples
        o.seed = seed
        o.pulsars = [InjectedPulsar(period: 0.1234, dm: 20, dutyCycle: 0.05, snr: 30)]
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("sim-\(seed).\(psrfits ? "fits" : "fil")").path
        if psrfits {
            try Simulator.writePSRFITS(o, to: path, samplesPerRow: 4096)
        } else {
            try Simulator.writeFilterbank(o, to: path)
        }
        return path
    }

    /// Submits `path` and waits until it is split.
    public func submitAndSplit(_ path: String, astronomer: CoordinatorClient, dmMax: Double = 60) async throws -> DatasetStatus {
        let status = try await onThread {
            try astronomer.submit(file: path, name: "sim", preset: "tiny", dmMax: dmMax, accelMax: nil, sha256: nil)
        }
        try await waitUntil(timeout: 30, "split") { try await onThread { try astronomer.dataset(status.id).state } != "splitting" }
        return try await onThread { try astronomer.dataset(status.id) }
    }

    /// A platform link code for `profileID`, signed with this coordinator's sync secret, valid
    /// for `validFor` seconds: what the profile platform would issue.
    public func linkCode(profileID: String, validFor: Double = 600, nonce: String = UUID().uuidString) -> String {
        PlatformLinkCode.make(
            profileID: profileID, expires: Date().timeIntervalSince1970 + validFor, nonce: nonce,
            secret: coordinator.configuration.syncSecret)
    }

    /// A registered host of a fresh volunteer.
    public func host(name: String) async throws -> TestHost {
        try await onThread {
            let anonymous = CoordinatorClient(baseURL: self.baseURL)
            let account = try anonymous.signup(email: "\(name)-\(UUID().uuidString.prefix(8))@example.org", name: name)
            let volunteer = CoordinatorClient(baseURL: self.baseURL, secret: account.accountKey)
            let registration = try volunteer.registerHost(HostRegistration(name: name, cores: 1, memoryMB: 1024, os: "Linux"))
            return TestHost(
                name: name, hostID: registration.hostID,
                client: CoordinatorClient(baseURL: self.baseURL, secret: registration.hostKey))
        }
    }

    /// Waits until `condition` holds (polling), or fails after `timeout` seconds.
    public func waitUntil(timeout: Double, _ what: String, _ condition: () async throws -> Bool) async throws {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw FixtureError.timeout(what)
    }
}

public enum FixtureError: Error, CustomStringConvertible {
    case timeout(String)
    case checksum(String)
    public var description: String {
        switch self {
        case .timeout(let what): return "timed out waiting for \(what)"
        case .checksum(let what): return "checksum mismatch: \(what)"
        }
    }
}


/// A host speaking the worker protocol: ask, acknowledge, download, verify, search, report.
public struct TestHost: Sendable {
    public enum Behaviour: Sendable {
        case honest
        /// Searches, but reports an invented candidate instead of what it found (its toplists are true).
        case fabricate
        /// Never searches: reads the payload's header only and reports one invented candidate with
        /// invented toplists of the right shape, as a cheater after hours would.
        case forge
        /// Takes work and never acknowledges or reports it.
        case vanish
        /// Searches only part of the unit but reports it as done.
        case truncate
        /// Searches honestly but claims a billion CPU seconds for it.
        case claimHugeCPU
        /// Searches honestly but leaves the single-pulse hits above S/N 8 out of its result.
        case hideBursts
    }

    public let name: String
    public let hostID: String
    public let client: CoordinatorClient
    static let planner = FFTPlanner(rigor: .estimate)
    /// Honest results by payload digest. A unit's search is deterministic, so the hosts of one test
    /// process that download the same payload (the replicas of a unit, or the same dataset split
    /// again by another test) report what the first of them computed: these suites judge the
    /// coordinator, not the search, which the science and worker suites test. Halves their CPU.
    static let searched = Locked<[String: WorkUnitResult]>([:])

    /// The honest result for the payload at `path`, whose SHA-256 is `sha256`.
    static func search(payload path: String, sha256: String) throws -> WorkUnitResult {
        if let known = searched.with({ $0[sha256] }) { return known }
        let result = try WorkUnitExecutor(payload: path, planner: planner).result(software: "test-host")
        searched.with { $0[sha256] = result }
        return result
    }

    public init(name: String, hostID: String, client: CoordinatorClient) {
        self.name = name
        self.hostID = hostID
        self.client = client
    }

    /// Works until the project is idle, riding out a coordinator that is briefly away.
    public func workTolerant(attempts: Int = 50) async throws -> [String] {
        var outcomes: [String] = []
        for _ in 0..<attempts {
            do {
                outcomes += try await work()
                return outcomes
            } catch is CoordinatorClientError {
                try await Task.sleep(for: .milliseconds(300))
            }
        }
        return outcomes
    }

    /// Does up to `limit` units; returns the outcomes the coordinator reported.
    public func work(limit: Int = .max, behaviour: Behaviour = .honest) async throws -> [String] {
        try await onThread { try workBlocking(limit: limit, behaviour: behaviour) }
    }

    func workBlocking(limit: Int, behaviour: Behaviour) throws -> [String] {
        var outcomes: [String] = []
        var idleRounds = 0
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("host-\(hostID)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        while outcomes.count < limit {
            let response = try client.requestWork(WorkRequest(cores: 1, memoryMB: 1024, speed: 1, seconds: 1e-9))
            if response.assignments.isEmpty {
                if response.projectIdle || idleRounds > 300 { break }
                idleRounds += 1
                Thread.sleep(forTimeInterval: 0.1)
                continue
            }
            idleRounds = 0
            for assignment in response.assignments {
                if behaviour == .vanish {
                    outcomes.append("vanished")
                    continue
                }
                try client.acknowledge(replica: assignment.replicaID)
                let path = directory.appendingPathComponent(assignment.workUnitID).path
                try client.downloadPayload(assignment, to: path)
                let sha = try FileDigest.sha256(path: path)
                guard sha == assignment.payloadSHA256 else { throw FixtureError.checksum(assignment.workUnitID) }
                if behaviour == .forge {
                    let result = ForgedResult.withoutSearching(try WorkUnitPayload.readHeader(path: path))
                    outcomes.append(try client.report(replica: assignment.replicaID, result: result).outcome)
                    try? FileManager.default.removeItem(atPath: path)
                    continue
                }
                var result = try Self.search(payload: path, sha256: sha)
                if behaviour == .truncate {
                    result.seriesSearched -= 1
                    result.candidates = Array(result.candidates.prefix(1))
                }
                if behaviour == .claimHugeCPU { result.cpuSeconds = 1e9 }
                if behaviour == .hideBursts { result.singlePulseHits = result.singlePulseHits?.filter { $0.snr < 8 } }
                if behaviour == .fabricate {
                    let header = try WorkUnitPayload.readHeader(path: path)
                    result.candidates = [SeriesCandidate(
                        frequency: 123.456, harmonics: 8, power: 500, sigma: 40, acceleration: 0, dm: header.dms[0],
                        dmIndex: header.dmIndices[0])]
                }
                outcomes.append(try client.report(replica: assignment.replicaID, result: result).outcome)
                try? FileManager.default.removeItem(atPath: path)
            }
        }
        return outcomes
    }

    /// Downloads an assignment's payload and searches it: an honest result.
    public func honestResult(_ assignment: Assignment) throws -> WorkUnitResult {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("host-\(hostID)-\(assignment.replicaID)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("payload").path
        try client.downloadPayload(assignment, to: path)
        return try Self.search(payload: path, sha256: try FileDigest.sha256(path: path))
    }
}
