import CoordinatorStore
import Foundation
import Logging
import PulsarSearch
import WorkUnits
import XunxingHTTPClient

/// The coordinator's domain: one service per role (as BOINC has one daemon per role), each a small
/// type with its dependencies passed in, sharing one ``CoordinatorEnvironment``. Nothing here
/// knows HTTP: the service layer (CoordinatorService) turns requests into calls on these and
/// ``DomainError``s into status codes.
public final class CoordinatorCore: Sendable {
    public let environment: CoordinatorEnvironment
    /// Datasets in: uploads, and their status.
    public let submission: Submission
    /// Datasets into work units.
    public let splitter: Splitter
    /// Replicas out to hosts, acknowledged, given back.
    public let scheduler: Scheduler
    /// Replicas out again when lost or in disagreement.
    public let replication: Replication
    /// Results judged and credited.
    public let validator: Validator
    /// Finished datasets merged into candidate lists.
    public let assimilator: Assimilator
    /// Credits, caps and reversals.
    public let ledger: HoursLedger
    /// The ledger pushed to the profile platform.
    public let profileSync: ProfileSync
    /// Accounts, keys and platform links.
    public let accounts: Accounts
    /// Statistics files for other projects' sites.
    public let exports: StatsExporter
    /// This process's name in job leases.
    public let instanceID = Secrets.identifier()

    public var configuration: CoordinatorConfiguration { environment.configuration }
    public var store: any SQLStorage { environment.store }
    public var presets: [String: WorkUnitPreset] { environment.presets }
    public var metrics: CoordinatorMetrics { environment.metrics }
    public var logger: Logger { environment.logger }
    public var clock: any CoordinatorClock { environment.clock }

    public init(_ environment: CoordinatorEnvironment) {
        self.environment = environment
        ledger = HoursLedger(environment: environment)
        replication = Replication(environment: environment)
        scheduler = Scheduler(environment: environment, replication: replication)
        validator = Validator(environment: environment, ledger: ledger, replication: replication)
        submission = Submission(environment: environment)
        splitter = Splitter(environment: environment)
        assimilator = Assimilator(environment: environment)
        profileSync = ProfileSync(environment: environment, client: HTTPClient(configuration: {
            var c = HTTPClientConfiguration()
            c.timeout = 30
            return c
        }()))
        accounts = Accounts(environment: environment)
        exports = StatsExporter(environment: environment)
    }

    /// Opens the database in the data directory (creating both as needed), loads the presets and
    /// checks the files on disk against the database.
    public static func open(
        _ configuration: CoordinatorConfiguration, logger: Logger = Logger(label: "xunxing.coordinator"),
        clock: any CoordinatorClock = SystemClock()
    ) async throws -> CoordinatorCore {
        try configuration.prepareDirectories()
        let presets = try PresetCatalog.load(directory: configuration.presetsDirectory)
        guard presets[configuration.defaultPreset] != nil else {
            throw CoordinatorError.configuration(
                "default preset '\(configuration.defaultPreset)' is not among \(presets.keys.sorted()) in \(configuration.presetsDirectory)")
        }
        let store: any SQLStorage
        if let url = configuration.databaseURL {
            store = try await PostgresStorage.connect(url: url, password: configuration.databasePassword, logger: logger)
        } else {
            store = try await SQLiteStorage.open(
                path: configuration.databasePath, readConnections: configuration.readConnections,
                writeQueueLimit: configuration.writeQueueLimit, logger: logger)
        }
        let core = CoordinatorCore(CoordinatorEnvironment(
            configuration: configuration, store: store, presets: presets, logger: logger, clock: clock,
            knownPulsars: try knownPulsars(configuration)))
        let reconciled = try await core.reconcileFiles()
        if reconciled != FileReconciliation() { logger.notice("start-up file check: \(reconciled)") }
        return core
    }

    /// The catalogue matcher the configuration names, read once at start-up.
    static func knownPulsars(_ configuration: CoordinatorConfiguration) throws -> KnownPulsarMatcher? {
        guard let path = configuration.cataloguePath else { return nil }
        do {
            return KnownPulsarMatcher(catalogue: try PulsarCatalogue.read(from: path), radiusDeg: configuration.beamRadiusDeg)
        } catch {
            throw CoordinatorError.configuration("pulsar catalogue: \(error)")
        }
    }

    /// Runs `job` if this coordinator holds (or can take) the lease `name`; the lease is renewed
    /// every `renewalInterval` seconds (ttl/3 unless given) while the job runs, and released when
    /// it ends. The job's write transactions carry the lease's fencing token (``LeaseFence``): if
    /// the lease passes to another coordinator meanwhile, they fail instead of committing.
    package func withLease(
        _ name: String, ttl: Double, renewalInterval: Double? = nil, _ job: @escaping @Sendable () async throws -> Void
    ) async throws {
        let interval = renewalInterval ?? ttl / 3
        let holder = instanceID
        let clock = self.clock
        let acquired = try await store.transaction {
            try await $0.acquireLease(name, holder: holder, now: clock.now(), ttl: ttl)
        }
        guard let token = acquired else { return }
        let store = self.store
        let renewer = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(Int(min(interval, 86_400) * 1000)))
                if Task.isCancelled { break }
                _ = try? await store.transaction {
                    try await $0.acquireLease(name, holder: holder, now: clock.now(), ttl: ttl)
                }
            }
        }
        defer { renewer.cancel() }
        try await LeaseFence.$current.withValue(LeaseFence(name: name, token: token)) { try await job() }
        try await store.transaction { try await $0.releaseLease(name, holder: holder) }
    }
}

/// Errors starting or running the coordinator.
public enum CoordinatorError: Error, CustomStringConvertible {
    case configuration(String)
    case split(dataset: String, reason: String)

    public var description: String {
        switch self {
        case .configuration(let m): return "configuration: \(m)"
        case .split(let d, let r): return "splitting dataset \(d): \(r)"
        }
    }
}
