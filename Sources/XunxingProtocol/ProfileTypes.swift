import Foundation

/// A volunteer's public profile: `GET /api/v1/volunteers/{id}` (and `/volunteers/me` with the
/// account key).
public struct VolunteerProfile: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    /// Charity hours credited, all time (reference-core hours of validated work).
    public var hoursTotal: Double
    /// Hours per calendar year (UTC), "2026": 12.5.
    public var hoursByYear: [String: Double]
    /// Validated results.
    public var workUnits: Int
    public var datasetsHelped: Int
    /// Candidates whose best detection lay in a unit this volunteer's hosts validated.
    public var candidates: Int
    public var hosts: [HostSummary]
    /// Where the profile platform sync stands (nil until linked).
    public var sync: SyncState?

    public struct HostSummary: Codable, Sendable, Equatable {
        public var id: String
        public var name: String
        public var cores: Int
        public var hoursTotal: Double
        public var workUnits: Int
        public var lastSeen: Date
        enum CodingKeys: String, CodingKey { case id, name, cores, hoursTotal = "hours_total", workUnits = "work_units", lastSeen = "last_seen" }
        public init(id: String, name: String, cores: Int, hoursTotal: Double, workUnits: Int, lastSeen: Date) {
            self.id = id
            self.name = name
            self.cores = cores
            self.hoursTotal = hoursTotal
            self.workUnits = workUnits
            self.lastSeen = lastSeen
        }
    }

    public struct SyncState: Codable, Sendable, Equatable {
        public var platformProfileID: String?
        /// `synced`, `pending` or `failing`.
        public var state: String
        public var pendingEntries: Int
        public var failures: Int
        public var lastError: String?
        public var lastSuccess: Date?
        enum CodingKeys: String, CodingKey {
            case platformProfileID = "platform_profile_id", state, pendingEntries = "pending_entries", failures
            case lastError = "last_error", lastSuccess = "last_success"
        }
        public init(platformProfileID: String?, state: String, pendingEntries: Int, failures: Int, lastError: String?, lastSuccess: Date?) {
            self.platformProfileID = platformProfileID
            self.state = state
            self.pendingEntries = pendingEntries
            self.failures = failures
            self.lastError = lastError
            self.lastSuccess = lastSuccess
        }
    }

    enum CodingKeys: String, CodingKey {
        case id, name, hoursTotal = "hours_total", hoursByYear = "hours_by_year", workUnits = "work_units"
        case datasetsHelped = "datasets_helped", candidates, hosts, sync
    }

    public init(
        id: String, name: String, hoursTotal: Double, hoursByYear: [String: Double], workUnits: Int, datasetsHelped: Int,
        candidates: Int, hosts: [HostSummary], sync: SyncState?
    ) {
        self.id = id
        self.name = name
        self.hoursTotal = hoursTotal
        self.hoursByYear = hoursByYear
        self.workUnits = workUnits
        self.datasetsHelped = datasetsHelped
        self.candidates = candidates
        self.hosts = hosts
        self.sync = sync
    }
}

/// A volunteer's year, month by month: `GET /api/v1/volunteers/{id}/statement?year=YYYY`.
public struct YearlyStatement: Codable, Sendable, Equatable {
    public var volunteerID: String
    public var name: String
    public var year: Int
    public var months: [Month]
    public var hoursTotal: Double

    public struct Month: Codable, Sendable, Equatable {
        public var month: Int
        public var hours: Double
        public var workUnits: Int
        enum CodingKeys: String, CodingKey { case month, hours, workUnits = "work_units" }
        public init(month: Int, hours: Double, workUnits: Int) {
            self.month = month
            self.hours = hours
            self.workUnits = workUnits
        }
    }

    enum CodingKeys: String, CodingKey { case volunteerID = "volunteer_id", name, year, months, hoursTotal = "hours_total" }

    public init(volunteerID: String, name: String, year: Int, months: [Month], hoursTotal: Double) {
        self.volunteerID = volunteerID
        self.name = name
        self.year = year
        self.months = months
        self.hoursTotal = hoursTotal
    }
}

/// `PUT /api/v1/volunteers/me/platform`: link the volunteer's profile on the external platform,
/// with a link code the platform issued to the profile's owner (signed, single use, expiring).
public struct PlatformLink: Codable, Sendable, Equatable {
    public var linkCode: String
    enum CodingKeys: String, CodingKey { case linkCode = "link_code" }
    public init(linkCode: String) { self.linkCode = linkCode }
}

