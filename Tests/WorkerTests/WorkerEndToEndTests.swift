import CoordinatorCore
import CoordinatorService
import CoordinatorStore
import CoordinatorTestSupport
import Foundation
import Testing
import Worker
import XunxingClient
import XunxingProtocol
import XunxingSupport

/// Real `xunxing-worker` processes against an in-process coordinator on loopback. Serialized: each
/// test keeps both cores busy.
@Suite("xunxing-worker processes", .serialized)
struct WorkerEndToEndTests {
    /// Every unit of the dataset validated by two different hosts.
    static func expectAllValidated(_ fixture: CoordinatorFixture, dataset: String) async throws {
        let units = try await fixture.coordinator.store.transaction { try await $0.workUnits(dataset: dataset) }
        #expect(!units.isEmpty)
        for unit in units {
            let replicas = try await fixture.coordinator.store.transaction { try await $0.replicas(workUnit: unit.id) }
            let valid = replicas.filter { $0.state == ReplicaState.valid }
            #expect(valid.count == 2, "unit \(unit.seq): \(replicas.map(\.state))")
            #expect(Set(valid.compactMap(\.hostId)).count == 2)
        }
    }

    static func waitComplete(_ fixture: CoordinatorFixture, _ astronomer: CoordinatorClient, _ dataset: String) async throws {
        try await fixture.waitUntil(timeout: 60, "dataset complete") {
            try await onThread { try astronomer.dataset(dataset).state } == "complete"
        }
    }

    @Test("tutorial.fil searched by two xunxing-worker processes: all validated by two hosts, the 250 ms pulsar on top")
    func twoWorkersEndToEnd() async throws {
        try await CoordinatorFixture.with({ $0.trustThreshold = 1_000_000 }) { fixture in
            let astronomer = try await fixture.astronomer()
            let file = CoordinatorFixture.dataPath("tutorial.fil")
            let submitted = try await onThread {
                try astronomer.submit(file: file, name: "tutorial", preset: "tiny", dmMax: nil, accelMax: nil, sha256: nil)
            }
            let alpha = try await VolunteerMachine.attach(fixture, name: "alpha")
            let beta = try await VolunteerMachine.attach(fixture, name: "beta")
            // alpha plans as volunteers' workers do (measure, deferred): quick plans first.
            let a = try alpha.run(["--exit-when-idle", "--fft-rigor", "measure"])
            let b = try beta.run(["--exit-when-idle"])
            // Exit timeouts here only guard against a hang. Alone this test takes about 30 s; beside
            // the whole suite (load average 17 on 2 cores) 164 s, the in-process coordinator
            // answering on a concurrency pool the other suites keep busy.
            let codeA = try await a.waitForExit(timeout: 600)
            let codeB = try await b.waitForExit(timeout: 90)
            #expect(codeA == 0 && codeB == 0, "alpha:\n\(a.output.suffix(2000))\nbeta:\n\(b.output.suffix(2000))")
            #expect(a.output.contains("finished replica") && b.output.contains("finished replica"))
            // alpha's first unit ran on quick plans; its measured plans came after, into its wisdom.
            let firstUnit = try #require(a.output.range(of: "finished replica"))
            let measured = try #require(a.output.range(of: "FFTW plan for"), "\(a.output.suffix(2000))")
            #expect(firstUnit.lowerBound < measured.lowerBound)
            #expect(FileManager.default.fileExists(atPath: alpha.state.wisdomFile))

            try await Self.waitComplete(fixture, astronomer, submitted.id)
            let status = try await onThread { try astronomer.dataset(submitted.id) }
            #expect(status.units.total > 3 && status.units.validated == status.units.total)
            try await Self.expectAllValidated(fixture, dataset: submitted.id)
            let top = try #require(try await onThread { try astronomer.candidates(submitted.id) }.first)
            #expect(abs(top.periodS - 0.25) / 0.25 < 5e-4, "top: P=\(top.periodS) DM=\(top.dm)")
            #expect(abs(top.dm - 30) <= 5, "top: P=\(top.periodS) DM=\(top.dm)")
            // Nothing left behind in the state directories.
            #expect(try alpha.store.tasks().isEmpty && alpha.store.pendingResults().isEmpty)
            #expect(FileManager.default.fileExists(atPath: alpha.state.statusFile))
        }
    }

