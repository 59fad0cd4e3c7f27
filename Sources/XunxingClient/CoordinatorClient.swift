import Foundation
import PulsarSearch
import XunxingHTTPClient
import XunxingProtocol

/// Typed calls to a coordinator's /api/v1 over libcurl, through a fresh transfer per call: the
/// client of the command line and the worker. Blocking; use from a thread that may block.
public typealias CoordinatorClient = CoordinatorSession<HTTPClient>

/// Typed calls to a coordinator's /api/v1 over any ``HTTPTransport``: the one protocol client,
/// whether each call is its own transfer (``CoordinatorClient``) or many calls share one kept-alive
/// connection (the load generator's hosts). Blocking calls; use from a thread that may block.
public struct CoordinatorSession<Transport: HTTPTransport> {
    public let baseURL: String
    /// The bearer secret sent with every call (API token, account key or host key).
    public var secret: String?
    /// What carries the requests.
    public let http: Transport

    /// A session with `baseURL` (trailing slashes dropped) sending `secret`, over `http`.
    public init(baseURL: String, secret: String? = nil, http: Transport) {
        var url = baseURL
        while url.hasSuffix("/") { url.removeLast() }
        self.baseURL = url
        self.secret = secret
        self.http = http
    }

    /// The same session carrying another secret (a different host's key on a shared connection).
    public func with(secret: String?) -> Self {
        var copy = self
        copy.secret = secret
        return copy
    }

    var authorization: [String: String] {
        guard let secret else { return [:] }
        return ["Authorization": "Bearer \(secret)"]
    }

    func url(_ path: String) -> String {
        baseURL + (path.hasPrefix("/api/") ? path : APIVersion.path + path)
    }

    /// A URL the coordinator handed out (a payload's): a path on the coordinator, or an absolute URL
    /// with the coordinator's own scheme, host and port. Anything else is refused, so that the
    /// host's key is never sent to another server.
    func sameOrigin(_ given: String) throws -> String {
        if given.hasPrefix("/") && !given.hasPrefix("//") { return url(given) }
        guard let resolved = Self.resolve(given, onOriginOf: baseURL) else {
            throw CoordinatorClientError.refused("a URL outside the coordinator's origin (\(baseURL)): \(given)")
        }
        return resolved
    }

    /// `given` as an absolute URL when it is a path or a URL on `base`'s origin (same scheme, host
    /// and port, a port left out meaning the scheme's default, no user info); nil otherwise.
    public static func resolve(_ given: String, onOriginOf base: String) -> String? {
        var root = base
        while root.hasSuffix("/") { root.removeLast() }
        if given.hasPrefix("/") && !given.hasPrefix("//") { return root + given }
        guard let target = URLComponents(string: given), let own = URLComponents(string: root),
            target.scheme?.lowercased() == own.scheme?.lowercased(), target.host?.lowercased() == own.host?.lowercased(),
            (target.port ?? defaultPort(target.scheme)) == (own.port ?? defaultPort(own.scheme)),
            target.user == nil, target.password == nil
        else { return nil }
        return given
    }

    static func defaultPort(_ scheme: String?) -> Int? {
        switch scheme?.lowercased() {
        case "http": return 80
        case "https": return 443
        default: return nil
        }
    }

    /// Sends JSON (or nothing) and decodes the JSON answer.
    func call<Response: Decodable>(
        _ method: String, _ path: String, body: (some Encodable)? = Optional<Int>.none, as: Response.Type
    ) throws -> Response {
        let data = try body.map { try WireCoding.encoder().encode($0) }
        var headers = authorization
        if data != nil { headers["Content-Type"] = "application/json" }
        let response = try perform { try http.send(method, url: url(path), headers: headers, body: data, maxResponseBytes: 64 << 20) }
        return try Self.decode(response, as: Response.self)
    }

    func perform(_ body: () throws -> HTTPResponse) throws -> HTTPResponse {
        do {
            return try body()
        } catch let error as HTTPClientError {
            throw CoordinatorClientError.unreachable(error.description)
        }
    }

