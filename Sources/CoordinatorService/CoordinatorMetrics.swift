import Foundation
import Prometheus

/// The coordinator's Prometheus metrics, served on /metrics.
public final class CoordinatorMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    let datasetsSubmitted: Counter
    let replicasAssigned: Counter
    let resultsReported: Counter
    let unitsValidated: Counter
    let resultsInvalid: Counter
    let replicasReissued: Counter
    let datasetsCompleted: Counter

    public init() {
        datasetsSubmitted = registry.makeCounter(name: "xunxing_datasets_submitted_total", help: "Datasets accepted")
        replicasAssigned = registry.makeCounter(name: "xunxing_replicas_assigned_total", help: "Replicas handed to hosts")
        resultsReported = registry.makeCounter(name: "xunxing_results_reported_total", help: "Results uploaded by hosts")
        unitsValidated = registry.makeCounter(name: "xunxing_work_units_validated_total", help: "Work units with a canonical result")
        resultsInvalid = registry.makeCounter(name: "xunxing_results_invalid_total", help: "Results that disagreed with the canonical one")
        replicasReissued = registry.makeCounter(name: "xunxing_replicas_reissued_total", help: "Replicas lost or late and sent again")
        datasetsCompleted = registry.makeCounter(name: "xunxing_datasets_completed_total", help: "Datasets whose candidates are merged")
    }

    public func render() -> String { registry.emitToString() }
}
