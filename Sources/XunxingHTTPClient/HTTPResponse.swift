import Foundation

/// The final response of a transfer: status line, headers and (for in-memory transfers) the body.
public struct HTTPResponse: Sendable {
    /// The HTTP status code of the last response received (after redirects).
    public var status: Int

    /// Response headers of the last header block, names lowercased. When a header repeats,
    /// the last value wins.
    public var headers: [String: String]

    /// The response body. Empty for successful downloads, whose body went to a file.
    public var body: Data

    /// Creates a response value.
    public init(status: Int, headers: [String: String] = [:], body: Data = Data()) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// Looks up a header by name, ignoring case.
    public func header(_ name: String) -> String? {
        headers[name.lowercased()]
    }

    /// Whether the status is in the 2xx range.
    public var isSuccess: Bool { (200..<300).contains(status) }
}

/// Failures of ``HTTPClient`` transfers. An HTTP error status is not one of them: it comes back as
/// an ``HTTPResponse``.
public enum HTTPClientError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The URL is malformed or uses a scheme other than `http` / `https`.
    case invalidURL(String)
    /// libcurl failed the transfer: `code` is the `CURLcode`, `message` libcurl's explanation.
    case transport(url: String, code: Int, message: String)
    /// A local file could not be read or written.
    case file(path: String, reason: String)
    /// The response body exceeded the caller's limit of `limit` bytes.
    case bodyTooLarge(url: String, limit: Int)

    /// A one-line human-readable explanation.
    public var description: String {
        switch self {
        case .invalidURL(let url):
            return "invalid URL: \(url)"
        case .transport(let url, let code, let message):
            return "transfer of \(url) failed (curl error \(code)): \(message)"
        case .file(let path, let reason):
            return "file \(path): \(reason)"
        case .bodyTooLarge(let url, let limit):
            return "response body of \(url) exceeds \(limit) bytes"
        }
    }
}
