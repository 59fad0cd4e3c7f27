import Foundation

/// Something that sends one request with an in-memory body and returns the response: a fresh
/// transfer per request (``HTTPClient``) or one kept-alive connection (``HTTPConnection``), or a
/// wrapper around either that measures or counts. Typed API clients are written once against this.
public protocol HTTPTransport {
    /// Sends a request and collects its response; throws only when no HTTP answer came back.
    func send(_ method: String, url: String, headers: [String: String], body: Data?,
              maxResponseBytes: Int) throws -> HTTPResponse
}

extension HTTPClient: HTTPTransport {}
extension HTTPConnection: HTTPTransport {}
