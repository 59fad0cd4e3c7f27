import Foundation
import PulsarSearch
import WorkUnits
import XunxingProtocol

/// The JSON request bodies the coordinator decodes, selected by the first byte of an
/// ``FuzzTarget/apiBodies`` input (modulo the number of cases).
public enum APIBody: UInt8, CaseIterable, Sendable {
    /// `POST /api/v1/volunteers`.
    case signup
    /// `POST /api/v1/hosts`.
    case hostRegistration
    /// `POST /api/v1/work/request`.
    case workRequest
    /// `POST /api/v1/replicas/{id}/result`, then what the validator and assimilator do with it.
    case result
    /// `PUT /api/v1/volunteers/me/platform`.
    case platformLink
}

/// The work-unit payload and the API bodies.
extension FuzzHarness {
    /// Reads `data` as a work-unit payload.
    ///
    /// Accepted: the header passes `WorkUnitHeader.validate`, the file holds exactly its series,
    /// and every restored sample is finite. Refused: a `PayloadError` naming the file.
    @discardableResult
    public func payload(_ data: [UInt8]) throws(ContractViolation) -> FuzzOutcome {
        let file = try write(data[...], to: "input.xxwu", target: .payload)
        let header: WorkUnitHeader
        let samples: [Float]
        do {
            (header, samples) = try WorkUnitPayload.read(path: file)
        } catch let error as PayloadError {
            try Contract.payloadError(error, file: file)
            return .refused(error.description)
        } catch {
            throw ContractViolation(target: .payload, message: "untyped error \(type(of: error)): \(error)")
        }
        func fail(_ message: String) -> ContractViolation { ContractViolation(target: .payload, message: message) }
        do {
            try header.validate(file: file)
        } catch {
            throw fail("accepted a header that does not validate: \(error)")
        }
        guard samples.count == header.seriesCount * header.samplesPerSeries else {
            throw fail("\(samples.count) samples for \(header.seriesCount) series of \(header.samplesPerSeries)")
        }
        if let bad = samples.firstIndex(where: { !$0.isFinite }) {
            let series = bad / header.samplesPerSeries
            throw fail("sample \(bad) restored as \(samples[bad]) (series \(series): scale \(header.scales[series]), "
                + "offset \(header.offsets[series]), \(header.bits) bits)")
        }
        return .accepted
    }

    /// Decodes a request body as the coordinator does and runs its validation.
    ///
    /// Refused: a `RequestBodyError` whose message names the body type or the field. Accepted
    /// results must agree with themselves under `ResultComparison` and survive sifting, as the
    /// validator and the assimilator will do with them.
    @discardableResult
    public func apiBodies(_ data: [UInt8]) throws(ContractViolation) -> FuzzOutcome {
        guard let selector = data.first else { return .refused("empty input") }
        let kind = APIBody.allCases[Int(selector) % APIBody.allCases.count]
        let json = Data(data.dropFirst())
        do {
            switch kind {
            case .signup:
                let body = try WireCoding.decodeBody(SignupRequest.self, from: json)
                let (email, name) = try body.validated()
                guard email.contains("@"), email.count <= 254, !name.isEmpty, name.count <= 100 else {
                    throw ContractViolation(target: .apiBodies, message: "accepted signup \(email) / \(name)")
                }
            case .hostRegistration:
                let body = try WireCoding.decodeBody(HostRegistration.self, from: json)
                try body.validate()
                guard body.storedName.count <= 100, body.storedOS.count <= 100 else {
                    throw ContractViolation(target: .apiBodies, message: "stored host name or OS over 100 characters")
                }
            case .workRequest:
                let body = try WireCoding.decodeBody(WorkRequest.self, from: json)
                try body.validate()
            case .result:
                let body = try WireCoding.decodeBody(WorkUnitResult.self, from: json)
                try Self.judgeResult(body)
            case .platformLink:
                let body = try WireCoding.decodeBody(PlatformLink.self, from: json)
                let id = try body.validated()
                guard !id.isEmpty, id.count <= 200 else {
                    throw ContractViolation(target: .apiBodies, message: "accepted profile id of \(id.count) characters")
                }
            }
            return .accepted
        } catch let error as RequestBodyError {
            try Contract.bodyError(error, kind: kind)
            return .refused(error.message)
        } catch let error as ContractViolation {
            throw error
        } catch {
            throw ContractViolation(target: .apiBodies, message: "untyped error \(type(of: error)): \(error)")
        }
    }

    /// What the coordinator does with a decoded result: compare it (with itself, and with an
    /// empty result), sift its candidates, and check it against a unit holding DM trials 0..<64.
    /// Comparison and sifting run on every decodable result, refused or not: they must not trap
    /// on anything a host can send.
    static func judgeResult(_ result: WorkUnitResult) throws {
        // A result agrees with itself (JSON holds only finite numbers).
        guard ResultComparison.agree(result, result, duration: 100, reportingThreshold: 5) else {
            throw ContractViolation(target: .apiBodies, message: "a result does not agree with itself")
        }
        var empty = result
        empty.candidates = []
        _ = ResultComparison.canonical([result, empty, result], duration: 100, reportingThreshold: 5)
        _ = CandidateSifter().sift(result.candidates, duration: 100, dmTrialCount: 64)
        try result.validate(dmTrials: 0..<64)
    }
}

extension Contract {
    /// Checks that a `PayloadError` names the file, and its field or value where it has them.
    static func payloadError(_ error: PayloadError, file: String) throws(ContractViolation) {
        let text = error.description
        func fail(_ why: String) -> ContractViolation {
            ContractViolation(target: .payload, message: "unclear error (\(why)): \(text)")
        }
        var named: [String] = []
        let namedFile: String
        switch error {
        case let .cannotOpen(f, _), let .io(f, _), let .truncated(f, _, _), let .trailingData(f, _, _),
            let .headerLengthInvalid(f, _, _), let .unsupportedVersion(f, _, _):
            namedFile = f
        case let .badMagic(f, found):
            namedFile = f
            named = [found]
        case let .headerJSONInvalid(f, _, reason):
            namedFile = f
            named = [reason]
        case let .headerFieldInconsistent(f, field, value, _), let .invalidArgument(f, field, value, _):
            namedFile = f
            named = [field, value]
        }
        guard namedFile == file, text.hasPrefix(file + ": ") else { throw fail("does not name the file") }
        for part in named {
            guard !part.isEmpty, text.contains(part) else { throw fail("field or value missing") }
        }
    }

    /// Checks that a refused body's message names the body type or the field concerned.
    static func bodyError(_ error: RequestBodyError, kind: APIBody) throws(ContractViolation) {
        let message = error.message
        if let field = error.field {
            guard !field.isEmpty, message.contains("'\(field)'") || message.contains(field) else {
                throw ContractViolation(target: .apiBodies, message: "refusal of \(kind) names no field: \(message)")
            }
        } else {
            guard message.contains("malformed JSON for ") || kind == .workRequest else {
                throw ContractViolation(target: .apiBodies, message: "refusal of \(kind) names neither field nor type: \(message)")
            }
        }
    }
}
