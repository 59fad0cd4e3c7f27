import Foundation

/// Who a key belongs to: an account's role, or `host` for a host's key. Stored as text
/// (accounts.role never holds `host`; CHECK constraints, migration 12).
public enum Role: String, Codable, Sendable, CaseIterable {
    case admin, astronomer, volunteer, host
}

/// A row of `accounts`: an astronomer, volunteer or administrator.
public struct AccountRecord: Codable, Sendable, Equatable {
    public var id: String
    public var role: Role
    public var name: String
    public var email: String?
    public var createdAt: Double

    public init(id: String, role: Role, name: String, email: String? = nil, createdAt: Double) {
        self.id = id
        self.role = role
        self.name = name
        self.email = email
        self.createdAt = createdAt
    }
}

/// A row of `hosts`: one volunteer machine.
public struct HostRecord: Codable, Sendable, Equatable {
    public var id: String
    public var accountId: String
    public var name: String
    public var cores: Int
    public var memoryMb: Int
    public var os: String
    public var speed: Double
    /// Consecutive valid results (adaptive replication trusts long streaks).
    public var validStreak: Int
    public var invalidCount: Int
    public var createdAt: Double
    public var lastSeen: Double

    public init(id: String, accountId: String, name: String, cores: Int, memoryMb: Int, os: String, speed: Double, validStreak: Int, invalidCount: Int, createdAt: Double, lastSeen: Double) {
        self.id = id
        self.accountId = accountId
        self.name = name
        self.cores = cores
        self.memoryMb = memoryMb
        self.os = os
        self.speed = speed
        self.validStreak = validStreak
        self.invalidCount = invalidCount
        self.createdAt = createdAt
        self.lastSeen = lastSeen
    }
}

/// A row of `credentials`: the hash of one secret and what it unlocks.
public struct CredentialRecord: Codable, Sendable, Equatable {
    public var secretHash: String
    /// An account's key (its role) or a host's key (`host`).
    public var kind: Role
    public var accountId: String
    public var hostId: String?
    public var createdAt: Double

    public init(secretHash: String, kind: Role, accountId: String, hostId: String? = nil, createdAt: Double) {
        self.secretHash = secretHash
        self.kind = kind
        self.accountId = accountId
        self.hostId = hostId
        self.createdAt = createdAt
    }
}

/// A row of `datasets`.
public struct DatasetRecord: Codable, Sendable, Equatable {
    public var id: String
    public var ownerId: String
    public var name: String
    public var preset: String
    public var state: DatasetState
    public var filePath: String
    public var sha256: String
    public var sizeBytes: Int64
    public var dmMax: Double?
    public var accelMax: Double?
    public var dmTrials: Int
    public var duration: Double
    public var error: String?
    public var createdAt: Double
    public var completedAt: Double?
    /// When the owner published it (nil: private to its owner and administrators).
    public var publishedAt: Double?
    /// The preset and search plan it was split with, as JSON (nil before it is split, and for
    /// datasets split before migration 11).
    public var splitPlan: String?

    public init(id: String, ownerId: String, name: String, preset: String, state: DatasetState, filePath: String, sha256: String, sizeBytes: Int64, dmMax: Double? = nil, accelMax: Double? = nil, dmTrials: Int, duration: Double, error: String? = nil, createdAt: Double, completedAt: Double? = nil, publishedAt: Double? = nil) {
        self.id = id
        self.ownerId = ownerId
        self.name = name
        self.preset = preset
        self.state = state
        self.filePath = filePath
        self.sha256 = sha256
        self.sizeBytes = sizeBytes
        self.dmMax = dmMax
        self.accelMax = accelMax
        self.dmTrials = dmTrials
        self.duration = duration
        self.error = error
        self.createdAt = createdAt
        self.completedAt = completedAt
        self.publishedAt = publishedAt
    }
}

/// A row of `work_units`.
public struct WorkUnitRecord: Codable, Sendable, Equatable {
    public var id: String
    public var datasetId: String
    public var seq: Int
    public var state: WorkUnitState
    public var payloadPath: String
    public var payloadSha256: String
    public var payloadSize: Int64
    public var estimatedCost: Double
    /// Seconds of data in each series (for comparing frequencies in Fourier bins).
    public var duration: Double
    /// Sigma at which workers report; candidates near it may legitimately differ between replicas.
    public var reportingThreshold: Double
    public var seriesCount: Int
    /// Agreeing results needed (2; 1 for a trusted host's unit).
    public var targetResults: Int
    public var maxReplicas: Int
    public var deadlineSeconds: Double
    public var canonicalReplica: String?
    public var createdAt: Double
    public var validatedAt: Double?
    /// First DM trial (index in the dataset's plan) and number of trials in the unit.
    public var dmFirst: Int
    public var dmCount: Int
    /// Peak memory of the unit's search, MB (nil for units split before it was recorded).
    public var memoryMb: Int?

    public init(id: String, datasetId: String, seq: Int, state: WorkUnitState, payloadPath: String, payloadSha256: String, payloadSize: Int64, estimatedCost: Double, duration: Double, reportingThreshold: Double, seriesCount: Int, targetResults: Int, maxReplicas: Int, deadlineSeconds: Double, canonicalReplica: String? = nil, createdAt: Double, validatedAt: Double? = nil, dmFirst: Int = 0, dmCount: Int = 0, memoryMb: Int? = nil) {
        self.memoryMb = memoryMb
        self.id = id
        self.datasetId = datasetId
        self.seq = seq
        self.state = state
        self.payloadPath = payloadPath
        self.payloadSha256 = payloadSha256
        self.payloadSize = payloadSize
        self.estimatedCost = estimatedCost
        self.duration = duration
        self.reportingThreshold = reportingThreshold
        self.seriesCount = seriesCount
        self.targetResults = targetResults
        self.maxReplicas = maxReplicas
        self.deadlineSeconds = deadlineSeconds
        self.canonicalReplica = canonicalReplica
        self.createdAt = createdAt
        self.validatedAt = validatedAt
        self.dmFirst = dmFirst
        self.dmCount = dmCount
    }
}

