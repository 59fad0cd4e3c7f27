import CoordinatorCore
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
            let (id, key) = try await self.core.accounts.signUp(email: email, name: name)
            return try JSONBody.response(SignupResponse(accountID: id, accountKey: key), status: .created)
        }

        // A volunteer's machine registers with the account key and gets its own host key.
        api.post("hosts") { request, context -> Response in
            let principal = try await self.authenticate(request, [.volunteer])
            try self.limitRegistrations(from: self.client(request, context))
            let registration = try await JSONBody.decode(HostRegistration.self, from: request, limit: 64 << 10)
            try APIError.refusing { () throws(RequestBodyError) in try registration.validate() }
            let (hostID, key) = try await self.core.accounts.registerHost(
                account: principal.accountID, name: registration.storedName, cores: registration.cores,
                memoryMB: registration.memoryMB, os: registration.storedOS)
            return try JSONBody.response(HostRegistrationResponse(hostID: hostID, hostKey: key), status: .created)
        }
    }
}
