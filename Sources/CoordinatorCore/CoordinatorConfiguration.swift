import Foundation

/// How a coordinator runs. Defaults suit a small project on one machine.
public struct CoordinatorConfiguration: Sendable {
    /// Holds the database (`coordinator.sqlite`), uploaded datasets and work-unit payloads.
    public var dataDirectory: String
    /// PostgreSQL URL (`postgres://user@host:port/db`); nil keeps the embedded SQLite database.
    public var databaseURL: String? = nil
    /// PostgreSQL password when the URL has none (read from `PGPASSWORD` or a file, never argv).
    public var databasePassword: String? = nil
    /// Where the work-unit presets (`*.json`) are read from.
    public var presetsDirectory: String
    /// Preset used when a submission names none.
    public var defaultPreset: String = "standard"
    public var host: String = "127.0.0.1"
    public var port: Int = 8080
    /// Largest dataset upload accepted, bytes.
    public var maxUploadBytes: Int64 = 64 << 30
    /// Largest result upload accepted, bytes.
    public var maxResultBytes: Int = 4 << 20
    /// Seconds a host has to acknowledge an assignment before it is reissued.
    public var acknowledgeTimeout: Double = 120
    /// Seconds between runs of the background jobs (splitter, deadlines, assimilator).
    public var jobInterval: Double = 1
    /// Consecutive valid results after which a host's units need only its own result, except for
    /// random spot checks.
    public var trustThreshold: Int = 10
    /// Fraction of a trusted host's units still replicated as a spot check.
    public var spotCheckRate: Double = 0.1
    /// Every this-many-th result of a trusted host (by its run of valid results) is replicated
    /// whatever the random draw, so no run of luck leaves a host unchecked for long.
    public var spotCheckEvery: Int = 10
    /// Oldest assignable replicas a work request chooses among at random (1: strictly oldest first).
    public var schedulingWindow: Int = 16
    /// Replicas a host may hold unreported per registered core: a host that takes work and sits
    /// on it (hoarding) stalls its units until their deadlines, so it gets no more past this.
    public var maxInProgressPerCore: Int = 8
    /// Seconds a request's body may take to arrive (0: no limit); a slower body is allowed only
    /// while it keeps `requestMinimumRate` bytes a second on average (large uploads).
    public var requestTimeout: Double = 30
    /// Bytes a second a request body slower than `requestTimeout` must average to go on.
    public var requestMinimumRate: Double = 65_536
    /// Seconds a rendered public page is served again before it is rendered anew (0: no cache).
    public var pageCacheSeconds: Double = 5
    /// Random toplist entries of every result recomputed from the payload (single-bin DFTs).
    public var auditSpotChecks: Int = 4
    /// Fraction of results of which one random trial is searched again on the coordinator.
    public var auditResearchRate: Double = 0.02
    /// Bytes of dedispersed output chunk (DMs x 8192 samples x 4 bytes) the splitter holds at once;
    /// DMs beyond it take another pass over the file. Independent of the observation's length: the
    /// whole series go to a spill file on disk in the payload directory.
    public var splitMemoryBudget: Int = 512 << 20
    /// Strongest merged candidates folded on the coordinator for each dataset (the merged list).
    public var foldCount: Int = 20
    /// Fold chi-square sigma (``FoldedProfile/chiSquareSigma``) a merged candidate needs to stay in
    /// the list. Measured (FoldFloorTests): noise folded at random frequencies reaches 3 in about
    /// 5% of folds; detections at the merge's sigma 5 folded to 4.0 or more.
    public var minFoldSigma: Double = 3
    /// Strongest merged candidates of each dataset folded again as prepfold does, scored and
    /// ordered by quality (each costs a pass over the dataset's file).
    public var diagnosedCandidates: Int = 5
    /// The ATNF pulsar catalogue (psrcat.db) merged candidates are matched against (nil: none).
    public var cataloguePath: String? = nil
    /// Beam radius, degrees, within which a catalogued pulsar can match a dataset's candidates.
    public var beamRadiusDeg: Double = 0.5
    /// The external volunteer-profile platform that ledger entries are pushed to (nil: no sync).
    public var syncURL: String? = nil
    /// Shared secret for the HMAC-SHA256 signature of each batch.
    public var syncSecret: String = ""
    /// Names the shared secret in each batch (`key_id`), so the platform can accept an old and a
    /// new secret while they are rotated.
    public var syncKeyID: String = "1"
    /// Name of this project in sync batches.
    public var projectName: String = "xunxing"
    /// First retry delay after a failed push, seconds (doubled each failure, with jitter).
    public var syncBackoffBase: Double = 5
    /// Longest retry delay, seconds.
    public var syncBackoffCap: Double = 3600
    /// Seconds between regenerations of the stats exports (an hour).
    public var statsExportInterval: Double = 3600
    /// Requests per second each key (host, volunteer, astronomer) may make on average; 0 turns
    /// the limit off.
    public var rateLimit: Double = 50
    /// Requests a key may make in a burst above the average.
    public var rateBurst: Double = 200
    /// Entries per sync batch.
    public var syncBatchSize: Int = 100
    /// Longest one pass of the profile sync may take, seconds; past it the pass is cancelled (the
    /// entries it did not push are pushed by the next).
    public var syncPassTimeout: Double = 120
    /// Transactions that may wait for the SQLite writer; past it a request that changes state is
    /// answered 503 with Retry-After instead of queueing without bound.
    public var writeQueueLimit: Int = 4096
    /// Requests per second one client address may make on average, on any route (0: no limit;
    /// loopback exempt unless `loopbackIsRemote`).
    public var addressRate: Double = 100
    /// Requests one address may make in a burst above the average.
    public var addressBurst: Double = 400
    /// Seconds a connection may sit with nothing to read or write before it is closed (0: never).
    public var idleTimeout: Double = 60
    /// SQLite connections for reads (pages, exports, credential lookups), beside the writer's.
    public var readConnections: Int = 2
    /// Peers whose `X-Forwarded-For` is believed (reverse proxies in front of the coordinator);
    /// from anyone else the header is ignored, so a client cannot choose its own address.
    public var trustedProxies: [String] = []
    /// Replicas of a unit go to hosts on different networks (/24 of IPv4, /48 of IPv6).
    public var distinctReplicaNetworks: Bool = true
    /// Treat loopback clients as remote ones: one network for the replica rule, and limited
    /// registrations (off: a coordinator with its workers or a load generator on one machine, as
    /// in the sample run and the tests, replicates and registers freely).
    public var loopbackIsRemote: Bool = false
    /// Signups and host registrations one address may make per second on average, in bursts of
    /// `registrationBurst` (0: no limit).
    public var registrationRate: Double = 1.0 / 60
    public var registrationBurst: Double = 20
    /// Hosts one volunteer account may register: a person with many accounts' worth of hosts
    /// is what replication across accounts is meant to stop.
    public var maxHostsPerAccount: Int = 64
    /// Files no database row names are removed at start-up once at least this old, seconds (younger
    /// ones may be another coordinator's work in progress on a shared database).
    public var orphanGraceSeconds: Double = 600

    public init(dataDirectory: String, presetsDirectory: String) {
        self.dataDirectory = dataDirectory
        self.presetsDirectory = presetsDirectory
    }

    public var databasePath: String { (dataDirectory as NSString).appendingPathComponent("coordinator.sqlite") }
    public var datasetsDirectory: String { (dataDirectory as NSString).appendingPathComponent("datasets") }
    public var payloadsDirectory: String { (dataDirectory as NSString).appendingPathComponent("payloads") }
    public var uploadsDirectory: String { (dataDirectory as NSString).appendingPathComponent("uploads") }
    public var exportsDirectory: String { (dataDirectory as NSString).appendingPathComponent("exports") }

    /// Creates the directories the coordinator writes to.
    public func prepareDirectories() throws {
        for d in [dataDirectory, datasetsDirectory, payloadsDirectory, uploadsDirectory, exportsDirectory] {
            try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        }
    }
}
