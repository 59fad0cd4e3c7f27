/// Settings shared by every transfer an ``HTTPClient`` makes.
///
/// All values are plain data, so a configuration can be built once and handed to many clients.
/// Proxies: when ``proxy`` is `nil`, libcurl honours the usual environment variables
/// (`http_proxy`, `https_proxy`, `all_proxy`, `no_proxy`; the plain-HTTP one only in lower case).
public struct HTTPClientConfiguration: Sendable {
    /// Upper bound on the whole transfer, in seconds; `0` means no limit.
    ///
    /// For large downloads prefer `0` here and rely on ``lowSpeedLimit`` / ``lowSpeedTime`` to
    /// detect stalled connections.
    public var timeout: Double = 120

    /// Upper bound on establishing the connection (TCP and TLS), in seconds; `0` means libcurl's default.
    public var connectTimeout: Double = 15

    /// Transfers slower than this many bytes per second for ``lowSpeedTime`` seconds are aborted.
    /// `0` disables the check.
    public var lowSpeedLimit: Int = 1

    /// How many seconds a transfer may stay below ``lowSpeedLimit`` before it is aborted.
    public var lowSpeedTime: Int = 60

    /// Explicit proxy URL (for example `http://127.0.0.1:3128`). When `nil`, libcurl's environment
    /// variables apply; an empty string turns proxies off, those of the environment included.
    public var proxy: String? = nil

    /// Whether to verify the server's TLS certificate and host name. Only turn off for testing.
    public var verifyTLS: Bool = true

    /// A PEM bundle of trusted certificate authorities, replacing the system default.
    public var caBundlePath: String? = nil

    /// The `User-Agent` header sent with every request (unless a request sets its own).
    public var userAgent: String = "xunxing/0.1"

    /// Whether GET requests follow redirects (at most 5). A client that sends a bearer token
    /// should not: a redirect could take the token to another host.
    public var followRedirects: Bool = true

    /// Creates a configuration with the default values.
    public init() {}
}
