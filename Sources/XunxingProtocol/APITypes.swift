import Foundation
import PulsarSearch

/// The HTTP API's version prefix.
public enum APIVersion {
    public static let path = "/api/v1"
}

/// Every error the API returns has this JSON body.
public struct APIErrorBody: Codable, Sendable, Equatable {
    public var error: String
    public var message: String

    public init(error: String, message: String) {
        self.error = error
        self.message = message
    }
}

// MARK: Accounts and hosts

/// `POST /api/v1/volunteers`: sign up as a volunteer.
public struct SignupRequest: Codable, Sendable, Equatable {
    public var email: String
    public var name: String
    public init(email: String, name: String) { self.email = email; self.name = name }
}

/// The new volunteer account and its secret key (shown once; the coordinator keeps only a hash).
public struct SignupResponse: Codable, Sendable, Equatable {
    public var accountID: String
    public var accountKey: String
    enum CodingKeys: String, CodingKey { case accountID = "account_id", accountKey = "account_key" }
    public init(accountID: String, accountKey: String) { self.accountID = accountID; self.accountKey = accountKey }
}

/// `POST /api/v1/hosts` with the account key: register a machine.
public struct HostRegistration: Codable, Sendable, Equatable {
    public var name: String
    public var cores: Int
    public var memoryMB: Int
    public var os: String
    enum CodingKeys: String, CodingKey { case name, cores, memoryMB = "memory_mb", os }
    public init(name: String, cores: Int, memoryMB: Int, os: String) {
        self.name = name
        self.cores = cores
        self.memoryMB = memoryMB
        self.os = os
    }
}

/// The registered host and its own key (shown once).
public struct HostRegistrationResponse: Codable, Sendable, Equatable {
    public var hostID: String
    public var hostKey: String
    enum CodingKeys: String, CodingKey { case hostID = "host_id", hostKey = "host_key" }
    public init(hostID: String, hostKey: String) { self.hostID = hostID; self.hostKey = hostKey }
}

/// Why a host gave a replica up, as the coordinator's metrics count it.
public enum AbandonKind: String, Codable, Sendable, CaseIterable {
    /// No room on the host's disk for the payload.
    case diskFull = "disk_full"
    /// The host would not take the assignment (too much memory, too large a payload, ...).
    case refused
    /// The search failed repeatedly.
    case failed
    /// The payload failed its checksum repeatedly or could not be read.
    case badPayload = "bad_payload"
    /// The volunteer detached the machine from the project.
    case detached
    case other

    /// Unknown kinds from newer workers count as `other`.
    public init(from decoder: Decoder) throws {
        self = AbandonKind(rawValue: try decoder.singleValueContainer().decode(String.self)) ?? .other
    }
}

/// `POST /api/v1/replicas/{id}/abandon`: why the host gives the replica up.
public struct AbandonRequest: Codable, Sendable, Equatable {
    /// Shown in the coordinator's log; at most 500 characters.
    public var reason: String
    /// The kind of reason, counted in the coordinator's metrics (absent: `other`).
    public var kind: AbandonKind?
    public init(reason: String, kind: AbandonKind? = nil) {
        self.reason = reason
        self.kind = kind
    }

    /// The reason, trimmed; refused when empty or longer than 500 characters.
    public func validated() throws(RequestBodyError) -> String {
        let text = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty, text.count <= 500 else {
            throw RequestBodyError(field: "reason", message: "field 'reason' must be 1 to 500 characters, not \(text.count)")
        }
        return text
    }
}

/// `POST /api/v1/keys/rotate`'s answer: the caller's new key (the one it called with no longer works).
public struct KeyRotation: Codable, Sendable, Equatable {
    public var key: String
    public init(key: String) { self.key = key }
}

// MARK: Datasets

