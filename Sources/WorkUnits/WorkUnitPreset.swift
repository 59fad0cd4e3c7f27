import Foundation
import PulsarSearch
import XunxingProtocol

/// How the coordinator cuts a dataset into work units and how workers search them. Presets are
/// JSON files in `workunits/` at the package root, one per preset, named after the preset; every
/// field is documented in `workunits/README.md`.
public struct WorkUnitPreset: Codable, Sendable, Equatable {
    /// The preset's name (the file name without `.json`).
    public var name: String
    /// One line on what the preset is for.
    public var summary: String
    /// Estimated cost of one unit, reference-core seconds (see ``CostModel``).
    public var targetCost: Double
    /// Replicas of every unit sent to different volunteers (2: results are compared in pairs).
    public var replication: Int
    /// The unit is given up (in error) after this many results without two that agree.
    public var maxReplicas: Int
    /// Seconds a volunteer has to return a result before the replica is sent elsewhere.
    public var deadlineSeconds: Double
    /// Largest number of harmonics summed: 1, 2, 4, 8, 16 or 32.
    public var harmonics: Int
    /// Per-series reporting threshold sent to workers (trial-corrected sigma).
    public var sigmaThreshold: Double
    /// Lowest spin frequency searched, Hz.
    public var minFrequency: Double
    /// Most candidates a worker reports per series and acceleration trial.
    public var maxCandidatesPerSeries: Int
    /// Strongest spectral bins a worker reports per series and acceleration trial, whatever their
    /// significance: the proof of work the coordinator spot-checks (see ``SpectrumToplist``).
    public var toplistSize: Int
    /// Default largest |acceleration| searched, m/s^2 (0: no acceleration search).
    public var accelMax: Double
    /// Default highest DM (nil: the DM whose delay across the band is half the observation, at
    /// most 1000).
    public var dmMax: Double?
    /// Bits per stored sample in payloads: 8 or 16.
    public var bits: Int
    /// Interference excision before dedispersion (absent: `auto` with rfifind's defaults).
    public var rfi: RFIOptions?
    /// Known periodic interference of the site (mains and its harmonics, local oscillators),
    /// zapped from every series of every unit.
    public var birdies: [Birdie]?

    /// The searches every series of every unit gets (absent: `["fft"]`). The Fourier search is
    /// always among them: its toplists are the proof of work the coordinator's audit recomputes.
    public var modes: [SearchMode]?
    /// Settings of the FFA search when `modes` has `ffa` (absent: ``FFAOptions``' defaults).
    public var ffa: FFAOptions?
    /// Settings of the single-pulse search when `modes` has `single-pulse` (absent: defaults).
    public var singlePulse: SinglePulseUnitOptions?

    /// The cleaning the splitter applies.
    public var rfiOptions: RFIOptions { rfi ?? RFIOptions() }

    /// The FFA options units carry: nil unless `modes` asks for the FFA.
    public var ffaOptions: FFAOptions? { (modes ?? []).contains(.ffa) ? (ffa ?? FFAOptions()) : nil }
    /// The single-pulse options units carry: nil unless `modes` asks for it.
    public var singlePulseOptions: SinglePulseUnitOptions? {
        (modes ?? []).contains(.singlePulse) ? (singlePulse ?? SinglePulseUnitOptions()) : nil
    }

    public init(
        name: String, summary: String, targetCost: Double, replication: Int = 2, maxReplicas: Int = 5,
        deadlineSeconds: Double, harmonics: Int = 16, sigmaThreshold: Double = 4, minFrequency: Double = 0.2,
        maxCandidatesPerSeries: Int = 32, toplistSize: Int = 8, accelMax: Double = 0, dmMax: Double? = nil, bits: Int = 8
    ) {
        self.name = name
        self.summary = summary
        self.targetCost = targetCost
        self.replication = replication
        self.maxReplicas = maxReplicas
        self.deadlineSeconds = deadlineSeconds
        self.harmonics = harmonics
        self.sigmaThreshold = sigmaThreshold
        self.minFrequency = minFrequency
        self.maxCandidatesPerSeries = maxCandidatesPerSeries
        self.toplistSize = toplistSize
        self.accelMax = accelMax
        self.dmMax = dmMax
        self.bits = bits
    }

