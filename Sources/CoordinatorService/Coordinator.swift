import CoordinatorStore
import Foundation
import Hummingbird
import Logging
import PulsarSearch
import WorkUnits
import XunxingHTTPClient

/// The coordinator: its configuration, database, presets and metrics. Routes and background jobs
/// are extensions on it, one file per concern.
public final class Coordinator: Sendable {
    public let configuration: CoordinatorConfiguration
    public let store: any SQLStorage
    public let presets: [String: WorkUnitPreset]
    public let metrics: CoordinatorMetrics
    let logger: Logger
    /// FFTW plans for the coordinator's own folding.
    let planner = FFTPlanner(rigor: .estimate)
    /// Per-key request budgets.
    let rateLimiter: RateLimiter
    /// Per-address budgets for signups and host registrations.
    let registrationLimiter: RateLimiter
    /// Per-address budgets for every request.
    let addressLimiter: RateLimiter
    /// Principals already resolved from their secret.
    let credentialCache = CredentialCache()
    let pageCache: PageCache
    /// This process's name in job leases.
    let instanceID = Secrets.identifier()
    /// Outbound HTTP (the profile platform), over libcurl.
    let syncClient = HTTPClient(configuration: {
        var c = HTTPClientConfiguration()
        c.timeout = 30
        return c
    }())

    /// Opens the database in the data directory (creating both as needed) and loads the presets.
    public static func open(
        _ configuration: CoordinatorConfiguration, logger: Logger = Logger(label: "xunxing.coordinator")
    ) async throws -> Coordinator {
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
        let coordinator = Coordinator(configuration: configuration, store: store, presets: presets, logger: logger)
        let reconciled = try await coordinator.reconcileFiles()
        if reconciled != FileReconciliation() { logger.notice("start-up file check: \(reconciled)") }
        return coordinator
    }

    public init(configuration: CoordinatorConfiguration, store: any SQLStorage, presets: [String: WorkUnitPreset], logger: Logger) {
        self.configuration = configuration
        self.store = store
        self.presets = presets
        self.logger = logger
        self.metrics = CoordinatorMetrics()
        self.rateLimiter = RateLimiter(rate: configuration.rateLimit, burst: configuration.rateBurst)
        self.pageCache = PageCache(lifetime: configuration.pageCacheSeconds)
        self.registrationLimiter = RateLimiter(rate: configuration.registrationRate, burst: configuration.registrationBurst)
        self.addressLimiter = RateLimiter(rate: configuration.addressRate, burst: configuration.addressBurst)
    }

    /// The HTTP application: the API under /api/v1, /metrics, and the background jobs as a service.
    public func application(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let router = Router(context: CoordinatorRequestContext.self)
        router.middlewares.add(LogRequestsMiddleware(.debug))
        router.middlewares.add(AddressRateLimitMiddleware(coordinator: self))
        router.middlewares.add(RequestDeadlineMiddleware(
            seconds: configuration.requestTimeout, minimumRate: configuration.requestMinimumRate))
        router.middlewares.add(StorageOverloadMiddleware())
        addRoutes(to: router)
        return Application(
            router: router,
            // Connections with nothing to read or write for this long are closed: a client that
            // opens connections and sends nothing cannot hold them.
            server: .http1(configuration: .init(idleTimeout: configuration.idleTimeout > 0 ? .milliseconds(Int64(configuration.idleTimeout * 1000)) : nil)),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "xunxing-coordinator"),
            services: [BackgroundJobs(coordinator: self)],
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger
        )
    }

    func addRoutes(to router: Router<CoordinatorRequestContext>) {
        let api = router.group(RouterPath(stringLiteral: String(XunxingAPI.prefix.dropFirst())))
        api.get("health") { _, _ in "ok" }
        api.get("openapi.yaml") { _, _ -> Response in
            guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml"), let spec = try? Data(contentsOf: url) else {
                throw APIError.notFound("the OpenAPI document")
            }
            var headers = HTTPFields()
            headers[.contentType] = "application/yaml"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(data: spec)))
        }
        addAccountRoutes(to: api)
        addKeyRoutes(to: api)
        addDatasetRoutes(to: api)
        addWorkRoutes(to: api)
        addVolunteerRoutes(to: api)
        addStatsRoutes(to: api)
        addWebPages(to: router)
        // Metrics are for the operator: loopback clients (a Prometheus on the same machine) and
        // administrators' keys.
        router.get("metrics") { request, context in
            if self.client(request, context)?.isLoopback != true {
                guard try await self.authenticate(request, [.admin]).role == .admin else { throw APIError.forbidden("metrics are for administrators") }
            }
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: self.metrics.render())))
        }
    }
}

enum XunxingAPI {
    static let prefix = "/api/v1"
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

extension Coordinator {
    /// Runs `job` if this coordinator holds (or can take) the lease `name`; the lease is renewed
    /// every ttl/3 while the job runs, and released when it ends. The job's write transactions
    /// carry the lease's fencing token (``LeaseFence``): if the lease passes to another
    /// coordinator meanwhile, they fail instead of committing.
    package func withLease(_ name: String, ttl: Double, _ job: @escaping @Sendable () async throws -> Void) async throws {
        let holder = instanceID
        let acquired = try await store.transaction {
            try await $0.acquireLease(name, holder: holder, now: Date().timeIntervalSince1970, ttl: ttl)
        }
        guard let token = acquired else { return }
        let store = self.store
        let renewer = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(Int(ttl * 1000 / 3)))
                if Task.isCancelled { break }
                _ = try? await store.transaction {
                    try await $0.acquireLease(name, holder: holder, now: Date().timeIntervalSince1970, ttl: ttl)
                }
            }
        }
        defer { renewer.cancel() }
        try await LeaseFence.$current.withValue(LeaseFence(name: name, token: token)) { try await job() }
        try await store.transaction { try await $0.releaseLease(name, holder: holder) }
    }
}