/// A dataset as the API reports it: `POST /api/v1/datasets` answers with it, `GET
/// /api/v1/datasets/{id}` returns it.
public struct DatasetStatus: Codable, Sendable, Equatable {
    /// `splitting`, `searching`, `complete` or `failed`.
    public var state: String
    public var id: String
    public var name: String
    public var preset: String
    public var sizeBytes: Int64
    public var sha256: String
    public var dmTrials: Int
    public var units: UnitCounts
    public var error: String?
    public var createdAt: Date
    public var completedAt: Date?
    /// When its owner published it on the public pages (nil: private).
    public var publishedAt: Date?
    /// The observation's header facts and shape, once it has been split (nil before).
    public var observation: ObservationSummary?

    /// Work units by state.
    public struct UnitCounts: Codable, Sendable, Equatable {
        public var total: Int
        public var inProgress: Int
        public var validated: Int
        public var error: Int
        enum CodingKeys: String, CodingKey { case total, inProgress = "in_progress", validated, error }
        public init(total: Int, inProgress: Int, validated: Int, error: Int) {
            self.total = total
            self.inProgress = inProgress
            self.validated = validated
            self.error = error
        }
    }

    enum CodingKeys: String, CodingKey {
        case state, id, name, preset, sizeBytes = "size_bytes", sha256, dmTrials = "dm_trials", units, error
        case createdAt = "created_at", completedAt = "completed_at", publishedAt = "published_at", observation
    }

    public init(
        state: String, id: String, name: String, preset: String, sizeBytes: Int64, sha256: String, dmTrials: Int,
        units: UnitCounts, error: String?, createdAt: Date, completedAt: Date?, publishedAt: Date? = nil,
        observation: ObservationSummary? = nil
    ) {
        self.observation = observation
        self.state = state
        self.id = id
        self.name = name
        self.preset = preset
        self.sizeBytes = sizeBytes
        self.sha256 = sha256
        self.dmTrials = dmTrials
        self.units = units
        self.error = error
        self.createdAt = createdAt
        self.completedAt = completedAt
        self.publishedAt = publishedAt
    }
}

/// What a dataset's file says of the observation: its header facts (``ObservationInfo``) and its
/// shape, which PRESTO's candidate files and known-pulsar matching need. On the wire the facts sit
/// beside the shape in one flat object.
public struct ObservationSummary: Codable, Sendable, Equatable {
    /// Telescope, source, epoch, position and format.
    public var info: ObservationInfo
    /// Sample time (s), spectra, channels, and the lowest channel's centre frequency (MHz).
    public var sampleTime: Double
    public var samples: Int
    public var channels: Int
    public var lowestFrequencyMHz: Double

    enum CodingKeys: String, CodingKey {
        case format, telescope, source, mjd, raDegrees = "ra_deg", decDegrees = "dec_deg", sampleTime = "sample_time_s", samples
        case channels, lowestFrequencyMHz = "lowest_frequency_mhz"
    }

    public init(_ info: ObservationInfo, sampleTime: Double, samples: Int, channels: Int, lowestFrequencyMHz: Double) {
        self.info = info
        self.sampleTime = sampleTime
        self.samples = samples
        self.channels = channels
        self.lowestFrequencyMHz = lowestFrequencyMHz
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        info = ObservationInfo(
            format: try c.decode(String.self, forKey: .format), telescope: try c.decodeIfPresent(String.self, forKey: .telescope),
            source: try c.decode(String.self, forKey: .source), mjd: try c.decode(Double.self, forKey: .mjd),
            raDegrees: try c.decodeIfPresent(Double.self, forKey: .raDegrees), decDegrees: try c.decodeIfPresent(Double.self, forKey: .decDegrees))
        sampleTime = try c.decode(Double.self, forKey: .sampleTime)
        samples = try c.decode(Int.self, forKey: .samples)
        channels = try c.decode(Int.self, forKey: .channels)
        lowestFrequencyMHz = try c.decode(Double.self, forKey: .lowestFrequencyMHz)
    }

