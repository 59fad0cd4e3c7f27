import Foundation

/// A keep-alive connection for many sequential requests from one thread: one libcurl easy handle
/// reused request after request, so requests to the same server share one open TCP connection
/// instead of connecting anew each time (load generators, chatty clients).
///
/// Not thread-safe and deliberately not `Sendable`: use one per thread. Requests behave exactly as
/// ``HTTPClient/send(_:url:headers:body:maxResponseBytes:)`` does.
public final class HTTPConnection {
    private let client: HTTPClient
    private var easy: CurlEasy?

    /// A connection with the given settings; it connects on the first request.
    public init(configuration: HTTPClientConfiguration = .init()) {
        client = HTTPClient(configuration: configuration)
    }

    /// Sends a request with an in-memory body over the kept-alive connection (reconnecting when
    /// the server closed it) and collects the response in memory.
    public func send(_ method: String, url: String, headers: [String: String] = [:], body: Data? = nil,
                     maxResponseBytes: Int = 64 << 20) throws -> HTTPResponse {
        if easy == nil { easy = try CurlEasy(url: url, configuration: client.configuration) }
        do {
            return try client.performSend(method, url: url, headers: headers, body: body, maxResponseBytes: maxResponseBytes,
                                          cancellation: nil, reusing: easy)
        } catch {
            easy = nil  // start from a clean handle after a failed transfer
            throw error
        }
    }
}
