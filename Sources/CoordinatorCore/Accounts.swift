import CoordinatorStore
import Foundation

/// Accounts and what hangs on them: creating one with its first key, and linking a volunteer to
/// their profile on the external platform.
public struct Accounts: DomainService {
    let environment: CoordinatorEnvironment

    /// Creates an account with a secret of its role; returns the account id and the secret.
    public func createAccount(role: Role, name: String, email: String? = nil) async throws -> (id: String, secret: String) {
        let id = Secrets.identifier()
        let secret = Secrets.key(for: role)
        let now = clock.now()
        try await store.transaction { tx in
            try await tx.insertAccount(AccountRecord(id: id, role: role, name: name, email: email, createdAt: now))
            try await tx.insertCredential(CredentialRecord(
                secretHash: Secrets.hash(secret), kind: role, accountId: id, hostId: nil, createdAt: now))
        }
        return (id, secret)
    }

    /// Links a volunteer to the platform profile a link code names: the code must carry the
    /// platform's signature, be unexpired and unused, and the profile must not be another
    /// volunteer's already.
    public func linkPlatform(account: String, code: String) async throws {
        guard !configuration.syncSecret.isEmpty else {
            throw DomainError.unavailable(code: "no_platform", "this project has no profile platform to link to")
        }
        let now = clock.now()
        let (profileID, nonce): (String, String)
        do {
            (profileID, nonce) = try PlatformLinkCode.verify(code, secret: configuration.syncSecret, now: now)
        } catch {
            throw DomainError.invalid("link_code: \(error)")
        }
        try await store.transaction { tx in
            if let owner = try await tx.accountLinked(toProfile: profileID), owner != account {
                throw DomainError.conflict("platform profile \(profileID) is linked to another volunteer")
            }
            guard try await tx.useLinkCode(nonce: nonce, account: account, profileID: profileID, at: now) else {
                throw DomainError.conflict("this link code was already used: ask the platform for a new one")
            }
            try await tx.linkPlatformProfile(account: account, profileID: profileID)
        }
        logger.info("volunteer \(account) linked platform profile \(profileID)")
    }

    /// A volunteer signs up with an e-mail address no other account has.
    public func signUp(email: String, name: String) async throws -> (id: String, secret: String) {
        if try await store.read({ try await $0.account(email: email) }) != nil {
            throw DomainError.conflict("an account with email \(email) already exists")
        }
        return try await createAccount(role: .volunteer, name: name, email: email)
    }

    /// Registers a volunteer's machine (at most `maxHostsPerAccount` per account) with its own key.
    public func registerHost(
        account: String, name: String, cores: Int, memoryMB: Int, os: String
    ) async throws -> (hostID: String, secret: String) {
        let hostID = Secrets.identifier()
        let key = Secrets.key(for: .host)
        let now = clock.now()
        let limit = configuration.maxHostsPerAccount
        try await store.transaction { tx in
            // One registration per account at a time, so two at once cannot both pass the count.
            try await tx.lockRow(table: .accounts, id: account)
            let registered = try await tx.hostCount(account: account)
            guard registered < limit else {
                throw DomainError.conflict("this account already has \(registered) hosts, the most one account may register (\(limit))")
            }
            try await tx.insertHost(HostRecord(
                id: hostID, accountId: account, name: name, cores: cores, memoryMb: memoryMB, os: os,
                speed: 1, validStreak: 0, invalidCount: 0, createdAt: now, lastSeen: now))
            try await tx.insertCredential(CredentialRecord(
                secretHash: Secrets.hash(key), kind: .host, accountId: account, hostId: hostID, createdAt: now))
        }
        return (hostID, key)
    }

    /// Replaces the key whose hash is `oldHash` by a new one of the same kind; nil when that key
    /// was already replaced or revoked (of two rotations at once, only the first gets a key).
    public func rotateKey(hash oldHash: String, role: Role, account: String, host: String?) async throws -> String? {
        let key = Secrets.key(for: role)
        let now = clock.now()
        let rotated = try await store.transaction { tx -> Bool in
            guard try await tx.revokeCredential(hash: oldHash, at: now) else { return false }
            try await tx.insertCredential(CredentialRecord(
                secretHash: Secrets.hash(key), kind: role, accountId: account, hostId: host, createdAt: now))
            return true
        }
        return rotated ? key : nil
    }

    /// Revokes a host's keys: its volunteer's doing, or an administrator's (`asAdministrator`).
    /// Returns how many keys stopped working.
    public func revokeHostKeys(host id: String, by account: String, asAdministrator: Bool) async throws -> Int {
        let now = clock.now()
        return try await store.transaction { tx -> Int in
            guard let host = try await tx.host(id: id), asAdministrator || host.accountId == account else {
                throw DomainError.notFound("host \(id)")
            }
            return try await tx.revokeCredentials(host: id, at: now)
        }
    }

    /// Revokes every key of an account and of its hosts (an administrator's doing, never on their
    /// own account). Returns how many keys stopped working.
    public func revokeAccountKeys(account id: String, by administrator: String) async throws -> Int {
        guard id != administrator else { throw DomainError.invalid("an administrator cannot revoke their own account's keys") }
        let now = clock.now()
        return try await store.transaction { tx -> Int in
            guard try await tx.account(id: id) != nil else { throw DomainError.notFound("account \(id)") }
            return try await tx.revokeCredentials(account: id, at: now)
        }
    }
}