    /// The per-series search parameters to put in a unit's header.
    public var searchParameters: SpectralSearchParameters {
        var p = SpectralSearchParameters()
        p.maxHarmonics = harmonics
        p.sigmaThreshold = sigmaThreshold
        p.minFrequency = minFrequency
        p.maxCandidates = maxCandidatesPerSeries
        p.toplistSize = toplistSize
        p.birdies = birdies ?? []
        return p
    }

    /// Throws ``PresetError/invalidValue(file:field:value:requirement:)`` for the first field out
    /// of range. `file` names the preset in the error.
    public func validate(file: String) throws {
        func bad(_ field: String, _ value: Any, _ requirement: String) -> PresetError {
            .invalidValue(file: file, field: field, value: "\(value)", requirement: requirement)
        }
        guard !name.isEmpty else { throw bad("name", "\"\"", "must not be empty") }
        guard targetCost.isFinite && targetCost > 0 else { throw bad("targetCost", targetCost, "must be a positive number of seconds") }
        guard replication >= 1 else { throw bad("replication", replication, "must be at least 1") }
        guard maxReplicas >= replication else {
            throw bad("maxReplicas", maxReplicas, "must be at least replication (\(replication))")
        }
        guard deadlineSeconds.isFinite && deadlineSeconds > 0 else {
            throw bad("deadlineSeconds", deadlineSeconds, "must be a positive number of seconds")
        }
        guard [1, 2, 4, 8, 16, 32].contains(harmonics) else { throw bad("harmonics", harmonics, "must be 1, 2, 4, 8, 16 or 32") }
        guard sigmaThreshold.isFinite && sigmaThreshold > 0 else { throw bad("sigmaThreshold", sigmaThreshold, "must be positive") }
        guard minFrequency.isFinite && minFrequency >= 0 else { throw bad("minFrequency", minFrequency, "must be at least 0 Hz") }
        guard maxCandidatesPerSeries >= 1 else { throw bad("maxCandidatesPerSeries", maxCandidatesPerSeries, "must be at least 1") }
        guard (1...256).contains(toplistSize) else { throw bad("toplistSize", toplistSize, "must be 1-256") }
        guard accelMax.isFinite && accelMax >= 0 else { throw bad("accelMax", accelMax, "must be at least 0 m/s^2") }
        if let dmMax, !(dmMax.isFinite && dmMax >= 0) { throw bad("dmMax", dmMax, "must be at least 0 or null") }
        guard bits == 8 || bits == 16 else { throw bad("bits", bits, "must be 8 or 16") }
        if let problem = rfi?.problem { throw bad("rfi.\(problem.field)", problem.value, problem.reason) }
        if let modes {
            guard modes.contains(.fft) else {
                throw bad("modes", modes.map(\.rawValue), "must include \"fft\": its toplists are the proof of work audits recompute")
            }
            guard Set(modes).count == modes.count else { throw bad("modes", modes.map(\.rawValue), "must not repeat a mode") }
        }
        if let problem = ffa?.problem { throw bad("ffa", "\(ffa!)", problem) }
        if let problem = singlePulse?.problem { throw bad("singlePulse", "\(singlePulse!)", problem) }
        for (i, b) in (birdies ?? []).enumerated() {
            guard b.frequency.isFinite, b.frequency > 0 else { throw bad("birdies[\(i)].frequency", b.frequency, "must be a positive number of Hz") }
            guard b.width.isFinite, b.width >= 0 else { throw bad("birdies[\(i)].width", b.width, "must be at least 0 Hz") }
            guard b.harmonics >= 1 else { throw bad("birdies[\(i)].harmonics", b.harmonics, "must be at least 1") }
        }
    }
}

