import Foundation
import Logging
import PulsarSearch
import WorkUnits
import XunxingProtocol
import XunxingSupport

/// Searches one task on its own thread: verifies the payload, resumes from the checkpoint, writes
/// a checkpoint after every trial, honours the CPU limit (as set now: it may change while it runs)
/// and pauses, and on completion stores the result for upload. Stops after the current trial when
/// `halt` is set (the daemon stops, or has fewer cores to give).
final class SearchRunner: @unchecked Sendable {
    enum Outcome: Sendable, Equatable {
        case running, finished, stopped, corruptPayload, failed(String)
    }

    let record: TaskRecord
    let store: TaskStore
    let planner: FFTPlanner
    let shared: Locked<DaemonState>
    let logger: Logger
    let software: String
    /// Set to stop this search at its next checkpoint.
    let halt = StopFlag()
    let startedAt = Date()
    private let outcomeBox = Locked<Outcome>(.running)

    init(record: TaskRecord, store: TaskStore, planner: FFTPlanner, settings: RunSettings, shared: Locked<DaemonState>,
         logger: Logger) {
        self.record = record
        self.store = store
        self.planner = planner
        self.shared = shared
        self.logger = logger
        self.software = settings.software
    }

    /// The CPU limit in force now.
    var dutyCycle: DutyCycle { DutyCycle(limitPercent: shared.with { $0.settings.configuration.cpuLimitPercent }) }

    var replica: String { record.replicaID }
    var outcome: Outcome { outcomeBox.current }

    func start() {
        startThread(name: "search \(replica)") { [self] in
            let result = run()
            shared.with { _ = $0.live.removeValue(forKey: replica) }
            outcomeBox.with { $0 = result }
        }
    }

    func run() -> Outcome {
        let path = store.payloadPath(replica)
        do {
            try PayloadChecksum.verify(path: path, expected: record.assignment.payloadSHA256)
        } catch let error as WorkerError {
            logger.warning("\(error.description) (replica \(replica)); deleting the payload and downloading it again")
            unlink(path)
            var updated = record
            updated.payloadVerified = false
            updated.checksumFailures += 1
            try? store.save(updated)
            return .corruptPayload
        } catch {
            return .failed("\(error)")
        }
        do {
            return try search(path: path)
        } catch {
            logger.error("replica \(replica): search failed: \(error)")
            return .failed("\(error)")
        }
    }

    private func search(path: String) throws -> Outcome {
        shared.with { $0.live[replica] = LiveProgress(trialsDone: 0, trialCount: 0, startedAtTrial: 0, startedAt: Date(), planning: true) }
        let executor = try WorkUnitExecutor(payload: path, planner: planner)
        let count = executor.trialCount
        if halt.isSet { return .stopped }
        var checkpoint = try store.checkpoint(replica)
        if let c = checkpoint, c.trialCount != count || c.nextTrial > count || c.nextTrial < 0 {
            logger.warning("replica \(replica): checkpoint does not fit the payload (\(c.nextTrial)/\(c.trialCount) vs \(count) trials); starting again")
            checkpoint = nil
        }
        var state = checkpoint ?? Checkpoint(nextTrial: 0, trialCount: count, cpuSeconds: 0, elapsedSeconds: 0)
        let logPath = store.trialLogPath(replica)
        var log: TrialLog
        var outcomes: [TrialOutcome]
        do {
            guard state.loggedTrials == state.nextTrial else {
                throw WorkerError.invalidStateFile(
                    path: logPath, field: "", reason: "the checkpoint logs \(state.loggedTrials) trials of the \(state.nextTrial) searched")
            }
            (log, outcomes) = try TrialLog.open(path: logPath, validBytes: state.logBytes, expectedCount: state.loggedTrials)
        } catch {
            logger.warning("replica \(replica): \(error); starting again")
            state = Checkpoint(nextTrial: 0, trialCount: count, cpuSeconds: 0, elapsedSeconds: 0)
            (log, outcomes) = try TrialLog.open(path: logPath, validBytes: 0, expectedCount: 0)
        }
        if state.nextTrial > 0 {
            state.resumes += 1
            logger.notice("resuming replica \(replica) at trial \(state.nextTrial) of \(count)")
        } else {
            logger.info("starting replica \(replica): \(count) trials")
        }
        let startedAt = Date()
        let firstTrial = state.nextTrial
        shared.with { $0.live[replica] = LiveProgress(trialsDone: firstTrial, trialCount: count, startedAtTrial: firstTrial, startedAt: startedAt) }

        var cpuMark = CPUClock.threadSeconds()
        var wallMark = Date()
        var activeWall = 0.0
        var saveError: Error?
        let completed = executor.run(from: state.nextTrial) { outcome in
            let next = outcome.trial + 1
            let cpuNow = CPUClock.threadSeconds()
            let busy = cpuNow - cpuMark
            let wallNow = Date()
            state.cpuSeconds += busy
            state.elapsedSeconds += wallNow.timeIntervalSince(wallMark)
            activeWall += wallNow.timeIntervalSince(wallMark)
            state.nextTrial = next
            state.updatedAt = wallNow
            do {
                // The trial's outcome reaches the disk before the checkpoint that counts it.
                try log.append([outcome])
                outcomes.append(outcome)
                state.loggedTrials = log.count
                state.logBytes = log.bytes
                try store.saveCheckpoint(state, replica: replica)
            } catch {
                saveError = error
                return false
            }
            let done = next - firstTrial
            let dutyCycle = self.dutyCycle
            let perTrial = dutyCycle.wallSeconds(forCPUSeconds: activeWall) / Double(max(1, done))
            shared.with { $0.live[replica] = LiveProgress(
                trialsDone: next, trialCount: count, startedAtTrial: firstTrial, startedAt: startedAt, secondsPerTrial: perTrial) }
            if halt.isSet { return false }
            // The CPU limit: rest in proportion to the work just done.
            if halt.wait(seconds: dutyCycle.rest(afterBusy: busy)) { return false }
            // Paused (in use, on battery, too hot): wait here; the checkpoint is already written.
            while shared.with({ $0.pauseReason }) != nil {
                if halt.wait(seconds: 0.25) { return false }
            }
            cpuMark = CPUClock.threadSeconds()
            wallMark = Date()
            return true
        }
        if let saveError { throw saveError }
        guard completed == count else {
            logger.info("replica \(replica): stopped after trial \(completed) of \(count); checkpoint written")
            return .stopped
        }
        let result = TrialOutcome.result(
            of: outcomes, workUnitID: record.assignment.workUnitID, cpuSeconds: state.cpuSeconds,
            elapsedSeconds: state.elapsedSeconds, seriesSearched: completed, software: software,
            singlePulse: executor.header.singlePulse)
        try store.finish(PendingResult(replicaID: replica, result: result))
        try? planner.saveWisdom()
        logger.info("finished replica \(replica): \(result.candidates.count) candidates, \(String(format: "%.2f", state.cpuSeconds)) CPU s")
        return .finished
    }
}