    @Test("`config set` in a loop and a second `run` against a daemon mid-search: the second run is refused by the lock, and every unit completes and validates")
    func otherCommandsDamageNothing() async throws {
        try await CoordinatorFixture.with({ $0.trustThreshold = 1_000_000 }) { fixture in
            let astronomer = try await fixture.astronomer()
            let path = try fixture.simulatedObservation(samples: 1 << 15, seed: 5)
            let dataset = try await fixture.submitAndSplit(path, astronomer: astronomer, dmMax: 40)
            let machine = try await VolunteerMachine.attach(fixture, name: "busy")
            // A 5% CPU limit stretches each unit over seconds: checkpoints are written all along.
            let daemon = try machine.run(["--cpu-limit", "5"], log: "daemon")
            try await fixture.waitUntil(timeout: 30, "a checkpoint part-way through a unit") { machine.partialCheckpoint(atLeast: 1) != nil }
            var refusedRuns = 0
            for i in 0..<60 {
                let (code, output) = try await WorkerProcess.run(
                    ["config", "set", "--state-dir", machine.state.path, "buffer_seconds", String(60 + i)])
                #expect(code == 0, "config set: \(output)")
                if i % 20 == 0 {
                    let second = try machine.run(["--exit-when-idle"], log: "second-\(i)")
                    let status = try await second.waitForExit(timeout: 60)
                    #expect(status != 0 && second.output.contains("another"), "a second run: \(second.output.suffix(500))")
                    if status != 0 { refusedRuns += 1 }
                }
            }
            #expect(refusedRuns == 3)
            #expect(!daemon.output.contains("cannot rename") && !daemon.output.contains("giving it up"), "\(daemon.output.suffix(2000))")
            // The daemon finishes at full speed with a partner, and every unit validates.
            daemon.signal(SIGTERM)
            _ = try await daemon.waitForExit(timeout: 60)
            let other = try await fixture.host(name: "partner")
            async let partnerOutcomes = other.work()
            let last = try machine.run(["--exit-when-idle"], log: "last")
            #expect(try await last.waitForExit(timeout: 180) == 0, "\(last.output.suffix(2000))")
            _ = try await partnerOutcomes
            #expect(!(daemon.output + last.output).contains("giving it up"))
            try await Self.waitComplete(fixture, astronomer, dataset.id)
            try await Self.expectAllValidated(fixture, dataset: dataset.id)
        }
    }

    @Test("`run` before `attach` says how to attach at once (no speed benchmark first); a failed first `attach` leaves no state directory")
    func notAttachedYet() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("unattached-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let started = Date()
        let (code, output) = try await WorkerProcess.run(["run", "--state-dir", root + "/state"])
        #expect(code != 0 && output.contains("attach") && !output.contains("measured speed"), "\(output)")
        #expect(Date().timeIntervalSince(started) < 10)
        let (failed, said) = try await WorkerProcess.run([
            "attach", "--coordinator", "http://127.0.0.1:1", "--account-key", "xxvol_nobody", "--state-dir", root + "/fresh",
        ])
        #expect(failed != 0, "\(said)")
        #expect(!FileManager.default.fileExists(atPath: root + "/fresh"), "an empty state directory was left: \(said)")
    }

    @Test("kill -9 in the middle of a unit: the restarted worker resumes from its checkpoint")
    func killedWorkerResumes() async throws {
        try await CoordinatorFixture.with({ $0.trustThreshold = 1_000_000 }) { fixture in
            let astronomer = try await fixture.astronomer()
            let path = try fixture.simulatedObservation(samples: 1 << 15, seed: 3)
            let dataset = try await fixture.submitAndSplit(path, astronomer: astronomer, dmMax: 40)
            let machine = try await VolunteerMachine.attach(fixture, name: "killed")
            // A 3% CPU limit stretches a unit over seconds.
            let first = try machine.run(["--cpu-limit", "3"], log: "first")
            var partial: (replica: String, checkpoint: Checkpoint)?
            try await fixture.waitUntil(timeout: 30, "a checkpoint part-way through a unit") {
                partial = machine.partialCheckpoint(atLeast: 3)
                return partial != nil
            }
            first.signal(SIGKILL)
            _ = try await first.waitForExit(timeout: 10)
            let (replica, before) = try #require(partial)
            // The checkpoint on disk is whole (atomic writes) and at least as far as seen.
            let after = try #require(try machine.store.checkpoint(replica))
            #expect(after.nextTrial >= before.nextTrial && after.nextTrial > 0)

            let other = try await fixture.host(name: "partner")
            async let partnerOutcomes = other.work()
            let second = try machine.run(["--exit-when-idle"], log: "second")
            let code = try await second.waitForExit(timeout: 180)
            _ = try await partnerOutcomes
            #expect(code == 0, "\(second.output.suffix(2000))")
            let resumed = second.output.split(separator: "\n").first { $0.contains("resuming replica \(replica) at trial") }
            let line = try #require(resumed, "no resume line in:\n\(second.output.suffix(2000))")
            let words = line.split(separator: " ")
            let at = words.firstIndex(of: "trial").flatMap { Int(words[$0 + 1]) } ?? -1
            #expect(at >= after.nextTrial, "\(line)")
            #expect(!second.output.contains("starting replica \(replica)"))
            try await Self.waitComplete(fixture, astronomer, dataset.id)
            try await Self.expectAllValidated(fixture, dataset: dataset.id)
        }
    }