/// One ledger entry as pushed to the external profile platform.
public struct SyncedLedgerEntry: Codable, Sendable, Equatable {
    /// Unique per entry: the platform must apply each key at most once.
    public var idempotencyKey: String
    /// 1, 2, 3, ... per platform profile; entries arrive in this order.
    public var sequence: Int
    /// `credit` or `reversal`.
    public var kind: String
    public var hours: Double
    /// UTC day, YYYY-MM-DD.
    public var day: String
    public var reverses: String?
    enum CodingKeys: String, CodingKey { case idempotencyKey = "idempotency_key", sequence, kind, hours, day, reverses }
    public init(idempotencyKey: String, sequence: Int, kind: String, hours: Double, day: String, reverses: String?) {
        self.idempotencyKey = idempotencyKey
        self.sequence = sequence
        self.kind = kind
        self.hours = hours
        self.day = day
        self.reverses = reverses
    }
}

/// A signed batch of one volunteer's entries. The body is signed with HMAC-SHA256 under the shared
/// secret; the hex digest travels in `X-Xunxing-Signature: sha256=<hex>`.
public struct SyncBatch: Codable, Sendable, Equatable {
    public var project: String
    public var volunteerID: String
    /// The profile these entries are for: their sequence numbers count per profile.
    public var platformProfileID: String
    /// When the batch was sent, Unix seconds: a platform refuses batches older than a few minutes,
    /// so a captured batch cannot be replayed later.
    public var sentAt: Double
    /// Which shared secret signed it (`--sync-key-id`), so the secret can be rotated.
    public var keyID: String
    public var entries: [SyncedLedgerEntry]
    enum CodingKeys: String, CodingKey {
        case project, volunteerID = "volunteer_id", platformProfileID = "platform_profile_id", sentAt = "sent_at", keyID = "key_id", entries
    }
    public init(project: String, volunteerID: String, platformProfileID: String, sentAt: Double, keyID: String, entries: [SyncedLedgerEntry]) {
        self.project = project
        self.volunteerID = volunteerID
        self.platformProfileID = platformProfileID
        self.sentAt = sentAt
        self.keyID = keyID
        self.entries = entries
    }
}

/// `GET /api/v1/hosts/me` with a host key: the host's and its volunteer's charity hours.
public struct HostHours: Codable, Sendable, Equatable {
    public var hostID: String
    public var volunteerID: String
    public var volunteerName: String
    public var volunteerHoursTotal: Double
    public var hostHoursTotal: Double
    enum CodingKeys: String, CodingKey {
        case hostID = "host_id", volunteerID = "volunteer_id", volunteerName = "volunteer_name"
        case volunteerHoursTotal = "hours_total", hostHoursTotal = "host_hours_total"
    }
    public init(hostID: String, volunteerID: String, volunteerName: String, volunteerHoursTotal: Double, hostHoursTotal: Double) {
        self.hostID = hostID
        self.volunteerID = volunteerID
        self.volunteerName = volunteerName
        self.volunteerHoursTotal = volunteerHoursTotal
        self.hostHoursTotal = hostHoursTotal
    }
}

/// One ledger entry as an administrator lists it (`GET /admin/ledger?account=ID`).
public struct LedgerEntryView: Codable, Sendable, Equatable {
    public var id: String
    public var accountID: String
    /// 1, 2, 3, ... per volunteer.
    public var sequence: Int
    /// `credit` or `reversal`.
    public var kind: String
    public var hours: Double
    /// What the coordinator's estimate of the unit was worth, hours.
    public var estimatedHours: Double
    public var hostID: String?
    public var workUnitID: String?
    public var datasetID: String?
    /// The entry a reversal reverses.
    public var reverses: String?
    /// UTC day, YYYY-MM-DD.
    public var day: String
    public var createdAt: Double
    enum CodingKeys: String, CodingKey {
        case id, accountID = "account_id", sequence, kind, hours, estimatedHours = "estimated_hours", hostID = "host_id"
        case workUnitID = "work_unit_id", datasetID = "dataset_id", reverses, day, createdAt = "created_at"
    }
    public init(
        id: String, accountID: String, sequence: Int, kind: String, hours: Double, estimatedHours: Double, hostID: String?,
        workUnitID: String?, datasetID: String?, reverses: String?, day: String, createdAt: Double
    ) {
        self.id = id
        self.accountID = accountID
        self.sequence = sequence
        self.kind = kind
        self.hours = hours
        self.estimatedHours = estimatedHours
        self.hostID = hostID
        self.workUnitID = workUnitID
        self.datasetID = datasetID
        self.reverses = reverses
        self.day = day
        self.createdAt = createdAt
    }
}
