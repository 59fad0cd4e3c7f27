import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// What the test servers observed, shared between route handlers and test assertions.
final class ServerLog: @unchecked Sendable {
    private let lock = NSLock()
    private var _rangeHeaders: [String?] = []
    private var _proxied: [String] = []

    private var inFlight = 0
    private var _peakInFlight = 0

    func recordRange(_ value: String?) { lock.withLock { _rangeHeaders.append(value) } }
    /// Counts a request the server is answering, and the most answered at once.
    func enter() { lock.withLock { inFlight += 1; _peakInFlight = max(_peakInFlight, inFlight) } }
    func leave() { lock.withLock { inFlight -= 1 } }
    var peakInFlight: Int { lock.withLock { _peakInFlight } }
    func recordProxied(_ value: String) { lock.withLock { _proxied.append(value) } }
    var rangeHeaders: [String?] { lock.withLock { _rangeHeaders } }
    var proxied: [String] { lock.withLock { _proxied } }
}

/// Deterministic test payloads and the checksum both sides compute.
enum Fixture {
    static let bigSize = 5_000_000

    /// 5 MB of deterministic, non-repeating-looking bytes.
    static let big: Data = pattern(count: bigSize, seed: 17)

    static func pattern(count: Int, seed: UInt32) -> Data {
        var data = Data(count: count)
        data.withUnsafeMutableBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            var x: UInt32 = seed | 1
            for i in 0..<count {
                x ^= x << 13
                x ^= x >> 17
                x ^= x << 5
                bytes[i] = UInt8(truncatingIfNeeded: x)
            }
        }
        return data
    }

    /// 64-bit FNV-1a, fed incrementally.
    struct FNV1a {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        mutating func add(_ bytes: UnsafeRawBufferPointer) {
            var h = value
            for b in bytes {
                h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3
            }
            value = h
        }
    }
}

/// JSON the echo route answers with.
struct EchoReply: Codable {
    var method: String
    var path: String
    var headers: [String: String]
    var body: String
}

/// Routes of the main test server.
func makeRouter(log: ServerLog) -> Router<BasicRequestContext> {
    let router = Router()

    @Sendable func echo(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let body = try await request.body.collect(upTo: 1 << 20)
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let reply = EchoReply(method: request.method.rawValue, path: request.uri.path, headers: headers,
                              body: String(buffer: body))
        var fields = HTTPFields()
        fields[.contentType] = "application/json"
        fields[.init("X-Echo-Method")!] = request.method.rawValue
        return Response(status: .ok, headers: fields,
                        body: .init(byteBuffer: ByteBuffer(bytes: try JSONEncoder().encode(reply))))
    }
    router.get("echo", use: echo)
    router.post("echo", use: echo)
    router.put("echo", use: echo)
    router.delete("echo", use: echo)

    @Sendable func redirect(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        Response(status: .found, headers: [.location: "/echo"])
    }
    router.get("redirect", use: redirect)
    router.post("redirect", use: redirect)

    router.get("missing") { _, _ -> Response in
        Response(status: .notFound, body: .init(byteBuffer: ByteBuffer(string: "nothing here")))
    }

    // The big body, honouring `Range: bytes=N-` with 206 / 416.
    router.get("big") { request, _ -> Response in
        let range = request.headers[.range]
        log.recordRange(range)
        let total = Fixture.bigSize
        guard let range else {
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(bytes: Fixture.big)))
        }
        guard range.hasPrefix("bytes="), range.hasSuffix("-"),
              let start = Int(range.dropFirst(6).dropLast()) else {
            return Response(status: .badRequest)
        }
        guard start < total else {
            return Response(status: .rangeNotSatisfiable, headers: [.contentRange: "bytes */\(total)"])
        }
        return Response(
            status: .partialContent,
            headers: [.contentRange: "bytes \(start)-\(total - 1)/\(total)"],
            body: .init(byteBuffer: ByteBuffer(bytes: Fixture.big[start...])))
    }

    // The same body from a server that ignores `Range`.
    router.get("big-norange") { _, _ -> Response in
        Response(status: .ok, body: .init(byteBuffer: ByteBuffer(bytes: Fixture.big)))
    }

    // Answers after a pause given in milliseconds (`/slow?ms=300`, 3 s by default), or at once when
    // the server shuts down, so a test that abandons a slow request does not wait for it.
    router.get("slow") { request, _ -> String in
        log.enter()
        defer { log.leave() }
        let ms = request.uri.queryParameters["ms"].flatMap { Int($0) } ?? 3000
        _ = try? await cancelOnGracefulShutdown { try await Task.sleep(for: .milliseconds(ms)) }
        return "late"
    }

    // Streams the uploaded body and reports its length and FNV-1a hash.
    router.post("upload") { request, _ -> String in
        var count = 0
        var hash = Fixture.FNV1a()
        for try await buffer in request.body {
            count += buffer.readableBytes
            buffer.withUnsafeReadableBytes { hash.add($0) }
        }
        return "\(count) \(String(hash.value, radix: 16))"
    }
    return router
}

/// Test servers log at critical only: the tests provoke aborted transfers on purpose.
let quietLogger: Logger = {
    var logger = Logger(label: "http-client-tests")
    logger.logLevel = .critical
    return logger
}()

/// Runs a Hummingbird application on 127.0.0.1 with an ephemeral port for the duration of `body`.
///
/// The server is stopped by a graceful shutdown of its service group, not by cancelling its task:
/// cancelling drops response writers that are still open, which swift-nio treats as a fatal error
/// (`Deinited NIOAsyncWriter without calling finish()`). Only a server that has not drained after
/// `drainTimeout` is cancelled.
func withServer<Responder: HTTPResponder, T>(
    _ responder: Responder,
    drainTimeout: Duration = .seconds(10),
    _ body: (Int) async throws -> T
) async throws -> T where Responder.Context: InitializableFromSource<ApplicationRequestContextSource> {
    let (ports, portContinuation) = AsyncStream<Int>.makeStream()
    let app = Application(
        responder: responder,
        configuration: .init(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: { channel in
            portContinuation.yield(channel.localAddress?.port ?? 0)
            portContinuation.finish()
        },
        logger: quietLogger
    )
    let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: quietLogger))
    let serverTask = Task { try await group.run() }
    @Sendable func stop() async {
        await group.triggerGracefulShutdown()
        let watchdog = Task {
            try await Task.sleep(for: drainTimeout)
            serverTask.cancel()
        }
        _ = try? await serverTask.value
        watchdog.cancel()
    }
    var iterator = ports.makeAsyncIterator()
    guard let port = await iterator.next(), port > 0 else {
        await stop()
        throw CancellationError()
    }
    do {
        let result = try await body(port)
        await stop()
        return result
    } catch {
        await stop()
        throw error
    }
}

/// Runs the main test server.
func withTestServer<T>(_ body: (Int, ServerLog) async throws -> T) async throws -> T {
    let log = ServerLog()
    return try await withServer(makeRouter(log: log).buildResponder()) { port in try await body(port, log) }
}

/// A unique path in the temporary directory, removed by the caller.
func temporaryPath(_ name: String) -> String {
    FileManager.default.temporaryDirectory
        .appendingPathComponent("xunxing-http-\(UUID().uuidString)-\(name)").path
}
