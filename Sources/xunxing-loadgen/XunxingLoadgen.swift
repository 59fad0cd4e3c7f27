import ArgumentParser
import CoordinatorStore
import Foundation
import LoadGeneration
import XunxingSupport

@main
struct XunxingLoadgen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "xunxing-loadgen",
        abstract: "Load and fault generator for a Xunxing coordinator: synthetic work, thousands of simulated hosts, a misbehaving proxy.",
        discussion: """
            A load run has three steps: seed synthetic work into a coordinator's database (before \
            starting it), start the coordinator, and run simulated hosts against it. The hosts speak \
            the real protocol over HTTP (request, acknowledge, report) but search nothing, so the run \
            measures the coordinator: completed work-unit cycles per second and request latency. With \
            --audit the run then checks, from the database, that every unit was validated, no \
            accepted report was lost and no result was credited twice.

            Example (scripts/bench-coordinator.sh does all of this):
              xunxing-loadgen seed --data-dir /tmp/lg --units 20000
              xunxing-coordinator serve --data-dir /tmp/lg --port 8090 &
              xunxing-loadgen run --coordinator http://127.0.0.1:8090 --hosts 1000 --data-dir /tmp/lg --audit
            """,
        subcommands: [Seed.self, Run.self, Proxy.self, Attack.self]
    )
}

struct Attack: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the attacks on hours and candidates against a coordinator and print, per attack, what got through.",
        discussion: """
            Forged results (two accounts that never search take every unit of a dataset first, then two \
            honest hosts search it), a platform link without the platform's code, and a page flood \
            from one address while an honest host asks for work. The coordinator must believe \
            X-Forwarded-For from 127.0.0.1 (--trusted-proxy 127.0.0.1) for the flood to come from an \
            address of its own. Exits 1 when a goal is missed. scripts/attack.sh starts a coordinator \
            and runs this.
            """)

    @Option(help: "The coordinator's base URL.") var coordinator: String
    @Option(help: "An astronomer's key (xunxing-coordinator token create --role astronomer).") var astronomerKey: String
    @Option(help: "A filterbank with a pulsar in it.") var filterbank: String
    @Option(help: "That pulsar's period, s.") var period: Double
    @Option(help: "Seconds the honest host's requests are measured, without and then with the flood.") var floodSeconds = 10.0
    @Option(help: "Threads flooding the pages.") var floodThreads = 8
    @Option(help: "Write the outcomes as JSON to this file.") var reportFile: String?

    func run() async throws {
        var configuration = AttackSuite.Configuration(
            coordinator: coordinator, astronomerKey: astronomerKey, filterbank: filterbank, pulsarPeriod: period)
        configuration.floodSeconds = floodSeconds
        configuration.floodThreads = floodThreads
        let outcomes = try AttackSuite(configuration).run()
        print("")
        print("attack | measured | goal | met")
        for o in outcomes { print("\(o.attack) | \(o.measured) | \(o.goal) | \(o.met ? "yes" : "NO")") }
        if let reportFile {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(outcomes).write(to: URL(fileURLWithPath: reportFile))
        }
        if outcomes.contains(where: { !$0.met }) { throw ExitCode(1) }
    }
}

/// Where the coordinator keeps its database.
struct DatabaseOptions: ParsableArguments {
    @Option(help: "The coordinator's data directory (its SQLite database is DATA_DIR/coordinator.sqlite).")
    var dataDir: String

    @Option(help: "PostgreSQL URL instead of the SQLite file.")
    var database: String?

    func open() async throws -> any SQLStorage {
        if let database { return try await PostgresStorage.connect(url: database) }
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        return try await SQLiteStorage.open(path: (dataDir as NSString).appendingPathComponent("coordinator.sqlite"))
    }
}

