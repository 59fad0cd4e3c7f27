import CoordinatorStore
import Foundation
import Hummingbird
import XunxingProtocol

extension Coordinator {
    /// Rotating and revoking keys. A revocation takes effect at once on this coordinator and
    /// within the credential cache's lifetime (30 s) on any other sharing the database.
    func addKeyRoutes(to api: RouterGroup<CoordinatorRequestContext>) {
        // Any key replaces itself: the caller gets a new key of the same kind, and the one it
        // called with stops working.
        api.post("keys/rotate") { request, _ -> Response in
            let principal = try await self.authenticate(request, [.admin, .astronomer, .volunteer, .host])
            guard let header = request.headers[.authorization] else { throw APIError.unauthorized() }
            let old = Secrets.hash(String(header.dropFirst("Bearer ".count)).trimmingCharacters(in: .whitespaces))
            let prefixes: [Principal.Role: String] = [.admin: "xxadm_", .astronomer: "xxast_", .volunteer: "xxvol_", .host: "xxhost_"]
            let key = Secrets.generate(prefix: prefixes[principal.role] ?? "xx_")
            let now = Date().timeIntervalSince1970
            try await self.store.transaction { tx in
                // Two rotations of one key at once: only the first gets a new key.
                guard try await tx.revokeCredential(hash: old, at: now) else { throw APIError.unauthorized() }
                try await tx.insertCredential(CredentialRecord(
                    secretHash: Secrets.hash(key), kind: principal.role, accountId: principal.accountID,
                    hostId: principal.hostID, createdAt: now))
            }
            self.credentialCache.removeAll()
            return try JSONBody.response(KeyRotation(key: key), status: .created)
        }

        // A volunteer revokes a lost or retired machine's key (an administrator any host's).
        api.post("hosts/:id/revoke") { request, context -> Response in
            let principal = try await self.authenticate(request, [.volunteer, .admin])
            let id = try context.parameters.require("id")
            let revoked = try await self.store.transaction { tx -> Int in
                guard let host = try await tx.host(id: id), principal.role == .admin || host.accountId == principal.accountID else {
                    throw APIError.notFound("host \(id)")
                }
                return try await tx.revokeCredentials(host: id, at: Date().timeIntervalSince1970)
            }
            self.credentialCache.removeAll()
            self.logger.notice("host \(id): \(revoked) key(s) revoked by \(principal.role.rawValue) \(principal.accountID)")
            return Response(status: .noContent)
        }

        // An administrator shuts an account out: every key of the account and of its hosts.
        api.post("admin/accounts/:id/revoke") { request, context -> Response in
            let principal = try await self.authenticate(request, [.admin])
            let id = try context.parameters.require("id")
            guard id != principal.accountID else { throw APIError.badRequest("an administrator cannot revoke their own account's keys") }
            let revoked = try await self.store.transaction { tx -> Int in
                guard try await tx.account(id: id) != nil else { throw APIError.notFound("account \(id)") }
                return try await tx.revokeCredentials(account: id, at: Date().timeIntervalSince1970)
            }
            self.credentialCache.removeAll()
            self.logger.notice("account \(id): \(revoked) key(s) revoked by administrator \(principal.accountID)")
            return Response(status: .noContent)
        }
    }
}
