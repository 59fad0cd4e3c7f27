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

    /// Creates an account with a secret of its role; returns the account id and the secret.
    public func createAccount(role: Principal.Role, name: String, email: String? = nil) async throws -> (id: String, secret: String) {
        let id = Secrets.identifier()
        let prefix = ["admin": "xxadm_", "astronomer": "xxast_", "volunteer": "xxvol_"][role.rawValue] ?? "xx_"
        let secret = Secrets.generate(prefix: prefix)
        let now = Date().timeIntervalSince1970
        try await store.transaction { tx in
            try await tx.insertAccount(AccountRecord(id: id, role: role, name: name, email: email, createdAt: now))
            try await tx.insertCredential(CredentialRecord(
                secretHash: Secrets.hash(secret), kind: role, accountId: id, hostId: nil, createdAt: now))
        }
        return (id, secret)
    }
}
