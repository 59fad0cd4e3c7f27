import CoordinatorCore
import Foundation
import Hummingbird

/// Per-address request budget for every route, pages and exports included (the per-key budget
/// only covers requests with a key): one address flooding the public pages gets 429 with
/// Retry-After and leaves the writer and the read pool to everyone else. Loopback clients are
/// exempt unless configured as remote; behind a reverse proxy the address is the one the trusted
/// proxy forwarded.
struct AddressRateLimitMiddleware: RouterMiddleware {
    typealias Context = CoordinatorRequestContext
    let coordinator: Coordinator

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let client = coordinator.client(request, context), !client.isLoopback || coordinator.configuration.loopbackIsRemote,
            let wait = coordinator.addressLimiter.take("address " + client.ip)
        {
            coordinator.metrics.rateLimited.increment()
            var error = APIError(
                .tooManyRequests, "rate_limited",
                String(format: "too many requests from %@: try again in %.2f s", client.ip, wait))
            error.retryAfter = wait
            throw error
        }
        return try await next(request, context)
    }
}
