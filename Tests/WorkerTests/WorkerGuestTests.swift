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

/// The worker as a guest on a volunteer's machine: settings that reach the running daemon, every
/// thread niced, status a volunteer can read, and work given back when it cannot be done. In the
/// serialized end-to-end suite (each test keeps both cores busy).
extension WorkerEndToEndTests {
    @Test("`config set` reaches the running daemon within seconds; a broken config.json is reported and changes nothing; SIGHUP rereads; every thread is niced; status says what it does")
    func settingsReachTheDaemon() async throws {
        try await CoordinatorFixture.with({ $0.trustThreshold = 1_000_000 }) { fixture in
            let astronomer = try await fixture.astronomer()
            let path = try fixture.simulatedObservation(samples: 1 << 15, seed: 21)
            _ = try await fixture.submitAndSplit(path, astronomer: astronomer, dmMax: 40)
            let machine = try await VolunteerMachine.attach(fixture, name: "desktop")
            func set(_ key: String, _ value: String) async throws {
                let (code, output) = try await WorkerProcess.run(["config", "set", "--state-dir", machine.state.path, key, value])
                #expect(code == 0, "config set \(key) \(value): \(output)")
            }
            // The file's CPU limit, not the command line's, so that changing the file changes it.
            try await set("cpu_limit_percent", "5")
            try await set("niceness", "17")
            let daemon = try WorkerProcess(
                ["run", "--state-dir", machine.state.path, "--cores", "1", "--speed", "1", "--fft-rigor", "estimate",
                 "--loop-interval", "0.1", "--buffer-seconds", "0", "--backoff-base", "0.2", "--backoff-cap", "1"],
                log: (machine.logDirectory as NSString).appendingPathComponent("daemon.log"))
            var status = try await machine.status()
            try await fixture.waitUntil(timeout: 30, "a search running") {
                status = try await machine.status()
                return status.tasks.contains { $0.state == "running" && $0.trialsDone > 0 }
            }
            #expect(status.cpuLimitPercent == 5)
            #expect(status.memoryLimitMB == max(256, Int(ProcessInfo.processInfo.physicalMemory >> 20) / 2))
            #expect(status.now?.contains { $0.hasPrefix("searching replica") } == true, "\(status.now ?? [])")
            // Every thread, including those made before the daemon set its priority, at the setting.
            let nices = threadNiceness(pid: daemon.process.processIdentifier)
            #expect(nices.count >= 4 && nices.allSatisfy { $0 == 17 }, "thread niceness: \(nices)")

            try await set("cpu_limit_percent", "7")
            try await fixture.waitUntil(timeout: 10, "the daemon to use the new CPU limit") {
                try await machine.status().cpuLimitPercent == 7
            }
            #expect(daemon.output.contains("settings changed: cpu_limit_percent: 5 -> 7"), "\(daemon.output.suffix(1500))")
            // A hand-edited file out of range: reported, the running settings kept.
            try #"{"cpu_limit_percent": 500, "speed": 1, "niceness": 17}"#.write(toFile: machine.state.configFile, atomically: true, encoding: .utf8)
            try await fixture.waitUntil(timeout: 10, "the broken file to be reported") {
                try await machine.status().lastError?.message.contains("cpu_limit_percent") == true
            }
            status = try await machine.status()
            #expect(status.cpuLimitPercent == 7 && status.running)
            #expect(status.lastError?.message.contains("500") == true, "\(status.lastError?.message ?? "-")")
            // SIGHUP rereads the file (it does not stop the daemon).
            // The new file looks like the old one to the file watcher (same inode, size and
            // modification time): only the signal can make the daemon read it.
            let configPath = machine.state.configFile
            var before = stat()
            try #require(stat(configPath, &before) == 0)
            let size = Int(before.st_size)
            let text = #"{"cpu_limit_percent": 9, "speed": 1, "niceness": 17}"#
            try #require(text.count <= size)
            let handle = try #require(FileHandle(forWritingAtPath: configPath))
            try handle.write(contentsOf: Data((text + String(repeating: " ", count: size - text.count)).utf8))
            try handle.close()
            var times = [before.st_atim, before.st_mtim]
            try #require(utimensat(AT_FDCWD, configPath, &times, 0) == 0)
            try await Task.sleep(for: .seconds(1))
            #expect(try await machine.status().cpuLimitPercent == 7, "the watcher saw the rewrite; SIGHUP would not be tested")
            daemon.signal(SIGHUP)
            try await fixture.waitUntil(timeout: 10, "SIGHUP to reread config.json") {
                try await machine.status().cpuLimitPercent == 9
            }
            #expect(daemon.process.isRunning)
            #expect(daemon.output.contains("SIGHUP: rereading config.json"))
            // A setting the running daemon cannot change says when it will.
            try await set("verify_tls", "false")
            try await fixture.waitUntil(timeout: 10, "the restart-only note") { daemon.output.contains("take effect when the worker restarts") }

            let signalled = Date()
            daemon.signal(SIGTERM)
            #expect(try await daemon.waitForExit(timeout: 10) == 0)
            #expect(Date().timeIntervalSince(signalled) < 5, "SIGTERM while searching took \(Date().timeIntervalSince(signalled)) s")
            // The last error stays visible after the daemon stopped.
            #expect(try await machine.status().lastError?.message.contains("cpu_limit_percent") == true)
        }
    }

