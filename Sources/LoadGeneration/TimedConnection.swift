import Foundation
import XunxingClient
import XunxingHTTPClient
import XunxingProtocol

/// One load-generator thread's kept-alive connection to the coordinator, timing every request by
/// endpoint and counting transport failures and 429s. A 429 waits out the coordinator's
/// Retry-After (at most a second) before it is returned, as a well-behaved host would.
///
/// Not thread-safe, like the ``HTTPConnection`` under it: one per thread.
final class TimedConnection: HTTPTransport {
    private let connection: HTTPConnection
    private(set) var latencies = LatencyRecorder()
    private(set) var transportErrors = 0
    private(set) var throttled = 0

    init(timeout: Double) {
        var configuration = HTTPClientConfiguration()
        configuration.timeout = timeout
        configuration.connectTimeout = min(timeout, 5)
        connection = HTTPConnection(configuration: configuration)
    }

    func send(_ method: String, url: String, headers: [String: String], body: Data?,
              maxResponseBytes: Int) throws -> HTTPResponse {
        let started = DispatchTime.now().uptimeNanoseconds
        let response: HTTPResponse
        do {
            response = try connection.send(method, url: url, headers: headers, body: body, maxResponseBytes: maxResponseBytes)
        } catch {
            transportErrors += 1
            throw error
        }
        latencies.record(Self.endpoint(method, url), seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
        if response.status == 429 {
            throttled += 1
            Thread.sleep(forTimeInterval: min(Double(response.header("retry-after") ?? "") ?? 0.1, 1))
        }
        return response
    }

    /// The name a request is reported under: its API route with identifiers left out.
    static func endpoint(_ method: String, _ url: String) -> String {
        let path = url.split(separator: "?", maxSplits: 1).first.map(String.init) ?? url
        switch (method, path.split(separator: "/").last.map(String.init) ?? "") {
        case ("POST", "request"): return "request"
        case ("POST", "ack"): return "ack"
        case ("POST", "result"): return "report"
        case ("POST", "volunteers"): return "signup"
        case ("POST", "hosts"): return "register"
        case ("GET", "health"): return "health"
        case ("GET", _) where path.contains("/payload"): return "download"
        default: return "\(method) other"
        }
    }
}

/// A coordinator session over one thread's timed connection.
typealias TimedSession = CoordinatorSession<TimedConnection>