/// A search a preset can ask every unit for.
public enum SearchMode: String, Codable, Sendable, CaseIterable {
    /// The Fourier search with harmonic summing (and acceleration trials).
    case fft
    /// The Fast Folding Algorithm for long periods.
    case ffa
    /// The boxcar single-pulse search.
    case singlePulse = "single-pulse"
}

/// Why a preset file was refused. The ``description`` names the file, the field and the value.
public enum PresetError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The directory or a file in it could not be read.
    case unreadable(file: String, reason: String)
    /// The file is not JSON, or a field has the wrong type (`field` empty when the JSON is malformed).
    case invalidJSON(file: String, field: String, reason: String)
    /// A required field is absent.
    case missingField(file: String, field: String)
    /// A field's value is out of range.
    case invalidValue(file: String, field: String, value: String, requirement: String)

    /// E.g. `"tiny.json: field 'bits' has value 12: must be 8 or 16"`.
    public var description: String {
        switch self {
        case let .unreadable(file, reason): return "\(file): cannot read preset: \(reason)"
        case let .invalidJSON(file, field, reason):
            return field.isEmpty ? "\(file): not a valid preset: \(reason)" : "\(file): field '\(field)' is invalid: \(reason)"
        case let .missingField(file, field): return "\(file): required field '\(field)' is missing"
        case let .invalidValue(file, field, value, requirement): return "\(file): field '\(field)' has value \(value): \(requirement)"
        }
    }
}

/// The presets of a directory.
public enum PresetCatalog {
    /// Loads every `*.json` file of `directory`, keyed by preset name. A preset's `name` must equal
    /// its file name without `.json`. Errors name the file (as `directory/file.json`), the field
    /// and the value.
    public static func load(directory: String) throws -> [String: WorkUnitPreset] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw PresetError.unreadable(file: directory, reason: "\(error.localizedDescription)")
        }
        var presets: [String: WorkUnitPreset] = [:]
        for name in names.sorted() where name.hasSuffix(".json") {
            let path = (directory as NSString).appendingPathComponent(name)
            let preset = try load(file: path)
            let stem = String(name.dropLast(5))
            guard preset.name == stem else {
                throw PresetError.invalidValue(
                    file: path, field: "name", value: "\"\(preset.name)\"", requirement: "must match the file name \"\(stem)\"")
            }
            presets[stem] = preset
        }
        return presets
    }

    /// Loads and validates one preset file.
    public static func load(file path: String) throws -> WorkUnitPreset {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PresetError.unreadable(file: path, reason: "no such file or not readable")
        }
        let preset: WorkUnitPreset
        do {
            preset = try JSONDecoder().decode(WorkUnitPreset.self, from: data)
        } catch let error as DecodingError {
            throw describe(error, file: path, data: data)
        }
        try preset.validate(file: path)
        return preset
    }

    static func describe(_ error: DecodingError, file: String, data: Data) -> PresetError {
        /// The raw JSON value of a top-level field, for messages.
        func raw(_ keys: [CodingKey]) -> String {
            guard keys.count == 1, let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                let value = object[keys[0].stringValue]
            else { return "" }
            if let s = value as? String { return " (value \"\(s)\")" }
            return " (value \(value))"
        }
        func path(_ keys: [CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
                .trimmingCharacters(in: CharacterSet(charactersIn: "."))
        }
        switch error {
        case let .keyNotFound(key, context):
            return .missingField(file: file, field: path(context.codingPath + [key]))
        case let .typeMismatch(type, context):
            return .invalidJSON(file: file, field: path(context.codingPath), reason: "expected \(type)\(raw(context.codingPath))")
        case let .valueNotFound(type, context):
            return .invalidJSON(file: file, field: path(context.codingPath), reason: "expected \(type), found null")
        case let .dataCorrupted(context):
            return .invalidJSON(file: file, field: path(context.codingPath), reason: context.debugDescription)
        @unknown default:
            return .invalidJSON(file: file, field: "", reason: "\(error)")
        }
    }
}