    static func check(_ response: HTTPResponse) throws {
        guard (200..<300).contains(response.status) else {
            if let body = try? WireCoding.decoder().decode(APIErrorBody.self, from: response.body) {
                throw CoordinatorClientError.api(status: response.status, code: body.error, message: body.message)
            }
            let text = String(decoding: response.body.prefix(500), as: UTF8.self)
            throw CoordinatorClientError.api(status: response.status, code: "http_\(response.status)", message: text)
        }
    }

    static func decode<T: Decodable>(_ response: HTTPResponse, as type: T.Type) throws -> T {
        try check(response)
        do {
            return try WireCoding.decoder().decode(T.self, from: response.body)
        } catch {
            throw CoordinatorClientError.protocolError("\(T.self): \(error)")
        }
    }

    // MARK: Volunteers and hosts

    public func signup(email: String, name: String) throws -> SignupResponse {
        try call("POST", "/volunteers", body: SignupRequest(email: email, name: name), as: SignupResponse.self)
    }

    public func registerHost(_ registration: HostRegistration) throws -> HostRegistrationResponse {
        try call("POST", "/hosts", body: registration, as: HostRegistrationResponse.self)
    }

    /// The profile of the volunteer whose account key this client carries.
    public func myProfile() throws -> VolunteerProfile {
        try call("GET", "/volunteers/me", as: VolunteerProfile.self)
    }

    public func profile(volunteer id: String) throws -> VolunteerProfile {
        try call("GET", "/volunteers/\(Self.escape(id))", as: VolunteerProfile.self)
    }

    /// The charity hours of this client's host and its volunteer (host key).
    public func hostHours() throws -> HostHours {
        try call("GET", "/hosts/me", as: HostHours.self)
    }

    /// Links your profile on the external platform with the link code the platform gave you.
    public func linkPlatform(code: String) throws -> VolunteerProfile {
        try call("PUT", "/volunteers/me/platform", body: PlatformLink(linkCode: code), as: VolunteerProfile.self)
    }

    public func statement(volunteer id: String, year: Int) throws -> YearlyStatement {
        try call("GET", "/volunteers/\(Self.escape(id))/statement?year=\(year)", as: YearlyStatement.self)
    }

    // MARK: Datasets

    public func dataset(_ id: String) throws -> DatasetStatus {
        try call("GET", "/datasets/\(Self.escape(id))", as: DatasetStatus.self)
    }

    /// Gives a replica up (the coordinator sends its unit to someone else at once).
    public func abandon(replica: String, reason: String, kind: AbandonKind = .other) throws {
        let body = try WireCoding.encoder().encode(AbandonRequest(reason: reason, kind: kind))
        var headers = authorization
        headers["Content-Type"] = "application/json"
        try Self.check(try perform { try http.send("POST", url: url("/replicas/\(Self.escape(replica))/abandon"), headers: headers, body: body, maxResponseBytes: 1 << 20) })
    }

    /// Replaces this client's key with a new one of the same kind; the old key stops working.
    public func rotateKey() throws -> String {
        try call("POST", "/keys/rotate", as: KeyRotation.self).key
    }

    /// Revokes every key of one of your hosts.
    public func revokeHost(_ id: String) throws {
        try Self.check(try perform { try http.send("POST", url: url("/hosts/\(Self.escape(id))/revoke"), headers: authorization, body: nil, maxResponseBytes: 1 << 20) })
    }

    public func datasets() throws -> [DatasetStatus] {
        try call("GET", "/datasets", as: [DatasetStatus].self)
    }

    /// Publishes one of your datasets on the public pages (`publish: false` makes it private again).
    public func publish(_ id: String, _ publish: Bool = true) throws -> DatasetStatus {
        try call("POST", "/datasets/\(Self.escape(id))/\(publish ? "publish" : "unpublish")", as: DatasetStatus.self)
    }

    public func candidates(_ id: String) throws -> [Candidate] {
        try call("GET", "/datasets/\(Self.escape(id))/candidates", as: [Candidate].self)
    }

    /// A dataset's single-pulse events, strongest first (interference flagged in `rfi`).
    public func singlePulseEvents(_ id: String) throws -> [SinglePulseEvent] {
        try call("GET", "/datasets/\(Self.escape(id))/single-pulse", as: [SinglePulseEvent].self)
    }

    // MARK: Work

