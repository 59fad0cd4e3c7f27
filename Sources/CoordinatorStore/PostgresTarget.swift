import Foundation
import PostgresNIO

/// Where and how to reach PostgreSQL, parsed from a postgres:// URL. TLS follows libpq's `sslmode`:
/// `disable`; `prefer` (the default: TLS when the server offers it, unverified); `require` (TLS,
/// unverified); `verify-ca` (TLS, certificate signed by `sslrootcert`); `verify-full` (also the
/// host name). `sslrootcert` is a PEM file of trusted CAs (default: the system's).
struct PostgresTarget {
    enum Mode { case disable, prefer, require }
    let host: String
    let port: Int
    let username: String
    let password: String?
    let database: String?
    let mode: Mode
    let tls: TLSConfiguration

    init(url: String, password: String?) throws {
        let shown = PostgresStorage.redacted(url)
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme ?? ""),
            let host = components.host, !host.isEmpty
        else { throw StorageError.invalidURL(shown, "expected postgres://user[:password]@host[:port]/database") }
        let path = String(components.path.drop(while: { $0 == "/" }))
        let query = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        for name in query.keys where !["sslmode", "sslrootcert"].contains(name) {
            throw StorageError.invalidURL(shown, "unknown parameter '\(name)' (sslmode and sslrootcert are understood)")
        }
        var tls = TLSConfiguration.makeClientConfiguration()
        if let root = query["sslrootcert"] {
            guard FileManager.default.isReadableFile(atPath: root) else {
                throw StorageError.invalidURL(shown, "sslrootcert '\(root)' is not a readable file")
            }
            tls.trustRoots = .file(root)
        }
        switch query["sslmode"] ?? "prefer" {
        case "disable": mode = .disable
        case "prefer": (mode, tls.certificateVerification) = (.prefer, .none)
        case "require": (mode, tls.certificateVerification) = (.require, .none)
        case "verify-ca": (mode, tls.certificateVerification) = (.require, .noHostnameVerification)
        case "verify-full": (mode, tls.certificateVerification) = (.require, .fullVerification)
        case let other:
            throw StorageError.invalidURL(shown, "sslmode '\(other)' is not one of disable, prefer, require, verify-ca, verify-full")
        }
        self.host = host
        self.port = components.port ?? 5432
        self.username = components.user ?? "postgres"
        self.password = components.password ?? password
        self.database = path.isEmpty ? nil : path
        self.tls = tls
    }

    /// For the pool of connections the store runs on.
    func clientConfiguration() -> PostgresClient.Configuration {
        let mode: PostgresClient.Configuration.TLS
        switch self.mode {
        case .disable: mode = .disable
        case .prefer: mode = .prefer(tls)
        case .require: mode = .require(tls)
        }
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: mode)
        configuration.options.maximumConnections = 8
        return configuration
    }

    /// For one connection outside the pool.
    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let mode: PostgresConnection.Configuration.TLS
        switch self.mode {
        case .disable: mode = .disable
        case .prefer: mode = .prefer(try NIOSSLContext(configuration: tls))
        case .require: mode = .require(try NIOSSLContext(configuration: tls))
        }
        return PostgresConnection.Configuration(host: host, port: port, username: username, password: password, database: database, tls: mode)
    }
}