    /// Every key is written, unknown values as null.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(info.format, forKey: .format)
        try c.encode(info.telescope, forKey: .telescope)
        try c.encode(info.source, forKey: .source)
        try c.encode(info.mjd, forKey: .mjd)
        try c.encode(info.raDegrees, forKey: .raDegrees)
        try c.encode(info.decDegrees, forKey: .decDegrees)
        try c.encode(sampleTime, forKey: .sampleTime)
        try c.encode(samples, forKey: .samples)
        try c.encode(channels, forKey: .channels)
        try c.encode(lowestFrequencyMHz, forKey: .lowestFrequencyMHz)
    }

    /// The summary of an opened observation file.
    public init(_ file: any ObservationSource) {
        self.init(file.info, sampleTime: file.sampleTime, samples: file.spectrumCount, channels: file.channelCount,
                  lowestFrequencyMHz: (0..<file.channelCount).map(file.channelFrequency).min() ?? 0)
    }
}

// MARK: Work

/// `POST /api/v1/work/request` with the host key: what the host has and wants.
public struct WorkRequest: Codable, Sendable, Equatable {
    public var cores: Int
    public var memoryMB: Int
    /// Measured speed relative to the reference core (1 = as fast).
    public var speed: Double
    /// Seconds of work wanted on this host's cores.
    public var seconds: Double
    /// Most units the host will take in this answer (it holds at most `max_tasks`); nil: no limit.
    public var maxUnits: Int?
    enum CodingKeys: String, CodingKey { case cores, memoryMB = "memory_mb", speed, seconds, maxUnits = "max_units" }
    public init(cores: Int, memoryMB: Int, speed: Double, seconds: Double, maxUnits: Int? = nil) {
        self.cores = cores
        self.memoryMB = memoryMB
        self.speed = speed
        self.seconds = seconds
        self.maxUnits = maxUnits
    }
}

/// One replica handed to a host.
public struct Assignment: Codable, Sendable, Equatable {
    public var replicaID: String
    public var workUnitID: String
    /// Path of the payload on the coordinator (GET with the host key; Range supported).
    public var payloadURL: String
    public var payloadSHA256: String
    public var payloadSize: Int64
    /// Reference-core seconds of work.
    public var estimatedCost: Double
    /// Report by this time; until acknowledged, a much shorter deadline applies.
    public var deadline: Date
    /// Peak memory the search of this unit needs, MB (absent from older coordinators).
    public var memoryMB: Int?
    enum CodingKeys: String, CodingKey {
        case replicaID = "replica_id", workUnitID = "work_unit_id", payloadURL = "payload_url"
        case payloadSHA256 = "payload_sha256", payloadSize = "payload_size", estimatedCost = "estimated_cost", deadline
        case memoryMB = "memory_mb"
    }
    public init(
        replicaID: String, workUnitID: String, payloadURL: String, payloadSHA256: String, payloadSize: Int64,
        estimatedCost: Double, deadline: Date, memoryMB: Int? = nil
    ) {
        self.memoryMB = memoryMB
        self.replicaID = replicaID
        self.workUnitID = workUnitID
        self.payloadURL = payloadURL
        self.payloadSHA256 = payloadSHA256
        self.payloadSize = payloadSize
        self.estimatedCost = estimatedCost
        self.deadline = deadline
    }
}

/// The answer to a work request: possibly empty, with how long to wait before asking again.
public struct WorkResponse: Codable, Sendable, Equatable {
    public var assignments: [Assignment]
    /// True when the project has no unfinished work at all (workers with --exit-when-idle stop).
    public var projectIdle: Bool
    public var retryAfterSeconds: Double
    enum CodingKeys: String, CodingKey { case assignments, projectIdle = "project_idle", retryAfterSeconds = "retry_after_seconds" }
    public init(assignments: [Assignment], projectIdle: Bool, retryAfterSeconds: Double) {
        self.assignments = assignments
        self.projectIdle = projectIdle
        self.retryAfterSeconds = retryAfterSeconds
    }
}

/// The coordinator's answer to a result upload.
public struct ReportResponse: Codable, Sendable, Equatable {
    /// `reported` (waiting for its replica), `valid`, `invalid` or `duplicate` (already received).
    public var outcome: String
    public init(outcome: String) { self.outcome = outcome }
}

/// JSON coding used on the wire: ISO 8601 dates, sorted keys.
public enum WireCoding {
    public static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .iso8601
        e.outputFormatting = [.sortedKeys]
        return e
    }

    public static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        return d
    }
}
