import CoordinatorTestSupport
import Foundation
import PulsarSearch
import Testing
import WorkUnits
@testable import Worker
import XunxingProtocol
import XunxingSupport

@Suite("State directory")
struct StateTests {
    static func temporaryState() throws -> StateDirectory {
        let state = StateDirectory(path: FileManager.default.temporaryDirectory.appendingPathComponent("state-\(UUID().uuidString)").path)
        try state.prepare()
        return state
    }

    static func assignment(_ replica: String, cost: Double = 10) -> Assignment {
        Assignment(replicaID: replica, workUnitID: "wu-\(replica)", payloadURL: "/api/v1/workunits/x/payload",
                   payloadSHA256: String(repeating: "0", count: 64), payloadSize: 100, estimatedCost: cost,
                   deadline: Date(timeIntervalSince1970: 2_000_000_000))
    }

    @Test("atomic writes replace whole files with the asked mode and leave no temporary files")
    func atomicWrites() throws {
        let state = try Self.temporaryState()
        defer { try? FileManager.default.removeItem(atPath: state.path) }
        let host = HostIdentity(coordinatorURL: "http://127.0.0.1:1", hostID: "h1", hostKey: "secret", name: "box",
                                attachedAt: Date(timeIntervalSince1970: 1_800_000_000.25))
        try state.saveHost(host)
        try state.saveHost(host)
        #expect(try state.loadHost() == host)
        let attributes = try FileManager.default.attributesOfItem(atPath: state.hostFile)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        try AtomicFile.write(Data("one".utf8), to: state.path + "/x")
        try AtomicFile.write(Data("two".utf8), to: state.path + "/x")
        #expect(FileManager.default.contents(atPath: state.path + "/x") == Data("two".utf8))
        let names = try FileManager.default.contentsOfDirectory(atPath: state.path)
        #expect(!names.contains { $0.contains(".tmp-") }, "\(names)")
        // A leftover of a process that has exited is removed when the directory is prepared; the
        // temporary files of live processes (this one, a running daemon) are left alone.
        let exited = Process()
        exited.executableURL = URL(fileURLWithPath: "/bin/true")
        try exited.run()
        exited.waitUntilExit()
        let dead = state.path + "/status.json.tmp-\(exited.processIdentifier)-2"
        let mine = state.path + "/checkpoint.json.tmp-\(getpid())-3"
        let sleeper = Process()
        sleeper.executableURL = URL(fileURLWithPath: "/bin/sleep")
        sleeper.arguments = ["30"]
        try sleeper.run()
        defer { sleeper.terminate() }
        let daemons = state.path + "/config.json.tmp-\(sleeper.processIdentifier)-4"
        for path in [dead, mine, daemons] { _ = FileManager.default.createFile(atPath: path, contents: Data()) }
        try state.prepare()
        #expect(!FileManager.default.fileExists(atPath: dead), "a dead process's leftover stays")
        #expect(FileManager.default.fileExists(atPath: mine) && FileManager.default.fileExists(atPath: daemons), "a live process's file was removed")
        for path in [mine, daemons] { try FileManager.default.removeItem(atPath: path) }
        // A damaged file is reported with its path.
        try Data("{\"host_id\": 3}".utf8).write(to: URL(fileURLWithPath: state.hostFile))
        #expect(throws: WorkerError.self) { try state.loadHost() }
        do {
            _ = try state.loadHost()
        } catch let error as WorkerError {
            #expect(error.description.contains(state.hostFile))
        }
    }

