import Foundation
import Prometheus
import XunxingProtocol

/// The coordinator's Prometheus metrics, served on /metrics.
public final class CoordinatorMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    public let datasetsSubmitted: Counter
    public let replicasAssigned: Counter
    public let resultsReported: Counter
    public let unitsValidated: Counter
    public let resultsInvalid: Counter
    public let replicasReissued: Counter
    public let datasetsCompleted: Counter
    public let hoursCredited: Counter
    public let syncBatchesSent: Counter
    public let syncFailures: Counter
    public let syncPendingEntries: Gauge
    public let rateLimited: Counter
    public let resultsForged: Counter
    public let pagesRendered: Counter
    private let replicasAbandoned: [AbandonKind: Counter]
    public let resultsDecodedInWriter: Counter
    public let hoursReversed: Counter
    public let unitsReopened: Counter

    public init() {
        datasetsSubmitted = registry.makeCounter(name: "xunxing_datasets_submitted_total", help: "Datasets accepted")
        replicasAssigned = registry.makeCounter(name: "xunxing_replicas_assigned_total", help: "Replicas handed to hosts")
        resultsReported = registry.makeCounter(name: "xunxing_results_reported_total", help: "Results uploaded by hosts")
        unitsValidated = registry.makeCounter(name: "xunxing_work_units_validated_total", help: "Work units with a canonical result")
        resultsInvalid = registry.makeCounter(name: "xunxing_results_invalid_total", help: "Results that disagreed with the canonical one")
        replicasReissued = registry.makeCounter(name: "xunxing_replicas_reissued_total", help: "Replicas lost or late and sent again")
        datasetsCompleted = registry.makeCounter(name: "xunxing_datasets_completed_total", help: "Datasets whose candidates are merged")
        rateLimited = registry.makeCounter(name: "xunxing_requests_rate_limited_total", help: "Requests refused by a key's rate limit")
        resultsDecodedInWriter = registry.makeCounter(
            name: "xunxing_results_decoded_in_writer_total", help: "Stored results decoded inside the writer's transaction (one reported meanwhile)")
        var abandoned: [AbandonKind: Counter] = [:]
        for kind in AbandonKind.allCases {
            abandoned[kind] = registry.makeCounter(
                name: "xunxing_replicas_abandoned_total", labels: [("reason", kind.rawValue)],
                help: "Replicas their hosts gave up (reissued at once), by the kind of reason")
        }
        replicasAbandoned = abandoned
        pagesRendered = registry.makeCounter(name: "xunxing_pages_rendered_total", help: "Public web pages rendered (not served from the page cache)")
        resultsForged = registry.makeCounter(name: "xunxing_results_forged_total", help: "Results whose numbers the payload contradicts")
        hoursReversed = registry.makeCounter(name: "xunxing_charity_hours_reversed_total", help: "Charity hours taken back from hosts caught forging")
        unitsReopened = registry.makeCounter(name: "xunxing_work_units_reopened_total", help: "Validated units sent out again because a result they rested on was forged")
        hoursCredited = registry.makeCounter(name: "xunxing_charity_hours_credited_total", help: "Charity hours credited")
        syncBatchesSent = registry.makeCounter(name: "xunxing_profile_sync_batches_total", help: "Ledger batches acknowledged by the profile platform")
        syncFailures = registry.makeCounter(name: "xunxing_profile_sync_failures_total", help: "Failed pushes to the profile platform")
        syncPendingEntries = registry.makeGauge(name: "xunxing_profile_sync_pending_entries", help: "Ledger entries of linked volunteers not yet acknowledged")
    }

    /// Counts a replica its host gave up.
    public func replicaAbandoned(_ kind: AbandonKind) {
        replicasAbandoned[kind]?.increment()
    }

    public func render() -> String { registry.emitToString() }
}
