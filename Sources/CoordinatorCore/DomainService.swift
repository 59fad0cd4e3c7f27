import CoordinatorStore
import Logging
import PulsarSearch
import WorkUnits

/// What every service of the coordinator's domain needs, passed in rather than reached for: the
/// database, the settings, the presets, the metrics, the log and the clock.
public struct CoordinatorEnvironment: Sendable {
    public let configuration: CoordinatorConfiguration
    public let store: any SQLStorage
    public let presets: [String: WorkUnitPreset]
    public let metrics: CoordinatorMetrics
    public let logger: Logger
    public let clock: any CoordinatorClock
    /// FFTW plans for the coordinator's own folding and result audits.
    public let planner: FFTPlanner
    /// The catalogue merged candidates are checked against (nil: none configured).
    public let knownPulsars: KnownPulsarMatcher?
    /// Stored results already decoded, by replica (each is decoded once, not once per use).
    let decodedResults = DecodedResults()

    public init(
        configuration: CoordinatorConfiguration, store: any SQLStorage, presets: [String: WorkUnitPreset],
        metrics: CoordinatorMetrics = CoordinatorMetrics(), logger: Logger, clock: any CoordinatorClock = SystemClock(),
        knownPulsars: KnownPulsarMatcher? = nil
    ) {
        self.knownPulsars = knownPulsars
        self.configuration = configuration
        self.store = store
        self.presets = presets
        self.metrics = metrics
        self.logger = logger
        self.clock = clock
        self.planner = FFTPlanner(rigor: .estimate)
    }
}

/// A service of the domain: one role, as BOINC has one daemon per role. Its environment's parts
/// read as its own.
protocol DomainService: Sendable {
    var environment: CoordinatorEnvironment { get }
}

extension DomainService {
    var configuration: CoordinatorConfiguration { environment.configuration }
    var store: any SQLStorage { environment.store }
    var presets: [String: WorkUnitPreset] { environment.presets }
    var metrics: CoordinatorMetrics { environment.metrics }
    var logger: Logger { environment.logger }
    var clock: any CoordinatorClock { environment.clock }
    var decodedResults: DecodedResults { environment.decodedResults }

    /// Runs `step` on each dataset in turn. A dataset whose step fails is logged as one that
    /// "could not be `done`" and marked failed with the reason (after `errorPrefix`), and the
    /// others go on; a cancellation (a shutdown) is not the dataset's fault: it stops the pass and
    /// leaves the dataset for the next one.
    func eachDataset(
        _ datasets: [DatasetRecord], done: String, errorPrefix: String = "", _ step: (DatasetRecord) async throws -> Void
    ) async throws {
        for dataset in datasets {
            do {
                try await step(dataset)
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                logger.error("dataset \(dataset.id) could not be \(done): \(error)")
                try await store.transaction {
                    try await $0.setDatasetState(id: dataset.id, state: DatasetState.failed, error: errorPrefix + "\(error)")
                }
            }
        }
    }
}