    @Test("reading a file another process is creating: absent or whole, never an error; a directory is an error naming it")
    func readWhileCreated() async throws {
        let state = try Self.temporaryState()
        defer { try? FileManager.default.removeItem(atPath: state.path) }
        let path = state.path + "/status.json"
        let body = (0..<2_000).map { "line \($0)" }
        // The race runs on threads of its own: a reader spinning on the concurrency pool would
        // starve the in-process servers of the suites running beside this one.
        let (errors, whole) = try await onThread { () throws -> ([String], Int) in
            var errors: [String] = []
            var whole = 0
            for _ in 0..<200 {
                unlink(path)
                let written = DispatchSemaphore(value: 0)
                let failure = Locked<(any Error)?>(nil)
                let done = Locked(false)
                startThread(name: "test-writer") {
                    do { try AtomicFile.writeJSON(body, to: path) } catch { failure.with { $0 = error } }
                    done.with { $0 = true }
                    written.signal()
                }
                var seen: [String]?
                // Until the writer is done (a failed write ends the wait too), then once more.
                var finished = false
                while seen == nil && !finished {
                    finished = done.current
                    do {
                        seen = try AtomicFile.readJSON([String].self, from: path)
                    } catch {
                        errors.append("\(error)")
                        break
                    }
                    if seen == nil { sched_yield() }
                }
                written.wait()
                if let error = failure.current { throw error }
                if seen == body { whole += 1 }
            }
            return (errors, whole)
        }
        #expect(errors.count == 0, "\(errors.prefix(3))")
        #expect(whole == 200 - errors.count)
        #expect(try AtomicFile.read(state.path + "/absent") == nil)
        #expect(throws: WorkerError.self) { _ = try AtomicFile.read(state.path) }
        do {
            _ = try AtomicFile.read(state.path)
        } catch let error as WorkerError {
            #expect(error.description.contains(state.path))
        }
    }

    @Test("not attached: the error says how to attach")
    func notAttached() throws {
        let state = try Self.temporaryState()
        defer { try? FileManager.default.removeItem(atPath: state.path) }
        #expect(throws: WorkerError.notAttached(stateDirectory: state.path)) { try state.loadHost() }
        #expect(WorkerError.notAttached(stateDirectory: "/s").description.contains("xunxing-worker attach"))
    }

    @Test("configuration: missing fields take defaults, bad values name the field and value, set() parses")
    func configuration() throws {
        let state = try Self.temporaryState()
        defer { try? FileManager.default.removeItem(atPath: state.path) }
        try Data("{\"cores\": 3, \"cpu_limit_percent\": 40}".utf8).write(to: URL(fileURLWithPath: state.configFile))
        let loaded = try state.loadConfiguration()
        #expect(loaded.cores == 3 && loaded.cpuLimitPercent == 40 && loaded.bufferSeconds == WorkerConfiguration().bufferSeconds)
        #expect(WorkerConfiguration().effectiveCores(available: 4) == 3 && WorkerConfiguration().effectiveCores(available: 1) == 1)
        try Data("{\"cpu_limit_percent\": 0}".utf8).write(to: URL(fileURLWithPath: state.configFile))
        do {
            _ = try state.loadConfiguration()
            Issue.record("accepted cpu_limit_percent 0")
        } catch let error as WorkerError {
            #expect(error.description.contains("cpu_limit_percent") && error.description.contains("value 0"))
            #expect(error.description.contains(state.configFile))
        }
        var c = WorkerConfiguration()
        try c.set("pause_when_in_use", "yes")
        try c.set("thermal_limit_celsius", "80")
        try c.set("cores", "2")
        try c.set("proxy", "http://proxy:3128")
        #expect(c.pauseWhenInUse && c.thermalLimitCelsius == 80 && c.cores == 2 && c.proxy == "http://proxy:3128")
        try c.set("thermal_limit_celsius", "")
        #expect(c.thermalLimitCelsius == nil)
        #expect(throws: WorkerError.self) { try c.set("cpu_limit_percent", "150") }
        #expect(throws: WorkerError.self) { try c.set("colour", "blue") }
        try state.saveConfiguration(c)
        #expect(try state.loadConfiguration() == c)
    }

