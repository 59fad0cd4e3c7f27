import Foundation

/// Why the coordinator refuses a JSON request body: `message` is the sentence it answers with
/// (`400 bad_request`), and names the body type and, where there is one, the field.
public struct RequestBodyError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The field concerned (a coding path such as `candidates.[3].sigma`), `nil` when the body as a
    /// whole is at fault (not JSON, not an object).
    public var field: String?
    /// The sentence answered to the client.
    public var message: String

    /// Creates an error with its answer.
    public init(field: String?, message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { message }
}

extension WireCoding {
    /// Decodes a request body of type `T` as the coordinator does (``WireCoding/decoder()``),
    /// turning every decoding failure into a ``RequestBodyError`` that names `T` and the field.
    public static func decodeBody<T: Decodable>(_ type: T.Type, from data: Data) throws(RequestBodyError) -> T {
        do {
            return try decoder().decode(T.self, from: data)
        } catch let DecodingError.keyNotFound(key, _) {
            throw RequestBodyError(field: key.stringValue, message: "malformed JSON for \(T.self): field '\(key.stringValue)' is missing")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            guard !field.isEmpty else {
                // The body itself is a string, number, array or null.
                throw RequestBodyError(field: nil, message: "malformed JSON for \(T.self): the body must be a JSON object")
            }
            throw RequestBodyError(field: field, message: "malformed JSON for \(T.self): field '\(field)' has the wrong type")
        } catch let DecodingError.dataCorrupted(context) {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            let reason = context.underlyingError.map { "\(context.debugDescription) (\($0))" } ?? context.debugDescription
            guard !field.isEmpty else {
                throw RequestBodyError(field: nil, message: "malformed JSON for \(T.self): \(reason)")
            }
            throw RequestBodyError(field: field, message: "malformed JSON for \(T.self): field '\(field)': \(reason)")
        } catch {
            throw RequestBodyError(field: nil, message: "malformed JSON for \(T.self): \(error)")
        }
    }
}

extension SignupRequest {
    /// The email (trimmed, lower-cased) and display name (trimmed) the coordinator stores, or the
    /// reason the signup is refused.
    public func validated() throws(RequestBodyError) -> (email: String, name: String) {
        let email = self.email.trimmingCharacters(in: .whitespaces).lowercased()
        let name = self.name.trimmingCharacters(in: .whitespaces)
        guard email.contains("@"), email.count <= 254 else {
            throw RequestBodyError(field: "email", message: "email '\(self.email)' is not an email address")
        }
        guard !name.isEmpty, name.count <= 100 else {
            throw RequestBodyError(field: "name", message: "name must be 1 to 100 characters")
        }
        return (email, name)
    }
}

extension HostRegistration {
    /// Refuses a registration with cores outside 1...4096 or a non-positive memory size.
    public func validate() throws(RequestBodyError) {
        guard (1...4096).contains(cores) else {
            throw RequestBodyError(field: "cores", message: "cores \(cores) is not 1 to 4096")
        }
        guard memoryMB > 0 else {
            throw RequestBodyError(field: "memory_mb", message: "memory_mb \(memoryMB) must be positive")
        }
    }

    /// The host name as stored (at most 100 characters).
    public var storedName: String { String(name.prefix(100)) }
    /// The operating system as stored (at most 100 characters).
    public var storedOS: String { String(os.prefix(100)) }
}

extension WorkRequest {
    /// Refuses a request with cores outside 1...4096 (as a registration), negative or non-finite
    /// seconds, or a speed that is not a positive finite number.
    public func validate() throws(RequestBodyError) {
        guard (1...4096).contains(cores) else {
            throw RequestBodyError(field: "cores", message: "cores \(cores) is not 1 to 4096")
        }
        guard seconds >= 0, seconds.isFinite, speed > 0, speed.isFinite else {
            throw RequestBodyError(field: nil, message: "seconds must be >= 0 and speed > 0, both finite")
        }
        if let maxUnits, !(1...4096).contains(maxUnits) {
            throw RequestBodyError(field: "max_units", message: "max_units \(maxUnits) is not 1 to 4096")
        }
    }
}

extension PlatformLink {
    /// The code (trimmed), or the reason it is refused before its signature is checked.
    public func validated() throws(RequestBodyError) -> String {
        let code = linkCode.trimmingCharacters(in: .whitespaces)
        guard !code.isEmpty, code.count <= 1024 else {
            throw RequestBodyError(field: "link_code", message: "link_code must be 1 to 1024 characters: the code the profile platform gave you")
        }
        return code
    }
}

extension WorkUnitResult {
    /// Refuses a result whose candidates could not have come from searching the unit: a DM index
    /// outside the unit's trials `dmTrials` (indices in the dataset's DM plan), a frequency that
    /// is not positive, or fewer than one harmonic. The validator compares what remains.
    public func validate(dmTrials: Range<Int>) throws(RequestBodyError) {
        // A search reports at most maxCandidates (32 by default) per trial; far more is no search.
        let most = 1024 * max(1, toplists.count, seriesSearched)
        guard candidates.count <= most else {
            throw RequestBodyError(
                field: "candidates", message: "field 'candidates' has \(candidates.count) entries: at most \(most) for \(max(1, toplists.count, seriesSearched)) trials")
        }
        for (i, c) in candidates.enumerated() {
            let field = "candidates.\(i)"
            guard dmTrials.contains(c.dmIndex) else {
                throw RequestBodyError(
                    field: "\(field).dmIndex",
                    message: "field '\(field).dmIndex' has value \(c.dmIndex): the work unit holds DM trials \(dmTrials.lowerBound)..<\(dmTrials.upperBound)")
            }
            guard c.frequency > 0 else {
                throw RequestBodyError(
                    field: "\(field).frequency", message: "field '\(field).frequency' has value \(c.frequency): must be positive")
            }
            guard c.harmonics >= 1 else {
                throw RequestBodyError(
                    field: "\(field).harmonics", message: "field '\(field).harmonics' has value \(c.harmonics): must be at least 1")
            }
        }
    }
}
