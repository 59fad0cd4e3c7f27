import XunxingProtocol

/// Why the coordinator refused an action, in the domain's terms. The HTTP layer maps each case to
/// a status code in one place (`APIError(domain:)` in CoordinatorService); nothing here knows HTTP.
public enum DomainError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The thing named does not exist (or is not the caller's to see).
    case notFound(String)
    /// The caller may not do this to the thing (another host's replica, a role without the right).
    case forbidden(String)
    /// The thing is in a state that does not allow this (a reissued replica, a used link code).
    case conflict(String)
    /// What the caller sent is wrong: the sentence says which field and value.
    case invalid(String)
    /// What the caller sent is over a limit.
    case tooLarge(String)
    /// This coordinator cannot do it at all (a feature not configured); `code` names which.
    case unavailable(code: String, String)
    /// The coordinator's own storage failed (a file it could not create).
    case storage(String)

    public var description: String {
        switch self {
        case .notFound(let what): return "\(what) does not exist"
        case .forbidden(let m), .conflict(let m), .invalid(let m), .tooLarge(let m), .unavailable(_, let m), .storage(let m): return m
        }
    }

    /// Runs a request body's validation (XunxingProtocol/RequestBodies.swift), refusing with the
    /// same sentence.
    static func refusing<T>(_ validation: () throws(RequestBodyError) -> T) throws(DomainError) -> T {
        do {
            return try validation()
        } catch {
            throw .invalid(error.message)
        }
    }
}