/// A row of `replicas`: one copy of a work unit, sent to at most one host.
public struct ReplicaRecord: Codable, Sendable, Equatable {
    public var id: String
    public var workUnitId: String
    public var state: ReplicaState
    public var hostId: String?
    public var accountId: String?
    public var createdAt: Double
    public var sentAt: Double?
    public var ackedAt: Double?
    public var deadline: Double?
    public var reportedAt: Double?
    public var cpuSeconds: Double?
    /// The uploaded result (JSON), once reported.
    public var result: String?
    /// Peaks the result says it measured (its credit includes measuring them).
    public var peaksMeasured: Int?

    public init(id: String, workUnitId: String, state: ReplicaState, hostId: String? = nil, accountId: String? = nil, createdAt: Double, sentAt: Double? = nil, ackedAt: Double? = nil, deadline: Double? = nil, reportedAt: Double? = nil, cpuSeconds: Double? = nil, result: String? = nil, peaksMeasured: Int? = nil) {
        self.id = id
        self.workUnitId = workUnitId
        self.state = state
        self.hostId = hostId
        self.accountId = accountId
        self.createdAt = createdAt
        self.sentAt = sentAt
        self.ackedAt = ackedAt
        self.deadline = deadline
        self.reportedAt = reportedAt
        self.cpuSeconds = cpuSeconds
        self.result = result
        self.peaksMeasured = peaksMeasured
    }
}

/// Replica states, stored as text (a CHECK constraint, migration 12, allows only these).
public enum ReplicaState: String, Codable, Sendable, CaseIterable {
    case unsent, assigned, acknowledged, reported, valid, invalid, lost
}

/// Work-unit states, stored as text (CHECK constraint, migration 12).
public enum WorkUnitState: String, Codable, Sendable, CaseIterable {
    case active, validated, error
}

/// Dataset states, stored as text (CHECK constraint, migration 12) and reported by the API.
public enum DatasetState: String, Codable, Sendable, CaseIterable {
    case splitting, searching, complete, failed
}

/// What a ledger entry is (CHECK constraint, migration 12).
public enum LedgerEntryKind: String, Codable, Sendable, CaseIterable {
    case credit, reversal
}

/// A row of `hours_ledger`: append-only. A credit per validated result; a correction is a
/// reversal entry that names the entry it reverses.
public struct LedgerEntryRecord: Codable, Sendable, Equatable {
    public var id: String
    public var accountId: String
    /// 1, 2, 3, ... per volunteer: the order entries are synced in.
    public var volunteerSeq: Int
    public var hostId: String?
    public var replicaId: String?
    public var workUnitId: String?
    public var datasetId: String?
    public var kind: LedgerEntryKind
    public var reverses: String?
    /// Hours credited (negative for a reversal), after the per-host daily cap.
    public var hours: Double
    /// The coordinator's estimate for the unit before the cap, reference-core hours.
    public var estimatedHours: Double
    /// CPU time the host reported, kept for display only.
    public var reportedCpuSeconds: Double
    /// UTC day, YYYY-MM-DD.
    public var day: String
    public var createdAt: Double

    public init(
        id: String, accountId: String, volunteerSeq: Int, hostId: String?, replicaId: String?, workUnitId: String?,
        datasetId: String?, kind: LedgerEntryKind, reverses: String?, hours: Double, estimatedHours: Double,
        reportedCpuSeconds: Double, day: String, createdAt: Double
    ) {
        self.id = id
        self.accountId = accountId
        self.volunteerSeq = volunteerSeq
        self.hostId = hostId
        self.replicaId = replicaId
        self.workUnitId = workUnitId
        self.datasetId = datasetId
        self.kind = kind
        self.reverses = reverses
        self.hours = hours
        self.estimatedHours = estimatedHours
        self.reportedCpuSeconds = reportedCpuSeconds
        self.day = day
        self.createdAt = createdAt
    }
}

extension LedgerEntryRecord {
    /// The ledger's unit of hours, 2^-20 h (3.4 ms). Every entry's hours are a whole number of
    /// them, so every sum of entries (up to 2^33 hours) is exact whatever order a database adds
    /// them in: a host whose credits were all reversed totals exactly 0, on SQLite and PostgreSQL.
    public static let hoursQuantum = 1.0 / 1_048_576

    /// `hours` rounded down to a whole number of ``hoursQuantum``s (never more than was earned).
    public static func quantized(_ hours: Double) -> Double {
        (hours / hoursQuantum).rounded(.down) * hoursQuantum
    }
}

/// A row of `volunteer_sync`: how far a volunteer's ledger has reached the profile platform.
public struct VolunteerSyncRecord: Codable, Sendable, Equatable {
    public var accountId: String
    public var platformProfileId: String?
    /// Every entry with `volunteer_seq` up to this is acknowledged by the platform.
    public var syncedSeq: Int
    /// Consecutive failed attempts.
    public var failures: Int
    public var nextAttempt: Double
    public var lastError: String?
    public var lastSuccess: Double?
}
