import CoordinatorCore
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
            guard let key = try await self.core.accounts.rotateKey(
                hash: old, role: principal.role, account: principal.accountID, host: principal.hostID)
            else { throw APIError.unauthorized() }
            self.credentialCache.removeAll()
            return try JSONBody.response(KeyRotation(key: key), status: .created)
        }

        // A volunteer revokes a lost or retired machine's key (an administrator any host's).
        api.post("hosts/:id/revoke") { request, context -> Response in
            let principal = try await self.authenticate(request, [.volunteer, .admin])
            let id = try context.parameters.require("id")
            let revoked = try await self.core.accounts.revokeHostKeys(
                host: id, by: principal.accountID, asAdministrator: principal.role == .admin)
            self.credentialCache.removeAll()
            self.logger.notice("host \(id): \(revoked) key(s) revoked by \(principal.role.rawValue) \(principal.accountID)")
            return Response(status: .noContent)
        }

        // An administrator shuts an account out: every key of the account and of its hosts.
        api.post("admin/accounts/:id/revoke") { request, context -> Response in
            let principal = try await self.authenticate(request, [.admin])
            let id = try context.parameters.require("id")
            let revoked = try await self.core.accounts.revokeAccountKeys(account: id, by: principal.accountID)
            self.credentialCache.removeAll()
            self.logger.notice("account \(id): \(revoked) key(s) revoked by administrator \(principal.accountID)")
            return Response(status: .noContent)
        }
    }
}