    @Test("a full disk: each unit is given back to the coordinator at once (counted as disk_full), status says why, and other hosts finish the dataset")
    func diskFullGivesWorkBack() async throws {
        try await CoordinatorFixture.with({ $0.trustThreshold = 1_000_000 }) { fixture in
            let astronomer = try await fixture.astronomer()
            let path = try fixture.simulatedObservation(samples: 1 << 14, seed: 23)
            let dataset = try await fixture.submitAndSplit(path, astronomer: astronomer, dmMax: 30)
            let machine = try await VolunteerMachine.attach(fixture, name: "cramped")
            // Keep a petabyte free: no payload fits.
            let (code, output) = try await WorkerProcess.run(["config", "set", "--state-dir", machine.state.path, "disk_reserve_mb", "1000000000"])
            #expect(code == 0, "\(output)")
            let worker = try machine.run(["--buffer-seconds", "1000"])
            try await fixture.waitUntil(timeout: 30, "a unit given back") { worker.output.contains("gave up replica") }
            let partners = [try await fixture.host(name: "p1"), try await fixture.host(name: "p2")]
            async let first = partners[0].work()
            async let second = partners[1].work()
            _ = try await (first, second)
            try await Self.waitComplete(fixture, astronomer, dataset.id)
            try await Self.expectAllValidated(fixture, dataset: dataset.id)
            worker.signal(SIGTERM)
            _ = try await worker.waitForExit(timeout: 20)

            // Exactly one: after a payload did not fit, the worker asks for nothing for a while
            // (each unit sent meanwhile would only be given back).
            let gaveUp = worker.output.components(separatedBy: "gave up replica").count - 1
            #expect(gaveUp == 1 && worker.output.contains("disk full"), "\(worker.output.suffix(1500))")
            // Exactly the replicas it gave up are counted, and none of its replicas counted for anything.
            let metrics = try await onThread { try fixture.httpGet("/metrics") }
            #expect(metrics.contains("xunxing_replicas_abandoned_total{reason=\"disk_full\"} \(gaveUp)"),
                    "\(gaveUp) given up; \(metrics.split(separator: "\n").filter { $0.contains("abandoned") })")
            let host = try machine.state.loadHost().hostID
            let units = try await fixture.coordinator.store.read { try await $0.workUnits(dataset: dataset.id) }
            var mine: [ReplicaState] = []
            for unit in units {
                let replicas = try await fixture.coordinator.store.read { try await $0.replicas(workUnit: unit.id) }
                mine += replicas.filter { $0.hostId == host }.map(\.state)
            }
            #expect(mine.count == gaveUp && mine.allSatisfy { $0 == ReplicaState.lost }, "\(mine)")
            let status = try await machine.status()
            #expect(status.lastError?.message.contains("disk full") == true, "\(status.lastError?.message ?? "-")")
            #expect(status.lastError?.message.contains("disk_reserve_mb") == true)
            #expect(status.tasks.isEmpty)
        }
    }

    @Test("eight `config set` at once, each of another setting: every change is kept (read-change-write under a lock)")
    func concurrentConfigSets() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("config-race-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let changes = [("cores", "3"), ("buffer_seconds", "123"), ("cpu_limit_percent", "45"), ("in_use_idle_minutes", "7"),
                       ("niceness", "11"), ("max_tasks", "9"), ("disk_reserve_mb", "77"), ("memory_limit_mb", "999")]
        for round in 0..<3 {
            let state = root + "/state-\(round)"
            try await withThrowingTaskGroup(of: (Int32, String).self) { group in
                for (key, value) in changes {
                    group.addTask { try await WorkerProcess.run(["config", "set", "--state-dir", state, key, value]) }
                }
                for try await (code, output) in group { #expect(code == 0, "\(output)") }
            }
            let c = try StateDirectory(path: state).loadConfiguration()
            #expect(c.cores == 3 && c.bufferSeconds == 123 && c.cpuLimitPercent == 45 && c.inUseIdleMinutes == 7, "round \(round): \(c)")
            #expect(c.niceness == 11 && c.maxTasks == 9 && c.diskReserveMB == 77 && c.memoryLimitMB == 999, "round \(round): \(c)")
        }
    }
}

