import Foundation
import Testing
@testable import Worker
import XunxingProtocol

@Suite("Host policies")
struct PolicyTests {
    @Test("backoff: bound doubles from the base up to the cap, delays stay within it, success resets")
    func backoffBounds() {
        var backoff = Backoff(base: 1, cap: 60)
        let now = Date(timeIntervalSince1970: 1000)
        var bounds: [Double] = []
        for i in 0..<10 {
            let delay = backoff.recordFailure("down", at: now, unit: { Double(i % 3) / 3 })
            bounds.append(backoff.bound)
            #expect(delay >= 0 && delay <= backoff.bound)
            #expect(backoff.nextAttempt == now.addingTimeInterval(delay))
        }
        #expect(bounds == [1, 2, 4, 8, 16, 32, 60, 60, 60, 60])
        #expect(backoff.failures == 10 && backoff.lastError == "down")
        // Full jitter: the top of the range is reachable.
        var top = Backoff(base: 1, cap: 60)
        #expect(top.recordFailure("x", unit: { 0.999999 }) > 0.99)
        #expect(!backoff.mayAttempt(at: now.addingTimeInterval(-1)))
        backoff.recordSuccess()
        #expect(backoff.failures == 0 && backoff.bound == 0 && backoff.mayAttempt(at: now))
        #expect(Backoff.bound(failures: 200, base: 1, cap: 3600) == 3600)
        // Random draws spread over the range.
        var random = Backoff(base: 1, cap: 8)
        let delays = (0..<200).map { _ in random.recordFailure("x") }
        #expect(delays.allSatisfy { $0 <= 8 } && delays.suffix(100).contains { $0 < 4 } && delays.suffix(100).contains { $0 > 4 })
    }

    @Test("CPU limit: the duty cycle rests in proportion to work, and measured use matches the limit")
    func dutyCycle() {
        #expect(DutyCycle(limitPercent: 100).rest(afterBusy: 1) == 0)
        #expect(abs(DutyCycle(limitPercent: 25).rest(afterBusy: 0.1) - 0.3) < 1e-12)
        #expect(abs(DutyCycle(limitPercent: 50).wallSeconds(forCPUSeconds: 2) - 4) < 1e-12)
        #expect(DutyCycle(limitPercent: 0).limitPercent == 1)
        // Busy-loop 20 ms slices with rests: CPU share over the whole should be about 40%.
        let cycle = DutyCycle(limitPercent: 40)
        let wallStart = Date()
        let cpuStart = threadCPUSeconds()
        for _ in 0..<8 {
            let sliceStart = threadCPUSeconds()
            var x = 0.0
            while threadCPUSeconds() - sliceStart < 0.02 { x += 1 }
            Thread.sleep(forTimeInterval: cycle.rest(afterBusy: threadCPUSeconds() - sliceStart))
        }
        // Never more than the limit; less only when other processes starve this thread (a loaded
        // CI machine), which a good guest does not mind.
        let share = (threadCPUSeconds() - cpuStart) / Date().timeIntervalSince(wallStart)
        #expect(share > 0.02 && share < 0.45, "share \(share)")
    }

    @Test("thermal zones: the hottest is read in °C; the policy pauses above the limit and resumes 5 °C below")
    func thermal() throws {
        let sys = try FakeTree()
        defer { sys.remove() }
        try sys.write("class/thermal/thermal_zone0/temp", "45000\n")
        try sys.write("class/thermal/thermal_zone1/temp", "71500\n")
        try sys.write("class/thermal/cooling_device0/type", "Processor\n")
        #expect(SysReader(root: sys.root).hottestZoneCelsius() == 71.5)
        var configuration = WorkerConfiguration()
        configuration.sysRoot = sys.root
        configuration.thermalLimitCelsius = 70
        var policy = GuestPolicy(configuration: configuration)
        #expect(policy.evaluate() == .tooHot(celsius: 71.5))
        try sys.write("class/thermal/thermal_zone1/temp", "67000\n")
        #expect(policy.evaluate() == .tooHot(celsius: 67), "within the hysteresis: still paused")
        try sys.write("class/thermal/thermal_zone1/temp", "64000\n")
        #expect(policy.evaluate() == nil)
        #expect(SysReader(root: "/nonexistent").hottestZoneCelsius() == nil)
    }

    @Test("battery: Discharging or all external supplies offline means on battery; no supplies means mains")
    func battery() throws {
        let sys = try FakeTree()
        defer { sys.remove() }
        let reader = SysReader(root: sys.root)
        #expect(!reader.onBattery())
        try sys.write("class/power_supply/AC/type", "Mains\n")
        try sys.write("class/power_supply/AC/online", "1\n")
        try sys.write("class/power_supply/BAT0/type", "Battery\n")
        try sys.write("class/power_supply/BAT0/status", "Charging\n")
        #expect(!reader.onBattery())
        try sys.write("class/power_supply/AC/online", "0\n")
        #expect(reader.onBattery())
        try sys.write("class/power_supply/AC/online", "1\n")
        try sys.write("class/power_supply/BAT0/status", "Discharging\n")
        #expect(reader.onBattery())
        var configuration = WorkerConfiguration()
        configuration.sysRoot = sys.root
        var policy = GuestPolicy(configuration: configuration)
        #expect(policy.evaluate() == .onBattery)
        configuration.pauseOnBattery = false
        policy = GuestPolicy(configuration: configuration)
        #expect(policy.evaluate() == nil)
    }

