import CoordinatorCore
import Foundation
import Hummingbird

/// A deadline on receiving a request's body: it must arrive within `seconds`, or after that keep
/// an average of `minimumRate` bytes a second since the request began (so a 64 GiB dataset
/// upload over a modest line passes, and a client trickling a byte now and then to hold a
/// connection and a handler does not). Past it the request fails with 408 and its connection is
/// closed. The idle timeout covers a client that sends nothing at all; this one a slow trickle,
/// which resets the idle timer with every byte.
struct RequestDeadlineMiddleware: RouterMiddleware {
    typealias Context = CoordinatorRequestContext
    let seconds: Double
    let minimumRate: Double

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard seconds > 0 else { return try await next(request, context) }
        var request = request
        request.body = RequestBody(asyncSequence: DeadlineBody(
            base: request.body, start: Date().timeIntervalSince1970, seconds: seconds, minimumRate: minimumRate))
        return try await next(request, context)
    }
}

/// A request body that fails once it arrives too slowly (see ``RequestDeadlineMiddleware``).
struct DeadlineBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let base: RequestBody
    let start: Double
    let seconds: Double
    let minimumRate: Double

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: RequestBody.AsyncIterator
        let start: Double
        let seconds: Double
        let minimumRate: Double
        var received = 0

        mutating func next() async throws -> ByteBuffer? {
            guard let chunk = try await base.next() else { return nil }
            received += chunk.readableBytes
            let elapsed = Date().timeIntervalSince1970 - start
            if elapsed > seconds && Double(received) < minimumRate * elapsed {
                throw APIError(.requestTimeout, "request_timeout", String(
                    format: "the request body arrived too slowly: %d bytes in %.1f s (all within %.0f s, or %.0f bytes a second)",
                    received, elapsed, seconds, minimumRate))
            }
            return chunk
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), start: start, seconds: seconds, minimumRate: minimumRate)
    }
}
