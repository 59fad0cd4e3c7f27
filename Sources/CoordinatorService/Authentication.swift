import CoordinatorCore
import CoordinatorStore
import Foundation
import Hummingbird

/// Who is calling, from the bearer secret.
public struct Principal: Sendable, Equatable {
    /// The roles, as the store keeps them.
    public typealias Role = CoordinatorStore.Role

    public var role: Role
    public var accountID: String
    public var hostID: String?
}

extension Coordinator {
    /// Resolves the `Authorization: Bearer` secret, applies the key's rate limit, and checks its
    /// role is one of `roles`.
    func authenticate(_ request: Request, _ roles: Set<Principal.Role>) async throws -> Principal {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else { throw APIError.unauthorized() }
        let secret = String(header.dropFirst("Bearer ".count)).trimmingCharacters(in: .whitespaces)
        let hash = Secrets.hash(secret)
        if let wait = rateLimiter.take(hash) {
            metrics.rateLimited.increment()
            throw APIError.tooManyRequests(retryAfter: wait)
        }
        let principal: Principal
        if let cached = credentialCache[hash] {
            principal = cached
        } else {
            guard let credential = try await store.read({ try await $0.credential(hash: hash) }) else { throw APIError.unauthorized() }
            principal = Principal(role: credential.kind, accountID: credential.accountId, hostID: credential.hostId)
            credentialCache[hash] = principal
        }
        let role = principal.role
        guard roles.contains(role) || role == .admin && !roles.isDisjoint(with: [.astronomer]) else {
            throw APIError.forbidden("a \(role.rawValue) key cannot do this (needs: \(roles.map(\.rawValue).sorted().joined(separator: " or ")))")
        }
        return principal
    }
}