    @Test("in use: other processes' CPU share from /proc/stat minus our own ticks, and keyboard interrupts")
    func inUse() throws {
        let proc = try FakeTree()
        defer { proc.remove() }
        func write(user: Int, idle: Int, own: Int, keys: Int) throws {
            try proc.write("stat", "cpu  \(user) 0 0 \(idle) 0 0 0 0 0 0\ncpu0 1 2 3 4\nintr 5\n")
            try proc.write("self/stat", "4242 (xunxing worker) S 1 2 3 4 5 6 7 8 9 10 \(own) 0 0 0 20 0 1 0\n")
            try proc.write("interrupts", "           CPU0       CPU1\n  1:   \(keys)   0   IO-APIC   1-edge      i8042\n  9:   7  0  acpi\n")
        }
        try write(user: 1000, idle: 1000, own: 500, keys: 10)
        let reader = ProcReader(root: proc.root)
        #expect(reader.ownTicks() == 500)
        #expect(reader.inputInterrupts() == 10)
        var meter = OtherLoadMeter(reader: reader)
        #expect(meter.sample() == nil)
        // 1000 ticks pass: 600 busy, of which 400 ours: others used 20%.
        try write(user: 1600, idle: 1400, own: 900, keys: 10)
        #expect(abs((meter.sample() ?? -1) - 0.2) < 1e-9)

        var configuration = WorkerConfiguration()
        configuration.procRoot = proc.root
        configuration.sysRoot = proc.root
        configuration.pauseWhenInUse = true
        configuration.inUseLoadThreshold = 0.5
        configuration.inUseIdleMinutes = 1
        var policy = GuestPolicy(configuration: configuration)
        let t0 = Date()
        #expect(policy.evaluate(now: t0) == nil)
        // Others busy: 900 of 1000 ticks, none ours.
        try write(user: 2500, idle: 1500, own: 900, keys: 10)
        #expect(policy.evaluate(now: t0.addingTimeInterval(1)) == .machineInUse(load: 0.9))
        // A key press pauses for inUseIdleMinutes even when the CPUs are quiet.
        try write(user: 2500, idle: 2500, own: 900, keys: 11)
        #expect(policy.evaluate(now: t0.addingTimeInterval(2)) == .userActive)
        try write(user: 2500, idle: 3500, own: 900, keys: 11)
        #expect(policy.evaluate(now: t0.addingTimeInterval(30)) == .userActive)
        try write(user: 2500, idle: 4500, own: 900, keys: 11)
        #expect(policy.evaluate(now: t0.addingTimeInterval(63)) == nil)
    }
}

@Suite("What the worker accepts from its coordinator")
struct CoordinatorTrustTests {
    func assignment(url: String, size: Int64 = 1000) -> Assignment {
        Assignment(
            replicaID: "r1", workUnitID: "u1", payloadURL: url, payloadSHA256: String(repeating: "0", count: 64),
            payloadSize: size, estimatedCost: 1, deadline: Date())
    }

    @Test("https anywhere, plain http only to this machine")
    func coordinatorURLs() throws {
        for ok in ["https://xunxing.example.org", "http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]:9000"] {
            #expect(throws: Never.self) { try CoordinatorURLPolicy.check(ok) }
        }
        for bad in ["http://xunxing.example.org", "http://10.0.0.1:8080", "ftp://127.0.0.1", "xunxing.example.org"] {
            #expect(throws: WorkerError.self, "\(bad)") { try CoordinatorURLPolicy.check(bad) }
        }
    }

    @Test("a payload off the coordinator's origin, of no size or over the limit, or one task too many, is refused")
    func assignments() throws {
        let own = "https://xunxing.example.org"
        func check(_ a: Assignment, held: Int = 0) throws {
            try CoordinatorURLPolicy.check(a, coordinator: own, maxPayloadBytes: 1 << 20, held: held, maxTasks: 4)
        }
        try check(assignment(url: "/api/v1/workunits/u1/payload"))
        try check(assignment(url: "https://xunxing.example.org/api/v1/workunits/u1/payload"))
        for foreign in [
            "https://evil.example/api/v1/workunits/u1/payload", "http://xunxing.example.org/payload",
            "https://xunxing.example.org:8443/payload", "//evil.example/payload", "https://user@xunxing.example.org/payload",
        ] {
            do {
                try check(assignment(url: foreign))
                Issue.record("\(foreign) was accepted")
            } catch let error as WorkerError {
                #expect("\(error)".contains("payload_url"), "\(error)")
            }
        }
        #expect(throws: WorkerError.self) { try check(assignment(url: "/p", size: 0)) }
        #expect(throws: WorkerError.self) { try check(assignment(url: "/p", size: (1 << 20) + 1)) }
        try check(assignment(url: "/p"), held: 3)
        #expect(throws: WorkerError.self) { try check(assignment(url: "/p"), held: 4) }
    }
}
