import Foundation

/// A failed API call: what the coordinator answered, or why it could not be reached.
public enum CoordinatorClientError: Error, CustomStringConvertible, Sendable {
    /// The coordinator answered with an error status and body.
    case api(status: Int, code: String, message: String)
    /// The coordinator could not be reached (or the transfer broke).
    case unreachable(String)
    /// The answer was not what the API promises.
    case protocolError(String)
    /// The client will not do what the coordinator asked (a URL off its origin, a payload larger
    /// than announced or allowed): not worth retrying.
    case refused(String)

    public var description: String {
        switch self {
        case .api(let status, let code, let message): return "coordinator answered \(status) \(code): \(message)"
        case .unreachable(let message): return "coordinator unreachable: \(message)"
        case .protocolError(let message): return "unexpected answer from the coordinator: \(message)"
        case .refused(let message): return "refused what the coordinator sent: \(message)"
        }
    }

    /// The HTTP status, when the coordinator answered.
    public var status: Int? {
        if case .api(let status, _, _) = self { return status }
        return nil
    }

    /// Whether asking again cannot change the answer: a 4xx other than 429 (too many requests),
    /// or something this client refused. Transport failures, 5xx, 429 and undecodable answers are
    /// worth another try.
    public var isDefinite: Bool {
        switch self {
        case .api(let status, _, _): return (400..<500).contains(status) && status != 429
        case .refused: return true
        case .unreachable, .protocolError: return false
        }
    }
}
