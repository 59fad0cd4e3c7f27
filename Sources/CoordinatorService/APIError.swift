import CoordinatorCore
import CoordinatorStore
import Foundation
import Hummingbird
import NIOCore
import XunxingProtocol

/// An error answered as JSON `{"error": code, "message": text}` with an HTTP status.
public struct APIError: Error, HTTPResponseError, CustomStringConvertible {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String
    /// Seconds to wait before trying again (sent as `Retry-After`).
    public var retryAfter: Double? = nil

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = try WireCoding.encoder().encode(APIErrorBody(error: code, message: message))
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        if let retryAfter { headers[.retryAfter] = String(max(1, Int(retryAfter.rounded(.up)))) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(data: body)))
    }

    static func tooManyRequests(retryAfter: Double) -> APIError {
        var error = APIError(.tooManyRequests, "rate_limited", String(format: "too many requests with this key: try again in %.2f s", retryAfter))
        error.retryAfter = retryAfter
        return error
    }

    static func unauthorized(_ message: String = "missing or unknown credentials: send Authorization: Bearer <key>") -> APIError {
        APIError(.unauthorized, "unauthorized", message)
    }
    static func forbidden(_ message: String) -> APIError { APIError(.forbidden, "forbidden", message) }
    static func notFound(_ what: String) -> APIError { APIError(.notFound, "not_found", "\(what) does not exist") }
    static func badRequest(_ message: String) -> APIError { APIError(.badRequest, "bad_request", message) }
    static func tooLarge(_ message: String) -> APIError { APIError(.contentTooLarge, "too_large", message) }
    static func conflict(_ message: String) -> APIError { APIError(.conflict, "conflict", message) }

    /// Runs a request body's validation (XunxingProtocol/RequestBodies.swift), answering its
    /// refusal as `400 bad_request` with the same sentence.
    static func refusing<T>(_ validation: () throws(RequestBodyError) -> T) throws(APIError) -> T {
        do {
            return try validation()
        } catch {
            throw badRequest(error.message)
        }
    }
}

/// JSON in and out of handlers, with errors that say what was wrong.
enum JSONBody {
    static func decode<T: Decodable>(_ type: T.Type, from request: Request, limit: Int) async throws -> T {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw APIError.tooLarge("request body is over the limit of \(limit) bytes")
        }
        do {
            return try WireCoding.decodeBody(T.self, from: Data(buffer: buffer))
        } catch {
            throw APIError.badRequest(error.message)
        }
    }

    static func response<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try WireCoding.encoder().encode(value)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(data: data)))
    }
}

extension APIError {
    /// The one place a domain refusal becomes an HTTP answer.
    init(_ domain: DomainError) {
        switch domain {
        case .notFound(let what): self = .notFound(what)
        case .forbidden(let m): self = .forbidden(m)
        case .conflict(let m): self = .conflict(m)
        case .invalid(let m): self = .badRequest(m)
        case .tooLarge(let m): self = .tooLarge(m)
        case .unavailable(let code, let m): self = APIError(.serviceUnavailable, code, m)
        case .storage(let m): self = APIError(.internalServerError, "storage", m)
        }
    }
}

/// Turns what the domain and the store throw into HTTP answers: a ``DomainError`` by
/// ``APIError/init(_:)``, and a transaction the store refused for a full queue
/// (``StorageOverloaded``) into 503 with Retry-After, so clients back off instead of piling on.
struct DomainErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let domain as DomainError {
            throw APIError(domain)
        } catch let overloaded as StorageOverloaded {
            var error = APIError(.serviceUnavailable, "overloaded", overloaded.description)
            error.retryAfter = overloaded.retryAfter
            throw error
        }
    }
}