    @Test("task store: unsafe replica ids are refused; finishing stores the result before removing the task")
    func taskStore() throws {
        let state = try Self.temporaryState()
        defer { try? FileManager.default.removeItem(atPath: state.path) }
        let store = TaskStore(state: state)
        #expect(throws: WorkerError.self) { try TaskStore.checkReplicaID("../etc") }
        #expect(throws: WorkerError.self) { try store.save(TaskRecord(assignment: Self.assignment("a/b"))) }
        try store.save(TaskRecord(assignment: Self.assignment("r1"), receivedAt: Date(timeIntervalSince1970: 2)))
        try store.save(TaskRecord(assignment: Self.assignment("r2"), receivedAt: Date(timeIntervalSince1970: 1)))
        #expect(try store.tasks().map(\.replicaID) == ["r2", "r1"])
        let candidate = SeriesCandidate(frequency: 4, harmonics: 2, power: 30, sigma: 6, acceleration: 0, dm: 10, dmIndex: 1)
        let checkpoint = Checkpoint(nextTrial: 3, trialCount: 12, loggedTrials: 3, logBytes: 100,
            cpuSeconds: 1.5, elapsedSeconds: 2, updatedAt: Date(timeIntervalSince1970: 1_800_000_000.5))
        try store.saveCheckpoint(checkpoint, replica: "r1")
        #expect(try store.checkpoint("r1") == checkpoint)
        #expect(checkpoint.progress == 0.25)
        let result = WorkUnitResult(workUnitID: "wu-r1", candidates: [candidate], cpuSeconds: 2,
                                    elapsedSeconds: 3, seriesSearched: 12, software: "test")
        try store.finish(PendingResult(replicaID: "r1", result: result))
        #expect(try store.tasks().map(\.replicaID) == ["r2"])
        #expect(try store.pendingResults().map(\.result) == [result])
        // The status's read of the same files leaves the candidates undecoded but says the same, in
        // the same order (oldest first: five more results, finished in the reverse of their names).
        let older = (0..<5).map { "q\($0)" }
        for (i, replica) in older.enumerated() {
            try store.savePending(PendingResult(replicaID: replica, result: WorkUnitResult(
                workUnitID: "wu-\(replica)", candidates: [candidate, candidate], cpuSeconds: 1, elapsedSeconds: 1, seriesSearched: 1, software: "t"),
                finishedAt: Date(timeIntervalSince1970: Double(1_000 - i)), attempts: i + 1))
        }
        let facts = try store.pendingResults().map {
            PendingUploadStatus(replicaID: $0.replicaID, workUnitID: $0.result.workUnitID, finishedAt: $0.finishedAt, attempts: $0.attempts)
        }
        #expect(facts.map(\.replicaID) == older.reversed() + ["r1"] && facts[0].attempts == 5)
        #expect(try store.pendingUploads() == facts)
        older.forEach(store.removeResult)
        // A crash between storing a result and removing its task: the task is skipped, and swept
        // at the next start with directories that never got their record.
        try store.save(TaskRecord(assignment: Self.assignment("r1")))
        #expect(try store.tasks().map(\.replicaID) == ["r2"])
        try FileManager.default.createDirectory(atPath: state.taskDirectory("half"), withIntermediateDirectories: true)
        #expect(try store.tasks().map(\.replicaID) == ["r2"])
        store.sweep()
        #expect(try FileManager.default.contentsOfDirectory(atPath: state.tasksDirectory) == ["r2"])
        store.removeResult("r1")
        #expect(try store.pendingResults().isEmpty)
    }