    @Test("coordinator away: finished results stay on disk with growing backoff and upload once it is back")
    func coordinatorAway() async throws {
        try await CoordinatorFixture.with({ $0.trustThreshold = 1_000_000 }) { fixture in
            let astronomer = try await fixture.astronomer()
            let path = try fixture.simulatedObservation(samples: 1 << 15, seed: 5)
            let dataset = try await fixture.submitAndSplit(path, astronomer: astronomer, dmMax: 40)
            let machine = try await VolunteerMachine.attach(fixture, name: "patient")
            let worker = try machine.run(["--exit-when-idle", "--cpu-limit", "5"])
            try await fixture.waitUntil(timeout: 30, "a unit part-way") { machine.partialCheckpoint() != nil }
            await fixture.stopServer()

            try await fixture.waitUntil(timeout: 40, "a result held on disk and a growing backoff") {
                let held = try machine.store.pendingResults()
                let status = try await machine.status()
                return !held.isEmpty && status.backoff.failures >= 3
            }
            let away = try await machine.status()
            #expect(away.running)
            #expect(!away.pendingUploads.isEmpty)
            #expect(away.backoff.failures >= 3 && away.backoff.lastError != nil)
            #expect(away.backoff.boundSeconds <= 1.0 + 1e-9 && away.backoff.delaySeconds <= away.backoff.boundSeconds)
            // The volunteer's hours were read (GET /api/v1/hosts/me) while the coordinator was up,
            // and the last known figure stays on show while it is away.
            #expect(away.hours == 0)
            for task in away.tasks {
                #expect((0...1).contains(task.progress))
            }
            let heldReplicas = Set(try machine.store.pendingResults().map(\.replicaID))

            try await fixture.restartServer()
            let partner = try await fixture.host(name: "partner")
            async let partnerOutcomes = partner.work()
            let code = try await worker.waitForExit(timeout: 180)
            _ = try await partnerOutcomes
            #expect(code == 0, "\(worker.output.suffix(2000))")
            #expect(try machine.store.pendingResults().isEmpty)
            for replica in heldReplicas {
                #expect(worker.output.contains("uploaded the result of replica \(replica)"))
            }
            try await Self.waitComplete(fixture, astronomer, dataset.id)
            try await Self.expectAllValidated(fixture, dataset: dataset.id)
        }
    }

    /// `verified`: the damage happens after the worker verified the payload (found before the
    /// search starts) or during the download (found on verification; the full-size file must not
    /// be "resumed").
    @Test("a corrupted payload is detected by its SHA-256, deleted and downloaded again", arguments: [true, false])
    func corruptedPayload(verified: Bool) async throws {
        try await CoordinatorFixture.with({ $0.trustThreshold = 1_000_000 }) { fixture in
            let astronomer = try await fixture.astronomer()
            let path = try fixture.simulatedObservation(samples: 1 << 14, seed: 7)
            let dataset = try await fixture.submitAndSplit(path, astronomer: astronomer, dmMax: 30)
            let machine = try await VolunteerMachine.attach(fixture, name: "corrupt")
            // Take a unit as the worker would, then damage the stored payload while it is stopped.
            let host = try machine.state.loadHost()
            let store = machine.store
            let replica = try await onThread { () -> String in
                let client = CoordinatorClient(baseURL: host.coordinatorURL, secret: host.hostKey)
                let work = try client.requestWork(WorkRequest(cores: 1, memoryMB: 1024, speed: 1, seconds: 1e-6))
                let assignment = try #require(work.assignments.first)
                try client.acknowledge(replica: assignment.replicaID)
                try store.save(TaskRecord(assignment: assignment, acknowledged: true, payloadVerified: verified))
                let payload = store.payloadPath(assignment.replicaID)
                try client.downloadPayload(assignment, to: payload)
                var bytes = try Data(contentsOf: URL(fileURLWithPath: payload))
                bytes[bytes.count / 2] ^= 0x5A
                try bytes.write(to: URL(fileURLWithPath: payload))
                return assignment.replicaID
            }
            let partner = try await fixture.host(name: "partner")
            async let partnerOutcomes = partner.work()
            let worker = try machine.run(["--exit-when-idle"])
            let code = try await worker.waitForExit(timeout: 180)
            _ = try await partnerOutcomes
            #expect(code == 0, "\(worker.output.suffix(2000))")
            let log = worker.output
            #expect(log.contains("checksum mismatch") && log.contains("replica \(replica)"), "\(log.suffix(2000))")
            #expect(log.contains("payload of replica \(replica) downloaded and verified"))
            #expect(log.contains("uploaded the result of replica \(replica)"))
            try await Self.waitComplete(fixture, astronomer, dataset.id)
            try await Self.expectAllValidated(fixture, dataset: dataset.id)
        }
    }

