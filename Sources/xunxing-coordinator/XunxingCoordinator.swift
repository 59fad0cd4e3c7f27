import ArgumentParser
import CoordinatorCore
import CoordinatorService
import CoordinatorStore
import Foundation
import NIOCore
import Hummingbird
import Logging

@main
struct XunxingCoordinator: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "xunxing-coordinator",
        abstract: "The Xunxing coordinator: datasets in, work units out, validated candidates back.",
        discussion: """
            Everything lives in one data directory: the SQLite database (coordinator.sqlite), the \
            uploaded datasets and the work-unit payloads.

            Examples:
              xunxing-coordinator serve --data-dir /var/lib/xunxing --port 8080
              xunxing-coordinator token create --role astronomer --name "Jocelyn" --data-dir /var/lib/xunxing
            """,
        subcommands: [Serve.self, Token.self]
    )
}

/// Options every subcommand shares.
struct DataOptions: ParsableArguments {
    @Option(help: "The coordinator's data directory (created if missing).")
    var dataDir: String

    @Option(help: "Directory of work-unit presets (*.json). Default: $XUNXING_PRESETS, DATA_DIR/presets, ./workunits, or the workunits/ folder of the source tree this binary was built in.")
    var presets: String?

    func resolvedPresets() throws -> String {
        var candidates: [String] = []
        if let presets { candidates.append(presets) }
        if let env = ProcessInfo.processInfo.environment["XUNXING_PRESETS"] { candidates.append(env) }
        candidates.append((dataDir as NSString).appendingPathComponent("presets"))
        candidates.append("workunits")
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        candidates.append(executable.deletingLastPathComponent().appendingPathComponent("../../../workunits").standardized.path)
        candidates.append(executable.deletingLastPathComponent().appendingPathComponent("../../workunits").standardized.path)
        candidates.append("/usr/share/xunxing/workunits")
        for c in candidates {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: c, isDirectory: &isDirectory), isDirectory.boolValue { return c }
        }
        throw ValidationError("no presets directory found (looked in \(candidates.joined(separator: ", "))); pass --presets DIR")
    }

    @Option(help: ArgumentHelp(
        "PostgreSQL URL, postgres://user@host[:port]/database[?sslmode=verify-full&sslrootcert=ca.pem] (default: $XUNXING_DATABASE_URL, else SQLite in the data directory). Several coordinators may share one database and one data directory.",
        discussion: "sslmode is disable, prefer (default), require, verify-ca or verify-full, as libpq's. The password goes in $PGPASSWORD or --database-password-file: a password on the command line shows in ps and is refused."))
    var database: String?
    @Option(help: "File holding the PostgreSQL password (its first line).") var databasePasswordFile: String?

    func configuration() throws -> CoordinatorConfiguration {
        var configuration = CoordinatorConfiguration(dataDirectory: dataDir, presetsDirectory: try resolvedPresets())
        let environment = ProcessInfo.processInfo.environment
        if let database, URLComponents(string: database)?.password != nil {
            throw ValidationError("--database: the password shows in ps; put it in $PGPASSWORD or --database-password-file (or the whole URL in $XUNXING_DATABASE_URL)")
        }
        if let url = database ?? environment["XUNXING_DATABASE_URL"], !url.isEmpty {
            guard url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") else {
                throw ValidationError("--database '\(PostgresStorage.redacted(url))' is not a postgres:// URL")
            }
            configuration.databaseURL = url
        }
        if let file = databasePasswordFile {
            configuration.databasePassword = try readSecret(file: file, option: "--database-password-file")
        } else if let password = environment["PGPASSWORD"], !password.isEmpty {
            configuration.databasePassword = password
        }
        return configuration
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the HTTP API and run the background jobs.",
        discussion: """
            The API is under /api/v1 (described in openapi.yaml at the root of the source tree); \
            Prometheus metrics are on /metrics. SIGTERM or SIGINT stop it gracefully.
            """
    )

    @OptionGroup var data: DataOptions
    @Option(help: "Address to listen on.") var host: String = "127.0.0.1"
    @Option(help: "Port to listen on (0 picks a free one and prints it).") var port: Int = 8080
    @Option(help: "Preset used when a submission names none.") var defaultPreset: String = "standard"
    @Option(help: "Seconds a host has to acknowledge an assignment before it is reissued.") var acknowledgeTimeout: Double = 120
    @Option(help: "Seconds between runs of the background jobs.") var jobInterval: Double = 1
    @Option(help: "Largest dataset upload, bytes.") var maxUploadBytes: Int64 = 64 << 30
    @Option(help: "Log level: trace, debug, info, notice, warning, error.") var logLevel: String = "info"
    @Option(help: "URL of the external volunteer-profile platform to push ledger entries to.") var syncURL: String?
    @Option(help: "The ATNF pulsar catalogue (psrcat.db) to mark re-detections of known pulsars with (default: $PSRCAT_FILE).") var catalogue: String?
    @Option(help: "Beam radius, degrees, for known-pulsar matching.") var beamRadius: Double = 0.5
    @Option(help: "File holding the HMAC secret for sync batches, its first line (default: $XUNXING_SYNC_SECRET; never on the command line, where ps shows it).")
    var syncSecretFile: String?
    @Option(help: "Project name in sync batches.") var projectName: String = "xunxing"
    @Option(help: "Id of the sync secret, sent in each batch (key_id) so the platform can accept old and new secrets while they are rotated.")
    var syncKeyId: String = "1"
    @Option(help: "Requests per second each key may make on average (0: no limit); over it the answer is 429 with Retry-After.") var rateLimit: Double = 50
    @Option(help: "Requests a key may make in a burst above the average.") var rateBurst: Double = 200
    @Option(help: "Transactions that may wait for the SQLite writer; past it, requests that change state get 503 with Retry-After.")
    var writeQueueLimit: Int = 4096
    @Option(help: "SQLite connections for reads (pages, exports, credential lookups), beside the writer's.") var readConnections: Int = 2
    @Option(help: "Seconds a file no database row names must be old before the start-up check removes it.") var orphanGrace: Double = 600
    @Option(help: "Hosts one volunteer account may register.") var maxHostsPerAccount: Int = 64
    @Option(name: .customLong("trusted-proxy"), help: "Address of a reverse proxy whose X-Forwarded-For is believed (repeatable).")
    var trustedProxies: [String] = []
    @Flag(inversion: .prefixedEnableDisable, help: "Send replicas of a unit to hosts on different networks (/24 IPv4, /48 IPv6).")
    var distinctNetworks = true
    @Flag(help: "Treat loopback clients as remote: one network for the replica rule, limited registrations.")
    var loopbackIsRemote = false
    @Option(help: "Signups and host registrations per second one address may make on average (0: no limit).")
    var registrationRate: Double = 1.0 / 60
    @Option(help: "Signups and host registrations one address may make in a burst.") var registrationBurst: Double = 20
    @Option(help: "Requests per second one client address may make on average, any route (0: no limit; loopback exempt).")
    var addressRate: Double = 100
    @Option(help: "Requests one client address may make in a burst.") var addressBurst: Double = 400
    @Option(help: "Seconds an idle connection is kept open (0: forever).") var idleTimeout: Double = 60
    @Option(help: "Random toplist entries of every result recomputed from the payload; a wrong one marks the result forged.")
    var spotChecks: Int = 4
    @Option(help: "Fraction of results (0-1) of which one random trial is searched again on the coordinator.")
    var researchRate: Double = 0.02
    @Option(help: "Every Nth result of a trusted host is replicated anyway (adaptive replication's fixed spot check).")
    var spotCheckEvery: Int = 10
    @Option(help: "Seconds a request's body may take to arrive (0: no limit); past them it must average --request-minimum-rate or it gets 408.")
    var requestTimeout: Double = 30
    @Option(help: "Bytes a second a request body slower than --request-timeout must average (large uploads).")
    var requestMinimumRate: Double = 65_536
    @Option(help: "Seconds a public page is served from the cache before it is rendered again (0: render every view).")
    var pageCacheSeconds: Double = 5
    @Option(help: "Replicas a host may hold unreported per core it registered (no hoarding: past it, work requests get nothing).")
    var maxInProgressPerCore: Int = 8
    @Option(help: "Seconds between regenerations of the stats exports (/api/v1/stats/*); administrators can also regenerate them at once.")
    var statsExportInterval: Double = 3600
    @Option(help: "A work request chooses at random among this many of the oldest replicas it may have (1: strictly oldest first).")
    var schedulingWindow: Int = 16

    func run() async throws {
        var configuration = try data.configuration()
        configuration.host = host
        configuration.port = port
        configuration.defaultPreset = defaultPreset
        configuration.acknowledgeTimeout = acknowledgeTimeout
        configuration.jobInterval = jobInterval
        configuration.maxUploadBytes = maxUploadBytes
        configuration.syncURL = syncURL
        configuration.cataloguePath = catalogue ?? ProcessInfo.processInfo.environment["PSRCAT_FILE"].flatMap { $0.isEmpty ? nil : $0 }
        configuration.beamRadiusDeg = beamRadius
        configuration.syncSecret = try syncSecretFile.map { try readSecret(file: $0, option: "--sync-secret-file") }
            ?? ProcessInfo.processInfo.environment["XUNXING_SYNC_SECRET"] ?? ""
        configuration.projectName = projectName
        configuration.syncKeyID = syncKeyId
        configuration.rateLimit = rateLimit
        configuration.rateBurst = rateBurst
        guard writeQueueLimit >= 1 else { throw ValidationError("--write-queue-limit must be at least 1, not \(writeQueueLimit)") }
        guard (1...64).contains(readConnections) else { throw ValidationError("--read-connections must be 1 to 64, not \(readConnections)") }
        configuration.writeQueueLimit = writeQueueLimit
        configuration.readConnections = readConnections
        guard orphanGrace >= 0, orphanGrace.isFinite else { throw ValidationError("--orphan-grace must be 0 or more seconds, not \(orphanGrace)") }
        configuration.orphanGraceSeconds = orphanGrace
        guard maxHostsPerAccount >= 1 else { throw ValidationError("--max-hosts-per-account must be at least 1, not \(maxHostsPerAccount)") }
        configuration.maxHostsPerAccount = maxHostsPerAccount
        for proxy in trustedProxies where (try? SocketAddress(ipAddress: proxy, port: 0)) == nil {
            throw ValidationError("--trusted-proxy '\(proxy)' is not an IP address")
        }
        guard registrationRate >= 0, registrationBurst >= 1 else {
            throw ValidationError("--registration-rate must be 0 or more and --registration-burst at least 1")
        }
        guard (0...10_000).contains(spotChecks) else { throw ValidationError("--spot-checks must be 0 to 10000, not \(spotChecks)") }
        guard (0...1).contains(researchRate) else { throw ValidationError("--research-rate must be between 0 and 1, not \(researchRate)") }
        guard spotCheckEvery >= 1 else { throw ValidationError("--spot-check-every must be at least 1, not \(spotCheckEvery)") }
        guard (1...1024).contains(schedulingWindow) else { throw ValidationError("--scheduling-window must be 1 to 1024, not \(schedulingWindow)") }
        guard statsExportInterval >= 0, statsExportInterval.isFinite else {
            throw ValidationError("--stats-export-interval must be 0 or more seconds, not \(statsExportInterval)")
        }
        configuration.statsExportInterval = statsExportInterval
        guard maxInProgressPerCore >= 1 else { throw ValidationError("--max-in-progress-per-core must be at least 1, not \(maxInProgressPerCore)") }
        configuration.maxInProgressPerCore = maxInProgressPerCore
        guard pageCacheSeconds >= 0, pageCacheSeconds.isFinite else { throw ValidationError("--page-cache-seconds must be 0 or more, not \(pageCacheSeconds)") }
        configuration.pageCacheSeconds = pageCacheSeconds
        guard requestTimeout >= 0, requestMinimumRate >= 0 else {
            throw ValidationError("--request-timeout and --request-minimum-rate must be 0 or more")
        }
        configuration.requestTimeout = requestTimeout
        configuration.requestMinimumRate = requestMinimumRate
        configuration.spotCheckEvery = spotCheckEvery
        configuration.schedulingWindow = schedulingWindow
        guard addressRate >= 0, addressBurst >= 1, idleTimeout >= 0 else {
            throw ValidationError("--address-rate and --idle-timeout must be 0 or more, --address-burst at least 1")
        }
        configuration.addressRate = addressRate
        configuration.addressBurst = addressBurst
        configuration.idleTimeout = idleTimeout
        configuration.auditSpotChecks = spotChecks
        configuration.auditResearchRate = researchRate
        configuration.trustedProxies = trustedProxies
        configuration.distinctReplicaNetworks = distinctNetworks
        configuration.loopbackIsRemote = loopbackIsRemote
        configuration.registrationRate = registrationRate
        configuration.registrationBurst = registrationBurst
        if syncURL != nil && configuration.syncSecret.isEmpty {
            throw ValidationError("--sync-url needs a secret: --sync-secret-file or XUNXING_SYNC_SECRET")
        }
        var logger = Logger(label: "xunxing.coordinator")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let coordinator = try await Coordinator.open(configuration, logger: logger)
        let address = configuration.host
        let app = coordinator.application { port in
            FileHandle.standardOutput.write("xunxing-coordinator listening on http://\(address):\(port)\n".data(using: .utf8)!)
        }
        try await app.runService()
    }
}

