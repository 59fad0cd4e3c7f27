import CoordinatorStore
import Foundation
import Hummingbird
import XunxingProtocol

extension Coordinator {
    func addAccountRoutes(to api: RouterGroup<CoordinatorRequestContext>) {
        // Volunteers sign up with an email and a display name and get their account key.
        api.post("volunteers") { request, context -> Response in
            try self.limitRegistrations(from: self.client(request, context))
            let signup = try await JSONBody.decode(SignupRequest.self, from: request, limit: 64 << 10)
            let (email, name) = try APIError.refusing { () throws(RequestBodyError) in try signup.validated() }
            if try await self.store.read({ try await $0.account(email: email) }) != nil {
                throw APIError.conflict("an account with email \(email) already exists")
            }
            let (id, key) = try await self.createAccount(role: .volunteer, name: name, email: email)
            return try JSONBody.response(SignupResponse(accountID: id, accountKey: key), status: .created)
        }

        // A volunteer's machine registers with the account key and gets its own host key.
        api.post("hosts") { request, context -> Response in
            let principal = try await self.authenticate(request, [.volunteer])
            try self.limitRegistrations(from: self.client(request, context))
            let registration = try await JSONBody.decode(HostRegistration.self, from: request, limit: 64 << 10)
            try APIError.refusing { () throws(RequestBodyError) in try registration.validate() }
            let hostID = Secrets.identifier()
            let key = Secrets.generate(prefix: "xxhost_")
            let now = Date().timeIntervalSince1970
            let limit = self.configuration.maxHostsPerAccount
            try await self.store.transaction { tx in
                // One registration per account at a time, so two at once cannot both pass the count.
                try await tx.lockRow(table: .accounts, id: principal.accountID)
                let registered = try await tx.hostCount(account: principal.accountID)
                guard registered < limit else {
                    throw APIError.conflict("this account already has \(registered) hosts, the most one account may register (\(limit))")
                }
                try await tx.insertHost(HostRecord(
                    id: hostID, accountId: principal.accountID, name: registration.storedName,
                    cores: registration.cores, memoryMb: registration.memoryMB, os: registration.storedOS,
                    speed: 1, validStreak: 0, invalidCount: 0, createdAt: now, lastSeen: now))
                try await tx.insertCredential(CredentialRecord(
                    secretHash: Secrets.hash(key), kind: .host, accountId: principal.accountID,
                    hostId: hostID, createdAt: now))
            }
            return try JSONBody.response(HostRegistrationResponse(hostID: hostID, hostKey: key), status: .created)
        }
    }
}