    @Test("SIGTERM: the worker checkpoints and exits 0 within a few seconds")
    func sigtermStopsCleanly() async throws {
        try await CoordinatorFixture.with({ $0.trustThreshold = 1_000_000 }) { fixture in
            let astronomer = try await fixture.astronomer()
            let path = try fixture.simulatedObservation(samples: 1 << 14, seed: 9)
            _ = try await fixture.submitAndSplit(path, astronomer: astronomer, dmMax: 30)
            let machine = try await VolunteerMachine.attach(fixture, name: "polite")
            let worker = try machine.run(["--cpu-limit", "2"])
            try await fixture.waitUntil(timeout: 30, "a unit part-way") { machine.partialCheckpoint() != nil }
            var live: WorkerStatus?
            try await fixture.waitUntil(timeout: 10, "status showing a running task") {
                live = try await machine.status()
                return live?.tasks.contains { $0.state == "running" && $0.progress > 0 } == true
            }
            #expect(live?.running == true)
            let running = try #require(live?.tasks.first { $0.state == "running" })
            #expect(running.progress > 0 && running.progress < 1)
            #expect((running.secondsLeft ?? -1) > 0)
            let signalled = Date()
            worker.signal(SIGTERM)
            let code = try await worker.waitForExit(timeout: 10)
            #expect(code == 0)
            #expect(Date().timeIntervalSince(signalled) < 8)  // a few seconds, with room for a loaded CI machine
            #expect(worker.output.contains("checkpoint written"))
            #expect(machine.partialCheckpoint() != nil)
            let stopped = try await machine.status()
            #expect(!stopped.running)
        }
    }
    @Test("on battery (a fake /sys set with `config set sys_root`): searches wait, and run once on mains")
    func pausesOnBattery() async throws {
        try await CoordinatorFixture.with({ $0.trustThreshold = 1_000_000 }) { fixture in
            let astronomer = try await fixture.astronomer()
            let path = try fixture.simulatedObservation(samples: 1 << 14, seed: 11)
            let dataset = try await fixture.submitAndSplit(path, astronomer: astronomer, dmMax: 30)
            let machine = try await VolunteerMachine.attach(fixture, name: "laptop")
            let sys = try FakeTree()
            defer { sys.remove() }
            try sys.write("class/power_supply/AC/type", "Mains\n")
            try sys.write("class/power_supply/AC/online", "0\n")
            try sys.write("class/power_supply/BAT0/type", "Battery\n")
            try sys.write("class/power_supply/BAT0/status", "Discharging\n")
            let (code, output) = try await WorkerProcess.run(["config", "set", "sys_root", sys.root, "--state-dir", machine.state.path])
            #expect(code == 0, "\(output)")

            let worker = try machine.run(["--exit-when-idle"])
            try await fixture.waitUntil(timeout: 20, "the worker to hold a verified task, paused") {
                let status = try await machine.status()
                return status.pausedReason == "on battery" && status.tasks.contains { $0.state == "ready" }
            }
            try await Task.sleep(for: .milliseconds(500))
            let paused = try await machine.status()
            #expect(paused.tasks.allSatisfy { $0.progress == 0 && $0.state != "running" })
            try sys.write("class/power_supply/AC/online", "1\n")
            try sys.write("class/power_supply/BAT0/status", "Charging\n")

            let partner = try await fixture.host(name: "partner")
            async let partnerOutcomes = partner.work()
            let exit = try await worker.waitForExit(timeout: 120)
            _ = try await partnerOutcomes
            #expect(exit == 0, "\(worker.output.suffix(2000))")
            #expect(worker.output.contains("pausing searches: on battery") && worker.output.contains("resuming searches"))
            try await Self.waitComplete(fixture, astronomer, dataset.id)
            try await Self.expectAllValidated(fixture, dataset: dataset.id)
        }
    }
}