struct Token: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage API tokens.",
        subcommands: [Create.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an account with an API token; the token is printed on the last line, once.",
            discussion: "Astronomers submit datasets with their token; administrators can see every dataset."
        )

        @OptionGroup var data: DataOptions
        @Option(help: "astronomer or admin.") var role: String
        @Option(help: "Name of the person or service the token is for.") var name: String

        func validate() throws {
            guard ["astronomer", "admin"].contains(role) else {
                throw ValidationError("--role must be astronomer or admin (volunteers sign up with `xunxing signup`)")
            }
            guard !name.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("--name must not be empty") }
        }

        func run() async throws {
            let coordinator = try await Coordinator.open(try data.configuration())
            let (id, token) = try await coordinator.core.accounts.createAccount(role: Principal.Role(rawValue: role)!, name: name)
            try await coordinator.store.close()
            print("account \(id) (\(role)) created for \(name)")
            print(token)
        }
    }
}

/// The first line of a secret file, which must exist, be non-empty and be readable by its owner
/// only (a secret anyone can read is no secret): errors name the option and the file.
func readSecret(file: String, option: String) throws -> String {
    guard let attributes = try? FileManager.default.attributesOfItem(atPath: file),
        let data = FileManager.default.contents(atPath: file)
    else { throw ValidationError("\(option) '\(file)': no such file or not readable") }
    if let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue, mode & 0o077 != 0 {
        throw ValidationError("\(option) '\(file)': readable by others (mode \(String(mode, radix: 8))); chmod 600 it")
    }
    let secret = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
    guard !secret.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("\(option) '\(file)': the first line is empty") }
    return secret
}
