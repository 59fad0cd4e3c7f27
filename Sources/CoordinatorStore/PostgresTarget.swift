import Foundation

/// Where and how to reach PostgreSQL, parsed from a postgres:// URL. TLS follows libpq's `sslmode`
/// (libpq makes the connections): `disable`; `prefer` (the default: TLS when the server offers it,
/// unverified); `require` (TLS, unverified); `verify-ca` (TLS, certificate signed by
/// `sslrootcert`); `verify-full` (also the host name). `sslrootcert` is a PEM file of trusted CAs
/// (default: the system's). As in every libpq client, `prefer` and `require` also verify the
/// certificate when a CA file is given (here, or as `~/.postgresql/root.crt`).
public struct PostgresTarget: Sendable, CustomStringConvertible {
    public let host: String
    public let port: Int
    public let username: String
    public let database: String?
    /// libpq's sslmode, one of the five above.
    public let sslMode: String
    let password: String?
    let rootCertificates: String?

    /// The target without its password.
    public var description: String {
        "postgres://\(username)\(password == nil ? "" : ":***")@\(host):\(port)/\(database ?? "") (sslmode \(sslMode))"
    }

    /// The system's bundle of certificate authorities (Debian's ca-certificates).
    static let systemRootCertificates = "/etc/ssl/certs/ca-certificates.crt"

    public init(url: String, password: String?) throws {
        let shown = PostgresStorage.redacted(url)
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme ?? ""),
            let host = components.host, !host.isEmpty
        else { throw StorageError.invalidURL(shown, "expected postgres://user[:password]@host[:port]/database") }
        let path = String(components.path.drop(while: { $0 == "/" }))
        let query = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        for name in query.keys where !["sslmode", "sslrootcert"].contains(name) {
            throw StorageError.invalidURL(shown, "unknown parameter '\(name)' (sslmode and sslrootcert are understood)")
        }
        if let root = query["sslrootcert"], !FileManager.default.isReadableFile(atPath: root) {
            throw StorageError.invalidURL(shown, "sslrootcert '\(root)' is not a readable file")
        }
        let mode = query["sslmode"] ?? "prefer"
        guard ["disable", "prefer", "require", "verify-ca", "verify-full"].contains(mode) else {
            throw StorageError.invalidURL(shown, "sslmode '\(mode)' is not one of disable, prefer, require, verify-ca, verify-full")
        }
        self.host = host
        self.port = components.port ?? 5432
        self.username = components.user ?? "postgres"
        self.password = components.password ?? password
        self.database = path.isEmpty ? nil : path
        self.sslMode = mode
        self.rootCertificates = query["sslrootcert"]
    }

    /// libpq's connection keywords and values. Those the URL sets are given explicitly, so that
    /// libpq's environment variables (`PGSSLMODE`, ...) cannot change them; a password not given
    /// here may still come from `~/.pgpass`, as with every libpq client. The session settings
    /// the store's text results are read with are pinned, whatever the server, database or role
    /// defaults: UTF-8 text, bytea in hex, floats with every digit.
    var parameters: [(String, String)] {
        var p: [(String, String)] = [
            ("host", host), ("port", String(port)), ("user", username), ("sslmode", sslMode),
            ("connect_timeout", "10"), ("application_name", "xunxing"), ("client_encoding", "UTF8"),
            ("options", "-c bytea_output=hex -c extra_float_digits=3"),
            // A server or network that vanishes mid-statement is noticed within about a minute.
            ("keepalives", "1"), ("keepalives_idle", "30"), ("keepalives_interval", "10"), ("keepalives_count", "3"),
        ]
        if let database { p.append(("dbname", database)) }
        if let password { p.append(("password", password)) }
        if let root = rootCertificates ?? (sslMode.hasPrefix("verify") ? Self.systemRootCertificates : nil) {
            p.append(("sslrootcert", root))
        }
        return p
    }
}