    public func requestWork(_ request: WorkRequest) throws -> WorkResponse {
        try call("POST", "/work/request", body: request, as: WorkResponse.self)
    }

    public func acknowledge(replica: String) throws {
        let response = try perform {
            try http.send("POST", url: url("/replicas/\(Self.escape(replica))/ack"), headers: authorization, body: nil, maxResponseBytes: 1 << 20)
        }
        try Self.check(response)
    }

    /// Downloads a payload into memory (small payloads, simulated hosts). The URL must be on the
    /// coordinator's origin, and the body may not be larger than the assignment declares.
    public func payload(_ assignment: Assignment) throws -> Data {
        let target = try sameOrigin(assignment.payloadURL)
        guard assignment.payloadSize > 0, assignment.payloadSize <= Int64(Int.max) else {
            throw CoordinatorClientError.refused("a payload of \(assignment.payloadSize) bytes")
        }
        let response: HTTPResponse
        do {
            response = try http.send("GET", url: target, headers: authorization, body: nil, maxResponseBytes: Int(assignment.payloadSize))
        } catch HTTPClientError.bodyTooLarge {
            throw CoordinatorClientError.refused("the payload at \(target) is larger than the \(assignment.payloadSize) bytes announced")
        } catch let error as HTTPClientError {
            throw CoordinatorClientError.unreachable(error.description)
        }
        try Self.check(response)
        return response.body
    }

    /// Whether the coordinator answers its health check.
    public func health() throws {
        try Self.check(try perform { try http.send("GET", url: url("/health"), headers: [:], body: nil, maxResponseBytes: 1 << 10) })
    }

    public func report(replica: String, result: WorkUnitResult) throws -> ReportResponse {
        try call("POST", "/replicas/\(Self.escape(replica))/result", body: result, as: ReportResponse.self)
    }

    static func escape(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=+/?#"))) ?? s
    }
}

extension CoordinatorSession: Sendable where Transport: Sendable {}

extension CoordinatorSession where Transport == HTTPClient {
    /// A client of `baseURL` sending `secret`, each call its own transfer through `http`.
    public init(baseURL: String, secret: String? = nil) {
        self.init(baseURL: baseURL, secret: secret, http: HTTPClient())
    }

    /// Streams a filterbank to the coordinator (never holding it in memory) with its SHA-256.
    public func submit(
        file path: String, name: String, preset: String?, dmMax: Double?, accelMax: Double?, sha256: String?
    ) throws -> DatasetStatus {
        var query = ["name=\(Self.escape(name))"]
        if let preset { query.append("preset=\(Self.escape(preset))") }
        if let dmMax { query.append("dm_max=\(dmMax)") }
        if let accelMax { query.append("accel_max=\(accelMax)") }
        var headers = authorization
        headers["Content-Type"] = "application/octet-stream"
        if let sha256 { headers["X-Content-SHA256"] = sha256 }
        let target = url("/datasets?" + query.joined(separator: "&"))
        let response = try perform { try http.upload("POST", url: target, file: path, headers: headers) }
        return try Self.decode(response, as: DatasetStatus.self)
    }

    /// Downloads a payload to `path`, resuming a partial file. The URL must be on the coordinator's
    /// origin; the file may not grow past the size the assignment declares, nor that size past
    /// `maxBytes`.
    public func downloadPayload(_ assignment: Assignment, to path: String, maxBytes: Int64 = 16 << 30) throws {
        let target = try sameOrigin(assignment.payloadURL)
        guard assignment.payloadSize > 0, assignment.payloadSize <= maxBytes else {
            throw CoordinatorClientError.refused(
                "a payload of \(assignment.payloadSize) bytes (more than 0 and at most \(maxBytes) expected)")
        }
        let response: HTTPResponse
        do {
            response = try http.download(url: target, to: path, headers: authorization, resume: true, maxBytes: assignment.payloadSize)
        } catch HTTPClientError.bodyTooLarge {
            throw CoordinatorClientError.refused("the payload at \(target) is larger than the \(assignment.payloadSize) bytes announced")
        } catch let error as HTTPClientError {
            throw CoordinatorClientError.unreachable(error.description)
        }
        guard response.status == 416 || (200..<300).contains(response.status) else { try Self.check(response); return }
    }
}
