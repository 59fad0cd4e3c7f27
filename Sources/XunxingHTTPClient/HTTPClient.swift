import CCurl
import Foundation

/// A blocking-and-async HTTP client over libcurl.
///
/// Every call uses its own libcurl easy handle, so one client can be used from many threads and
/// tasks at once. The synchronous methods block the calling thread; the `async` overloads run the
/// same transfer on a dedicated thread and never block the Swift concurrency pool.
///
/// HTTP error statuses are returned as ``HTTPResponse`` values; only failures to talk HTTP at all
/// (and local file problems or oversize bodies) throw ``HTTPClientError``.
public final class HTTPClient: Sendable {
    /// The settings applied to every transfer.
    public let configuration: HTTPClientConfiguration

    /// Creates a client with the given settings.
    public init(configuration: HTTPClientConfiguration = .init()) {
        self.configuration = configuration
    }

    /// Sends a request with an in-memory body and collects the response in memory.
    ///
    /// Redirects are followed (at most 5) for `GET` only.
    /// - Parameters:
    ///   - method: The HTTP method, such as `GET`, `POST`, `PUT` or `DELETE`.
    ///   - url: An absolute `http` or `https` URL.
    ///   - headers: Extra request headers; they override libcurl's defaults of the same name.
    ///   - body: The request body, sent with `Content-Length`. `POST`, `PUT` and `PATCH` without a
    ///     body send an empty one.
    ///   - maxResponseBytes: Larger response bodies abort the transfer with
    ///     ``HTTPClientError/bodyTooLarge(url:limit:)``.
    /// - Returns: The final response, whatever its status.
    public func send(_ method: String, url: String, headers: [String: String] = [:], body: Data? = nil,
                     maxResponseBytes: Int = 64 << 20) throws -> HTTPResponse {
        try performSend(method, url: url, headers: headers, body: body, maxResponseBytes: maxResponseBytes,
                        cancellation: nil)
    }

    /// Sends the contents of a file as the request body, streamed from disk with `Content-Length`
    /// set; the file is never held in memory as a whole. The response body is collected in memory
    /// (up to 64 MiB).
    /// - Parameters:
    ///   - method: The HTTP method, `POST` by default.
    ///   - url: An absolute `http` or `https` URL.
    ///   - path: The file to send.
    ///   - headers: Extra request headers, for example `Content-Type`.
    /// - Returns: The final response, whatever its status.
    public func upload(_ method: String = "POST", url: String, file path: String,
                       headers: [String: String] = [:]) throws -> HTTPResponse {
        try performUpload(method, url: url, file: path, headers: headers, cancellation: nil)
    }

    /// Downloads `url` into the file at `path`, streaming the body to disk.
    ///
    /// With `resume` and an existing partial file of N bytes the request carries
    /// `Range: bytes=N-`: a `206` response is appended after those N bytes, a `200` rewrites the file
    /// from the start, and a `416` (nothing left to send: the file is complete) leaves the file as it
    /// is and is returned. Bodies of other non-2xx responses are not written to the file; they come
    /// back in ``HTTPResponse/body``, capped at 1 MiB. A failed transfer leaves what was received in
    /// the file, ready to be resumed. Redirects are followed (at most 5).
    /// - Parameters:
    ///   - url: An absolute `http` or `https` URL.
    ///   - path: The destination file; its directory must exist.
    ///   - headers: Extra request headers. A caller-supplied `Range` header turns off resuming.
    ///   - resume: Whether to continue an existing partial file.
    ///   - progress: Called on the transfer thread after each chunk written to the file, with the
    ///     file's size so far and its expected final size when known.
    /// - Returns: The final response; its body is empty when the file received it.
    public func download(url: String, to path: String, headers: [String: String] = [:], resume: Bool = true,
                         maxBytes: Int64? = nil,
                         progress: (@Sendable (Int64, Int64?) -> Void)? = nil) throws -> HTTPResponse {
        try performDownload(url: url, to: path, headers: headers, resume: resume, maxBytes: maxBytes, progress: progress,
                            cancellation: nil)
    }

    // MARK: Shared implementation

    func performSend(_ method: String, url: String, headers: [String: String], body: Data?,
                     maxResponseBytes: Int, cancellation: CancellationFlag?, reusing easy: CurlEasy? = nil) throws -> HTTPResponse {
        let upper = method.uppercased()
        let source: (any RequestBodySource)? = body.map { DataBodySource($0) }
            ?? (["POST", "PUT", "PATCH"].contains(upper) ? DataBodySource(Data()) : nil)
        return try run(method, url: url, headers: headers, source: source,
                       sink: .memory(limit: max(0, maxResponseBytes)), cancellation: cancellation, reusing: easy)
    }