struct Seed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Seed a searching dataset of small units (and optionally a history of validated ones) into the database.",
        discussion: "Run it while the coordinator is stopped. The last line printed is the seeded dataset as JSON.")

    @OptionGroup var db: DatabaseOptions

    @Option(help: "Active work units to seed, two replicas each.")
    var units = 10_000

    @Option(help: "Already validated units to seed as history (e.g. 1000000).")
    var stored = 0

    @Option(help: "Estimated cost per unit, reference-core seconds.")
    var unitCost = 5.0

    func run() async throws {
        let store = try await db.open()
        var seeder = LoadSeeder(activeUnits: units, storedUnits: stored)
        seeder.unitCost = unitCost
        let started = Date()
        let seeded = try await seeder.seed(into: store, directory: (db.dataDir as NSString).appendingPathComponent("loadgen"))
        try await store.close()
        FileHandle.standardError.write(Data(String(format: "seeded %d active and %d stored units in %.1f s\n",
                                                     units, stored, Date().timeIntervalSince(started)).utf8))
        print(String(decoding: try JSONEncoder().encode(seeded), as: UTF8.self))
    }
}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Register simulated hosts and run them until the project is idle (or --duration passes).")

    @Option(help: "The coordinator's base URL.")
    var coordinator: String

    @Option(help: "Register the hosts through this URL instead (e.g. the coordinator itself when --coordinator is a faulty proxy).")
    var registerVia: String?

    @Option(help: "Simulated hosts (one volunteer each).")
    var hosts = 1000

    @Option(help: "Concurrent connections (threads); each drives hosts/connections hosts in turn.")
    var connections = 32

    @Option(help: "Work units each host asks for per request (hosts of real projects fetch several at a time).")
    var unitsPerRequest = 1

    @Option(help: "Stop after this many seconds (default: when the coordinator has no more work).")
    var duration: Double?

    @Flag(help: "Afterwards, check the seeded dataset in the database (needs --data-dir or --database).")
    var audit = false

    @Option(help: "With --audit: the coordinator's data directory.")
    var dataDir: String?

    @Option(help: "With --audit: PostgreSQL URL.")
    var database: String?

    @Option(help: "With --audit: the seeded dataset id (default: the newest seeded one).")
    var dataset: String?

    @Option(help: "With --audit: the seeded unit cost, seconds.")
    var unitCost = 5.0

    @Option(help: "First measure the HTTP floor (GET /health at full speed) for this many seconds; 0 skips it.")
    var floorSeconds = 3.0

    @Option(help: "Write the full report (with every accepted report) as JSON to this file.")
    var reportFile: String?

    func run() async throws {
        var configuration = SimulatedFleet.Configuration(coordinator: coordinator)
        configuration.hosts = hosts
        configuration.connections = connections
        configuration.duration = duration
        // Asking for n and a half units' worth of seconds gets n units.
        configuration.secondsPerRequest = unitsPerRequest > 1 ? (Double(unitsPerRequest) + 0.5) * unitCost : 1e-9
        let fleet = SimulatedFleet(configuration)
        var floor: Double?
        if floorSeconds > 0 {
            let measured = await onThread { fleet.measureFloor(seconds: floorSeconds) }
            floor = measured.requestsPerSecond
            print(String(format: "HTTP floor (GET /health over %d connections): %.0f requests/s, p99 %.2f ms",
                         connections, measured.requestsPerSecond, measured.latency.p99Ms))
        }
        let started = Date()
        let registrar = SimulatedFleet(SimulatedFleet.Configuration(coordinator: registerVia ?? coordinator))
        let count = hosts
        let registered = try await onThread { try registrar.registerHosts(count: count) }
        FileHandle.standardError.write(Data(String(format: "registered %d hosts in %.1f s\n", registered.count, Date().timeIntervalSince(started)).utf8))
        let report = await onThread { fleet.run(registered) }
        print(report.text, terminator: "")
        if let floor, floor > 0 {
            let perCycle = report.requestsPerSecond / max(report.cyclesPerSecond, 1e-9)
            print(String(format: "ratios: %.2f requests per cycle; cycle requests run at %.2f x the HTTP floor's rate; %.1f x BOINC's ~100 cycles/s",
                         perCycle, report.requestsPerSecond / floor, report.cyclesPerSecond / 100))
        }
        if let reportFile { try JSONEncoder().encode(report).write(to: URL(fileURLWithPath: reportFile)) }
        var failed = report.duplicateAssignments > 0 || report.stalled
        if audit {
            guard dataDir != nil || database != nil else { throw ValidationError("--audit needs --data-dir or --database") }
            let store = try await DatabaseOptions.parse(["--data-dir", dataDir ?? "/nonexistent"] + (database.map { ["--database", $0] } ?? [])).open()
            let id = try await resolveDataset(store)
            let result = try await LoadAudit.run(store: store, dataset: id, unitCost: unitCost, accepted: report.accepted, expectComplete: duration == nil)
            try await store.close()
            print("audit: \(result.units) units, \(result.unitsValidated) validated, \(result.validReplicas) valid results, "
                + "\(result.ledgerCredits) credits, hours \(String(format: "%.4f", result.hoursCredited)) (expected \(String(format: "%.4f", result.hoursExpected)))")
            for problem in result.problems { print("audit: PROBLEM: \(problem)") }
            if result.passed { print("audit: nothing lost, nothing credited twice") }
            failed = failed || !result.passed
        }
        if failed { throw ExitCode(1) }
    }

    private func resolveDataset(_ store: any SQLStorage) async throws -> String {
        if let dataset { return dataset }
        guard let id = try await store.read({ try await $0.latestSeededDataset() }) else {
            throw ValidationError("no seeded dataset in the database; run `xunxing-loadgen seed` first")
        }
        return id
    }
}

struct Proxy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a proxy on loopback that forwards to the coordinator, cutting and stalling connections at random.")

    @Option(help: "Port to listen on (127.0.0.1).")
    var listen: Int

    @Option(help: "The coordinator's port on 127.0.0.1.")
    var target: Int

    @Option(help: "Chance per forwarded chunk that the connection is reset there.")
    var cutRate = 0.02

    @Option(help: "Chance per forwarded chunk of a stall first.")
    var stallRate = 0.02

    @Option(help: "Length of a stall, seconds.")
    var stallSeconds = 1.5

    func run() async throws {
        let proxy = FaultyProxy(targetPort: target, faults: .init(cutRate: cutRate, stallRate: stallRate, stallSeconds: stallSeconds))
        try proxy.start(port: listen)
        print("proxy on 127.0.0.1:\(proxy.port) -> 127.0.0.1:\(target) (cut \(cutRate), stall \(stallRate) x \(stallSeconds) s)")
        while true {
            try await Task.sleep(for: .seconds(10))
            let s = proxy.stats
            print("connections \(s.connections), cuts \(s.cuts), stalls \(s.stalls)")
        }
    }
}

