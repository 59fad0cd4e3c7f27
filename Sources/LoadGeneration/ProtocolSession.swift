import Foundation
import XunxingHTTPClient
import XunxingProtocol

/// One thread's kept-alive connection to the coordinator's API, timing every request.
final class ProtocolSession {
    enum Failure: Error, CustomStringConvertible {
        /// The coordinator answered with a 4xx status (other than 429): it will not change its mind.
        case refused(status: Int, message: String)
        /// No usable answer: transport failure, 5xx, 429 or an undecodable body; worth retrying.
        case transient(String)

        var description: String {
            switch self {
            case .refused(let s, let m): return "refused with \(s): \(m)"
            case .transient(let m): return m
            }
        }
    }

    let base: String
    private let connection: HTTPConnection
    private let encoder = WireCoding.encoder()
    private let decoder = WireCoding.decoder()
    private(set) var latencies = LatencyRecorder()
    private(set) var transportErrors = 0
    private(set) var throttled = 0

    init(base: String, timeout: Double) {
        self.base = base
        var configuration = HTTPClientConfiguration()
        configuration.timeout = timeout
        configuration.connectTimeout = min(timeout, 5)
        connection = HTTPConnection(configuration: configuration)
    }

    /// Sends a JSON request under /api/v1 and decodes the JSON answer.
    func call<Response: Decodable>(_ method: String, _ path: String, key: String? = nil, body: (some Encodable)? = Optional<Int>.none,
                                   endpoint: String) throws -> Response {
        let data = try send(method, path, key: key, body: try body.map { try encoder.encode($0) }, endpoint: endpoint)
        do {
            return try decoder.decode(Response.self, from: data)
        } catch {
            throw Failure.transient("\(endpoint): undecodable answer: \(error)")
        }
    }

    /// Sends a request whose answer has no body worth decoding.
    func callNoContent(_ method: String, _ path: String, key: String? = nil, endpoint: String) throws {
        _ = try send(method, path, key: key, body: nil, endpoint: endpoint)
    }

    /// Downloads `url` (a payload URL: absolute, or a path on the coordinator's origin) with `key`.
    func download(_ url: String, key: String) throws -> Data {
        let absolute = url.hasPrefix("/") ? base + url : url
        let response: HTTPResponse
        do {
            response = try connection.send("GET", url: absolute, headers: ["Authorization": "Bearer \(key)"], body: nil)
        } catch {
            transportErrors += 1
            throw Failure.transient("download: \(error)")
        }
        if (400..<500).contains(response.status) && response.status != 429 {
            throw Failure.refused(status: response.status, message: "download: \(String(decoding: response.body.prefix(200), as: UTF8.self))")
        }
        guard (200..<300).contains(response.status) else {
            throw Failure.transient("download answered \(response.status)")
        }
        return response.body
    }

    private func send(_ method: String, _ path: String, key: String?, body: Data?, endpoint: String) throws -> Data {
        var headers = ["Content-Type": "application/json"]
        if let key { headers["Authorization"] = "Bearer \(key)" }
        let started = DispatchTime.now().uptimeNanoseconds
        let response: HTTPResponse
        do {
            response = try connection.send(method, url: base + "/api/v1" + path, headers: headers, body: body)
        } catch {
            transportErrors += 1
            throw Failure.transient("\(endpoint): \(error)")
        }
        latencies.record(endpoint, seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
        switch response.status {
        case 200..<300:
            return response.body
        case 429:
            throttled += 1
            let wait = Double(response.header("retry-after") ?? "") ?? 0.1
            Thread.sleep(forTimeInterval: min(wait, 1))
            throw Failure.transient("\(endpoint): rate limited")
        case 400..<500:
            throw Failure.refused(status: response.status, message: String(decoding: response.body.prefix(300), as: UTF8.self))
        default:
            throw Failure.transient("\(endpoint): status \(response.status)")
        }
    }
}