extension WorkerEndToEndTests {
    @Test("detach: held units given back at once (counted as detached), the host forgotten; refused while the daemon runs; other hosts finish the dataset")
    func detachGivesWorkBack() async throws {
        try await CoordinatorFixture.with({ $0.trustThreshold = 1_000_000 }) { fixture in
            let astronomer = try await fixture.astronomer()
            // Three small datasets: three units at least, so that the machine holds several.
            var datasets: [DatasetStatus] = []
            for seed in UInt64(27)...29 {
                datasets.append(try await fixture.submitAndSplit(
                    try fixture.simulatedObservation(samples: 1 << 14, seed: seed), astronomer: astronomer, dmMax: 30))
            }
            let machine = try await VolunteerMachine.attach(fixture, name: "leaving")
            // A slow search and a large buffer: several units held, one part-way.
            let daemon = try WorkerProcess(
                ["run", "--state-dir", machine.state.path, "--cores", "1", "--speed", "1", "--fft-rigor", "estimate",
                 "--loop-interval", "0.1", "--buffer-seconds", "100000", "--cpu-limit-percent", "5"],
                log: (machine.logDirectory as NSString).appendingPathComponent("daemon.log"))
            try await fixture.waitUntil(timeout: 30, "a unit part-way and more held") {
                machine.partialCheckpoint(atLeast: 1) != nil && ((try? machine.store.tasks().count) ?? 0) >= 2
            }
            let (busy, said) = try await WorkerProcess.run(["detach", "--state-dir", machine.state.path])
            #expect(busy != 0 && said.contains("another xunxing-worker is running"), "\(said)")
            daemon.signal(SIGTERM)
            #expect(try await daemon.waitForExit(timeout: 20) == 0)
            let held = try machine.store.tasks().count
            #expect(held >= 2, "units held: \(held)\n\(daemon.output.suffix(3000))")
            let host = try machine.state.loadHost().hostID

            let (code, output) = try await WorkerProcess.run(["detach", "--state-dir", machine.state.path])
            #expect(code == 0, "\(output)")
            #expect(output.contains("\(held) units given back"), "\(output)")
            #expect(!FileManager.default.fileExists(atPath: machine.state.hostFile))
            #expect(!FileManager.default.fileExists(atPath: machine.state.tasksDirectory))
            #expect(FileManager.default.fileExists(atPath: machine.state.configFile))
            let metrics = try await onThread { try fixture.httpGet("/metrics") }
            #expect(metrics.contains("xunxing_replicas_abandoned_total{reason=\"detached\"} \(held)"),
                    "\(metrics.split(separator: "\n").filter { $0.contains("abandoned") })")
            // Every replica it held is lost now, not waiting for a deadline.
            var mine: [ReplicaState] = []
            for dataset in datasets {
                for unit in try await fixture.coordinator.store.read({ try await $0.workUnits(dataset: dataset.id) }) {
                    mine += try await fixture.coordinator.store.read { try await $0.replicas(workUnit: unit.id) }
                        .filter { $0.hostId == host }.map(\.state)
                }
            }
            #expect(mine.filter { $0 == ReplicaState.lost }.count == held, "\(mine)")
            #expect(!mine.contains(ReplicaState.assigned) && !mine.contains(ReplicaState.acknowledged), "\(mine)")

            let partners = [try await fixture.host(name: "p1"), try await fixture.host(name: "p2")]
            async let first = partners[0].work()
            async let second = partners[1].work()
            _ = try await (first, second)
            for dataset in datasets {
                try await Self.waitComplete(fixture, astronomer, dataset.id)
                try await Self.expectAllValidated(fixture, dataset: dataset.id)
            }
            // Not attached any more: detach and status say how to attach.
            let (again, text) = try await WorkerProcess.run(["detach", "--state-dir", machine.state.path])
            #expect(again != 0 && text.contains("attach"), "\(text)")
        }
    }
}

