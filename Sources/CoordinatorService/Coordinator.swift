import CoordinatorStore
import Foundation
import Hummingbird
import Logging
import WorkUnits
import XunxingProtocol
import CoordinatorCore

/// The coordinator's HTTP face: routes, authentication, rate limits and pages around the domain
/// (``CoordinatorCore``), whose services do the work. Routes are extensions on it, one file per
/// group of routes.
public final class Coordinator: Sendable {
    /// The domain: every state change goes through its services.
    public let core: CoordinatorCore
    /// Per-key request budgets.
    let rateLimiter: RateLimiter
    /// Per-address budgets for signups and host registrations.
    let registrationLimiter: RateLimiter
    /// Per-address budgets for every request.
    let addressLimiter: RateLimiter
    /// Principals already resolved from their secret.
    let credentialCache = CredentialCache()
    let pageCache: PageCache

    public var configuration: CoordinatorConfiguration { core.configuration }
    /// The database, for the reads routes and pages make (typed store methods).
    public var store: any SQLStorage { core.store }
    public var presets: [String: WorkUnitPreset] { core.presets }
    public var metrics: CoordinatorMetrics { core.metrics }
    var logger: Logger { core.logger }

    /// Opens the domain (database, presets, start-up file check) and wraps it.
    public static func open(
        _ configuration: CoordinatorConfiguration, logger: Logger = Logger(label: "xunxing.coordinator"),
        clock: any CoordinatorClock = SystemClock()
    ) async throws -> Coordinator {
        Coordinator(core: try await CoordinatorCore.open(configuration, logger: logger, clock: clock))
    }

    public init(core: CoordinatorCore) {
        self.core = core
        let configuration = core.configuration
        self.rateLimiter = RateLimiter(rate: configuration.rateLimit, burst: configuration.rateBurst, clock: core.clock)
        self.pageCache = PageCache(lifetime: configuration.pageCacheSeconds)
        self.registrationLimiter = RateLimiter(rate: configuration.registrationRate, burst: configuration.registrationBurst, clock: core.clock)
        self.addressLimiter = RateLimiter(rate: configuration.addressRate, burst: configuration.addressBurst, clock: core.clock)
    }

    /// The HTTP application: the API under /api/v1, /metrics, and the background jobs as a service.
    public func application(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let router = Router(context: CoordinatorRequestContext.self)
        router.middlewares.add(LogRequestsMiddleware(.debug))
        router.middlewares.add(AddressRateLimitMiddleware(coordinator: self))
        router.middlewares.add(RequestDeadlineMiddleware(
            seconds: configuration.requestTimeout, minimumRate: configuration.requestMinimumRate))
        router.middlewares.add(DomainErrorMiddleware())
        addRoutes(to: router)
        return Application(
            router: router,
            // Connections with nothing to read or write for this long are closed: a client that
            // opens connections and sends nothing cannot hold them.
            server: .http1(configuration: .init(idleTimeout: configuration.idleTimeout > 0 ? .milliseconds(Int64(configuration.idleTimeout * 1000)) : nil)),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "xunxing-coordinator"),
            services: [BackgroundJobs(core: core)],
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger
        )
    }

    func addRoutes(to router: Router<CoordinatorRequestContext>) {
        let api = router.group(RouterPath(stringLiteral: String(APIVersion.path.dropFirst())))
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
