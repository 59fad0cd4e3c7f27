import CoordinatorStore
import Foundation
import Hummingbird
import XunxingProtocol

extension Coordinator {
    func addAccountRoutes(to api: RouterGroup<BasicRequestContext>) {
        // Volunteers sign up with an email and a display name and get their account key.
        api.post("volunteers") { request, _ -> Response in
            let signup = try await JSONBody.decode(SignupRequest.self, from: request, limit: 64 << 10)
            let email = signup.email.trimmingCharacters(in: .whitespaces).lowercased()
            let name = signup.name.trimmingCharacters(in: .whitespaces)
            guard email.contains("@"), email.count <= 254 else { throw APIError.badRequest("email '\(signup.email)' is not an email address") }
            guard !name.isEmpty, name.count <= 100 else { throw APIError.badRequest("name must be 1 to 100 characters") }
            if try await self.store.transaction({ try await $0.account(email: email) }) != nil {
                throw APIError.conflict("an account with email \(email) already exists")
            }
            let (id, key) = try await self.createAccount(role: .volunteer, name: name, email: email)
            return try JSONBody.response(SignupResponse(accountID: id, accountKey: key), status: .created)
        }

        // A volunteer's machine registers with the account key and gets its own host key.
        api.post("hosts") { request, _ -> Response in
            let principal = try await self.authenticate(request, [.volunteer])
            let registration = try await JSONBody.decode(HostRegistration.self, from: request, limit: 64 << 10)
            guard (1...4096).contains(registration.cores) else { throw APIError.badRequest("cores \(registration.cores) is not 1 to 4096") }
            guard registration.memoryMB > 0 else { throw APIError.badRequest("memory_mb \(registration.memoryMB) must be positive") }
            let hostID = Secrets.identifier()
            let key = Secrets.generate(prefix: "xxhost_")
            let now = Date().timeIntervalSince1970
            try await self.store.transaction { tx in
                try await tx.insertHost(HostRecord(
                    id: hostID, accountId: principal.accountID, name: String(registration.name.prefix(100)),
                    cores: registration.cores, memoryMb: registration.memoryMB, os: String(registration.os.prefix(100)),
                    speed: 1, validStreak: 0, invalidCount: 0, createdAt: now, lastSeen: now))
                try await tx.insertCredential(CredentialRecord(
                    secretHash: Secrets.hash(key), kind: Principal.Role.host.rawValue, accountId: principal.accountID,
                    hostId: hostID, createdAt: now))
            }
            return try JSONBody.response(HostRegistrationResponse(hostID: hostID, hostKey: key), status: .created)
        }
    }
}
