import CoordinatorStore
import Foundation

/// Checks a seeded dataset after a run, from the coordinator's database: every unit validated,
/// no accepted report lost, every valid result credited exactly once with the right hours.
public struct LoadAudit: Codable, Sendable {
    public var units: Int
    public var unitsValidated: Int
    public var unitsInError: Int
    public var validReplicas: Int
    public var ledgerCredits: Int
    public var ledgerDistinctReplicas: Int
    public var hoursCredited: Double
    public var hoursExpected: Double
    /// Accepted reports whose replica is not stored as reported, valid or invalid.
    public var lostReports: [String]
    /// Everything that is wrong; empty when the run lost nothing.
    public var problems: [String]

    public var passed: Bool { problems.isEmpty }

    /// Audits `dataset` against the reports a fleet had accepted.
    public static func run(store: any SQLStorage, dataset: String, unitCost: Double, accepted: [String: String],
                           expectComplete: Bool = true) async throws -> LoadAudit {
        try await store.read { tx in
            let counts = try await tx.ledgerAudit(dataset: dataset)
            let (units, validated, errors) = (counts.units, counts.validated, counts.errors)
            let states = counts.replicaStates.mapValues(\.rawValue)
            let valid = states.values.filter { $0 == ReplicaState.valid.rawValue }.count
            let (credits, distinct, hours) = (counts.credits, counts.distinctCreditedReplicas, counts.hoursCredited)
            let stored: Set<String> = [ReplicaState.reported.rawValue, ReplicaState.valid.rawValue, ReplicaState.invalid.rawValue]
            let lost = accepted.keys.filter { !stored.contains(states[$0] ?? "missing") }.sorted()

            var audit = LoadAudit(
                units: units, unitsValidated: validated, unitsInError: errors, validReplicas: valid, ledgerCredits: credits,
                ledgerDistinctReplicas: distinct, hoursCredited: hours, hoursExpected: Double(valid) * LedgerEntryRecord.quantized(unitCost / 3600),
                lostReports: lost, problems: [])
            if expectComplete && validated != units { audit.problems.append("\(units - validated) of \(units) units not validated (\(errors) in error)") }
            if !lost.isEmpty { audit.problems.append("\(lost.count) accepted reports not stored, e.g. \(lost.prefix(3))") }
            if credits != valid { audit.problems.append("\(credits) ledger credits for \(valid) valid results") }
            // A second credit for one replica is refused by the ledger's unique index (HoursTests tries it);
            // this count catches a schema that lost it.
            if distinct != credits { audit.problems.append("\(credits - distinct) results credited more than once") }
            if abs(hours - audit.hoursExpected) > 1e-6 * max(1, hours) {
                audit.problems.append("hours credited \(hours), expected \(audit.hoursExpected)")
            }
            return audit
        }
    }
}