extension WorkerEndToEndTests {
    @Test("SIGTERM while a spare core measures an FFTW plan: the worker exits 0 within 5 s; status said so while it did")
    func sigtermWhilePlanning() async throws {
        try await CoordinatorFixture.with({ $0.trustThreshold = 1_000_000 }) { fixture in
            let astronomer = try await fixture.astronomer()
            // Long series: a measured plan of 2^18 points takes seconds here.
            _ = try await fixture.submitAndSplit(
                try fixture.simulatedObservation(samples: 1 << 18, seed: 31), astronomer: astronomer, dmMax: 30)
            let machine = try await VolunteerMachine.attach(fixture, name: "fresh")
            let worker = try machine.runWith(
                ["--cores", "1", "--speed", "1", "--fft-rigor", "measure", "--loop-interval", "0.1", "--buffer-seconds", "0"], log: "fresh")
            var status = try await machine.status()
            try await fixture.waitUntil(timeout: 120, "a plan being measured") {
                status = try await machine.status()
                return status.now?.contains { $0.hasPrefix("measuring the FFTW plan") } == true
            }
            let signalled = Date()
            worker.signal(SIGTERM)
            #expect(try await worker.waitForExit(timeout: 30) == 0)
            let took = Date().timeIntervalSince(signalled)
            print("FIGURE SIGTERM while measuring a plan: exit after \(String(format: "%.2f", took)) s")
            #expect(took < 5, "SIGTERM while planning took \(took) s\n\(worker.output.suffix(1500))")
            #expect(worker.output.contains("stopped:"))
        }
    }

    @Test("a revoked host key: status says to attach again (with the command), and the worker backs off")
    func revokedKeySaysReattach() async throws {
        try await CoordinatorFixture.with({ $0.trustThreshold = 1_000_000 }) { fixture in
            let astronomer = try await fixture.astronomer()
            _ = try await fixture.submitAndSplit(
                try fixture.simulatedObservation(samples: 1 << 14, seed: 33), astronomer: astronomer, dmMax: 30)
            let machine = try await VolunteerMachine.attach(fixture, name: "revoked")
            let host = try machine.state.loadHost()
            try await onThread { try CoordinatorClient(baseURL: fixture.baseURL, secret: machine.accountKey).revokeHost(host.hostID) }
            let worker = try machine.run([])
            var status = try await machine.status()
            try await fixture.waitUntil(timeout: 30, "the refused key in status") {
                status = try await machine.status()
                return status.lastError?.message.contains("attach this machine again") == true
            }
            let message = status.lastError?.message ?? ""
            #expect(message.contains("xunxing-worker attach --coordinator \(fixture.baseURL)"), "\(message)")
            #expect(message.contains("--state-dir \(machine.state.path)"), "\(message)")
            #expect(status.backoff.failures > 0)
            worker.signal(SIGTERM)
            #expect(try await worker.waitForExit(timeout: 20) == 0)
        }
    }
}