    @Test("trial log: appended per trial; on resuming, bytes after the checkpoint are cut off")
    func trialLog() throws {
        let state = try Self.temporaryState()
        defer { try? FileManager.default.removeItem(atPath: state.path) }
        let path = state.path + "/trials.jsonl"
        let found = (0..<5).map {
            TrialOutcome(
                trial: $0,
                candidates: $0 % 2 == 0 ? [] : [SeriesCandidate(frequency: Double($0) + 0.5, harmonics: 4, power: 20, sigma: 5, acceleration: 0, dm: 3, dmIndex: $0)],
                toplist: SpectrumToplist(bins: [$0 + 10, $0 + 20], powers: [9.5, 7.25], fourierPowers: [1e6 + Double($0), 2e5]))
        }
        var (log, earlier) = try TrialLog.open(path: path, validBytes: 0, expectedCount: 0)
        #expect(earlier.isEmpty)
        try log.append(found[0..<2])
        try log.append(found[2..<2])
        let (bytes, count) = (log.bytes, log.count)
        try log.append(found[2..<5])  // written, but the worker is killed before its checkpoint
        (log, earlier) = try TrialLog.open(path: path, validBytes: bytes, expectedCount: count)
        #expect(earlier == Array(found[0..<2]))
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int == bytes)
        try log.append(found[2..<5])
        (_, earlier) = try TrialLog.open(path: path, validBytes: log.bytes, expectedCount: 5)
        #expect(earlier == found)
        // A checkpoint that counts more than the log holds is refused (the search starts again).
        #expect(throws: WorkerError.self) { try TrialLog.open(path: path, validBytes: 1 << 20, expectedCount: 5) }
        #expect(throws: WorkerError.self) { try TrialLog.open(path: path, validBytes: bytes, expectedCount: 3) }
    }

    @Test("status JSON: tasks[].progress in 0...1 and seconds_left, pending_uploads, backoff, hours null")
    func statusShape() throws {
        let state = try Self.temporaryState()
        defer { try? FileManager.default.removeItem(atPath: state.path) }
        let store = TaskStore(state: state)
        let host = HostIdentity(coordinatorURL: "http://c", hostID: "h", hostKey: "k", name: "n")
        try store.save(TaskRecord(assignment: Self.assignment("run", cost: 20), acknowledged: true, payloadVerified: true))
        try store.save(TaskRecord(assignment: Self.assignment("new", cost: 8), acknowledged: true))
        try store.saveCheckpoint(Checkpoint(nextTrial: 5, trialCount: 10, cpuSeconds: 1, elapsedSeconds: 1), replica: "run")
        try store.savePending(PendingResult(replicaID: "done", result: WorkUnitResult(
            workUnitID: "wu-done", candidates: [], cpuSeconds: 1, elapsedSeconds: 1, seriesSearched: 1, software: "t"),
            finishedAt: Date(timeIntervalSince1970: 1_800_000_000), attempts: 2))
        var configuration = WorkerConfiguration()
        configuration.speed = 2
        configuration.cpuLimitPercent = 50
        let settings = RunSettings(configuration: configuration)
        var backoffSettings = WorkerConfiguration()
        backoffSettings.backoffBaseSeconds = 1
        backoffSettings.backoffCapSeconds = 10
        var shared = DaemonState(settings: RunSettings(configuration: backoffSettings))
        let now = Date(timeIntervalSince1970: 1_800_000_000.125)
        shared.backoff.recordFailure("coordinator unreachable", at: now, unit: { 0.5 })
        shared.live["run"] = LiveProgress(trialsDone: 6, trialCount: 10, startedAtTrial: 5, startedAt: Date(), secondsPerTrial: 0.5)
        let status = StatusBuilder(store: store, settings: settings).build(
            host: host, tasks: try store.tasks(), pending: try store.pendingUploads(), shared: shared, running: true, now: now)
        let json = try JSONSerialization.jsonObject(with: StateCoding.encoder().encode(status)) as! [String: Any]
        let tasks = try #require(json["tasks"] as? [[String: Any]])
        #expect(tasks.count == 2)
        for task in tasks {
            let progress = try #require(task["progress"] as? Double)
            #expect((0...1).contains(progress))
            #expect(task["seconds_left"] is Double)
        }
        let running = try #require(tasks.first { $0["replica_id"] as? String == "run" })
        #expect(running["state"] as? String == "running" && running["progress"] as? Double == 0.6)
        #expect(running["seconds_left"] as? Double == 2)  // 4 trials at 0.5 s
        let waiting = try #require(tasks.first { $0["replica_id"] as? String == "new" })
        #expect(waiting["state"] as? String == "downloading")
        #expect(waiting["seconds_left"] as? Double == 8)  // 8 reference s / speed 2 / 50%
        let uploads = try #require(json["pending_uploads"] as? [[String: Any]])
        #expect(uploads.count == 1 && uploads[0]["attempts"] as? Int == 2)
        let backoff = try #require(json["backoff"] as? [String: Any])
        #expect(backoff["failures"] as? Int == 1 && backoff["delay_seconds"] as? Double == 0.5)
        #expect(backoff["last_error"] as? String == "coordinator unreachable")
        #expect(json.keys.contains("hours") && json["hours"] is NSNull)
        // And it decodes back.
        #expect(try StateCoding.decoder().decode(WorkerStatus.self, from: StateCoding.encoder().encode(status)) == status)
        #expect(status.now == ["searching replica run (unit wu-run): trial 7 of 10"], "\(status.now ?? [])")

        // A search making its plans says so; so do a plan measured on a spare core, a download
        // and the last problem, which stays until a newer one.
        shared.live["run"] = LiveProgress(trialsDone: 0, trialCount: 0, startedAtTrial: 0, startedAt: Date(), planning: true)
        shared.improvingPlan = 262144
        shared.activity = "downloading the payload of replica new"
        shared.lastError = WorkerProblem("gave up replica x: disk full", at: now)
        let planning = StatusBuilder(store: store, settings: settings).build(
            host: host, tasks: try store.tasks(), pending: [], shared: shared, running: true, now: now)
        #expect(planning.tasks.first { $0.replicaID == "run" }?.state == "planning FFTs")
        #expect(planning.now == ["planning FFTs for replica run", "measuring the FFTW plan for 262144 points on a spare core",
                                 "downloading the payload of replica new"], "\(planning.now ?? [])")
        #expect(planning.lastError?.message == "gave up replica x: disk full")
        let stopped = StatusBuilder(store: store, settings: settings).build(
            host: host, tasks: try store.tasks(), pending: [], shared: shared, running: false, now: now)
        #expect(stopped.now == [] && stopped.lastError != nil)
    }

    /// `systemd-analyze security --offline` on a unit file: its overall exposure (0-10) and whether
    /// it is at most `threshold` (systemd's exit status with --threshold, in tenths).
    static func exposure(_ path: String, threshold: Int) throws -> (Double, Bool) {
        let run = try Subprocess.run("/usr/bin/systemd-analyze", ["security", "--offline=true", "--threshold=\(threshold)", path])
        let output = run.stdout + run.stderr
        let line = try #require(output.split(separator: "\n").last { $0.contains("Overall exposure level") }, "\(output)")
        let value = try #require(line.split(separator: ":").last?.split(separator: " ").first.flatMap { Double($0) }, "\(line)")
        return (value, run.status == 0)
    }

    @Test("the systemd unit runs the daemon on /var/lib/xunxing, and systemd-analyze rates it at most 1.5; a copy without the hardening fails that, the confinement drop-in improves it")
    func systemdUnit() throws {
        let path = CoordinatorFixture.packageRoot.appendingPathComponent("packaging/xunxing-worker.service").path
        let unit = try String(contentsOfFile: path, encoding: .utf8)
        for line in ["ExecStart=/usr/bin/xunxing-worker run --state-dir /var/lib/xunxing", "User=xunxing", "Nice=19", "CPUWeight=idle", "MemoryMax=75%", "TasksMax=128"] {
            #expect(unit.split(separator: "\n").contains { $0 == line }, "missing \(line)")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("unit-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (packaged, packagedOK) = try Self.exposure(path, threshold: 15)
        #expect(packagedOK, "exposure \(packaged)")
        // The same unit with the sandboxing lines removed: the check must be able to fail.
        let weak = unit.split(separator: "\n", omittingEmptySubsequences: false).filter { line in
            !["Protect", "Restrict", "SystemCall", "Private", "NoNewPrivileges", "Capability", "MemoryDeny", "LockPersonality"]
                .contains { line.hasPrefix($0) }
        }.joined(separator: "\n")
        try weak.write(toFile: directory + "/weak.service", atomically: true, encoding: .utf8)
        let (weakExposure, weakOK) = try Self.exposure(directory + "/weak.service", threshold: 15)
        #expect(!weakOK && weakExposure > 5, "exposure without the sandbox \(weakExposure)")
        // With the drop-in `xunxing-worker confine` writes merged in.
        let dropIn = NetworkConfinement.dropIn(
            coordinatorURL: "https://xunxing.example.org", addresses: ["203.0.113.7", "2001:db8::7"], nameServers: ["127.0.0.53"])
        let serviceLines = (dropIn.split(separator: "\n").filter { $0.hasPrefix("IPAddress") }.map(String.init)
            + ResourceLimits.dropInLines(WorkerConfiguration()).filter { !$0.hasPrefix("#") }).joined(separator: "\n")
        try unit.replacingOccurrences(of: "[Install]", with: serviceLines + "\n\n[Install]")
            .write(toFile: directory + "/confined.service", atomically: true, encoding: .utf8)
        let (confined, _) = try Self.exposure(directory + "/confined.service", threshold: 15)
        #expect(confined < packaged, "confined \(confined), packaged \(packaged)")
        print(String(format: "systemd-analyze security: packaged %.1f, with the confinement drop-in %.1f, without the sandbox %.1f", packaged, confined, weakExposure))
    }

    @Test("the drop-in denies everything but the coordinator, loopback and the name servers, each once")
    func confinementDropIn() {
        let text = NetworkConfinement.dropIn(
            coordinatorURL: "https://c.example", addresses: ["203.0.113.7", "203.0.113.7"], nameServers: ["192.0.2.53"])
        let lines = text.split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(lines == ["[Service]", "IPAddressDeny=any", "IPAddressAllow=localhost", "IPAddressAllow=203.0.113.7", "IPAddressAllow=192.0.2.53"])
        #expect(NetworkConfinement.nameServers(resolvConf: "# x\nnameserver 192.0.2.53\nsearch example\nnameserver\t2001:db8::53\n") == ["192.0.2.53", "2001:db8::53"])
        #expect((try? NetworkConfinement.resolve(host: "127.0.0.1")) == ["127.0.0.1"])
    }

    @Test("the drop-in's resource limits follow the settings: CPUQuota cores x cpu_limit_percent + 10 %, MemoryMax memory_limit_mb + 256 MB")
    func resourceLimits() {
        var c = WorkerConfiguration()
        c.cores = 3
        c.cpuLimitPercent = 40
        c.memoryLimitMB = 2000
        #expect(ResourceLimits.dropInLines(c).filter { !$0.hasPrefix("#") } == ["CPUQuota=130%", "MemoryMax=2256M"])
        c.cores = nil
        c.cpuLimitPercent = 100
        c.memoryLimitMB = nil
        let lines = ResourceLimits.dropInLines(c, available: 8).filter { !$0.hasPrefix("#") }
        #expect(lines.first == "CPUQuota=710%", "all cores but one by default: \(lines)")
        #expect(lines.last == "MemoryMax=\(c.effectiveMemoryLimitMB() + 256)M")
    }
}

@Suite("The shared helpers")
struct SupportTests {
    @Test("SHA-256 of a file: the standard vector, and a 3.5 MiB random file (blocks of 1 MiB and a tail) against the one-shot hash")
    func fileDigest() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("digest-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data("abc".utf8).write(to: URL(fileURLWithPath: directory + "/abc"))
        #expect(try FileDigest.sha256(path: directory + "/abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        var generator = SystemRandomNumberGenerator()
        let bytes = Data((0..<(3 << 20) + (1 << 19) + 7).map { _ in UInt8.random(in: 0...255, using: &generator) })
        try bytes.write(to: URL(fileURLWithPath: directory + "/random"))
        #expect(try FileDigest.sha256(path: directory + "/random") == FileDigest.hex(SHA256.hash(data: bytes)))
        #expect(throws: FileDigest.Failure.self) { try FileDigest.sha256(path: directory + "/missing") }
    }

    @Test("Hexadecimal: every byte value, against printf's %02x")
    func hexOfEveryByte() {
        let all = (0...255).map(UInt8.init)
        #expect(FileDigest.hex(all) == all.map { String(format: "%02x", $0) }.joined())
        #expect(FileDigest.hex([UInt8]()) == "")
    }
}