    func performUpload(_ method: String, url: String, file path: String, headers: [String: String],
                       cancellation: CancellationFlag?) throws -> HTTPResponse {
        try Self.validate(url: url)
        let source = try FileBodySource(path: path)
        return try run(method, url: url, headers: headers, source: source, sink: .memory(limit: 64 << 20),
                       cancellation: cancellation)
    }

    func performDownload(url: String, to path: String, headers: [String: String], resume: Bool, maxBytes: Int64? = nil,
                         progress: (@Sendable (Int64, Int64?) -> Void)?,
                         cancellation: CancellationFlag?) throws -> HTTPResponse {
        try Self.validate(url: url)
        var requestHeaders = headers
        var offset: Int64 = 0
        let callerSetRange = headers.keys.contains { $0.lowercased() == "range" }
        if let existing = try FileIO.regularFileSize(path), resume, !callerSetRange, existing > 0 {
            offset = existing
            requestHeaders["Range"] = "bytes=\(existing)-"
        }
        let sink = DownloadSink(path: path, url: url, resumeOffset: offset, maxBytes: maxBytes, progress: progress)
        var response = try run("GET", url: url, headers: requestHeaders, source: nil, sink: .download(sink),
                               cancellation: cancellation)
        try sink.finish(status: response.status, headers: response.headers)
        if !response.isSuccess { response.body = sink.errorBody }
        return response
    }

    /// Sets up one easy handle for the request, runs it on this thread and maps the outcome.
    private func run(_ method: String, url: String, headers: [String: String], source: (any RequestBodySource)?,
                     sink: TransferState.Sink, cancellation: CancellationFlag?, reusing reused: CurlEasy? = nil) throws -> HTTPResponse {
        try Self.validate(url: url)
        guard !method.isEmpty, method.utf8.allSatisfy(Self.isTokenByte) else {
            throw HTTPClientError.transport(url: url, code: Int(CURLE_BAD_FUNCTION_ARGUMENT.rawValue),
                                            message: "invalid HTTP method \"\(method)\"")
        }
        if cancellation?.isCancelled == true { throw CancellationError() }

        let easy: CurlEasy
        if let reused {
            try reused.prepareForReuse(url: url)
            easy = reused
        } else {
            easy = try CurlEasy(url: url, configuration: configuration)
        }
        let state = TransferState(easy: easy, sink: sink, source: source, cancellation: cancellation)
        try state.install()
        try easy.setHeaders(headers)

        if let source {
            try easy.set(CURLOPT_UPLOAD, 1)
            try easy.set(CURLOPT_INFILESIZE_LARGE, offset: source.length)
            if method != "PUT" { try easy.set(CURLOPT_CUSTOMREQUEST, method) }
        } else if method == "GET" {
            try easy.set(CURLOPT_HTTPGET, 1)
        } else if method == "HEAD" {
            try easy.set(CURLOPT_NOBODY, 1)
        } else {
            try easy.set(CURLOPT_CUSTOMREQUEST, method)
        }
        let follow = method == "GET" && configuration.followRedirects
        try easy.set(CURLOPT_FOLLOWLOCATION, follow ? 1 : 0)
        if follow { try easy.set(CURLOPT_MAXREDIRS, 5) }

        let outcome = withExtendedLifetime(state) { easy.perform() }
        if let failure = state.failure { throw failure }
        if outcome.code != CURLE_OK {
            if outcome.code == CURLE_URL_MALFORMAT || outcome.code == CURLE_UNSUPPORTED_PROTOCOL {
                throw HTTPClientError.invalidURL(url)
            }
            throw HTTPClientError.transport(url: url, code: Int(outcome.code.rawValue), message: outcome.message)
        }
        let status = easy.responseCode
        return HTTPResponse(status: status != 0 ? status : state.status, headers: state.headers, body: state.body)
    }

    /// Rejects anything that is not an absolute `http` / `https` URL without spaces or control
    /// characters, before libcurl sees it.
    static func validate(url: String) throws {
        let lower = url.lowercased()
        let schemeEnd: Int
        if lower.hasPrefix("http://") {
            schemeEnd = 7
        } else if lower.hasPrefix("https://") {
            schemeEnd = 8
        } else {
            throw HTTPClientError.invalidURL(url)
        }
        let scalars = url.unicodeScalars
        guard url.utf8.count > schemeEnd,
              !scalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F }),
              !"/?#".contains(url[url.index(url.startIndex, offsetBy: schemeEnd)]) else {
            throw HTTPClientError.invalidURL(url)
        }
    }

    /// Bytes allowed in an HTTP method name (an RFC 9110 token).
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}
