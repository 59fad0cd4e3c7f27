import Foundation
import Logging
import Testing
@testable import Worker
import PulsarSearch
import XunxingProtocol
import XunxingSupport

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
        let cpuStart = CPUClock.threadSeconds()
        for _ in 0..<8 {
            let sliceStart = CPUClock.threadSeconds()
            var x = 0.0
            while CPUClock.threadSeconds() - sliceStart < 0.02 { x += 1 }
            Thread.sleep(forTimeInterval: cycle.rest(afterBusy: CPUClock.threadSeconds() - sliceStart))
        }
        // Never more than the limit; less only when other processes starve this thread (a loaded
        // CI machine), which a good guest does not mind.
        let share = (CPUClock.threadSeconds() - cpuStart) / Date().timeIntervalSince(wallStart)
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

    @Test("battery: only the system's supplies count; mains online is never on battery; a mouse's battery or an idle USB-C port is not")
    func battery() throws {
        let sys = try FakeTree()
        defer { sys.remove() }
        let reader = SysReader(root: sys.root)
        #expect(!reader.onBattery())
        // A desktop: a wireless mouse's battery (scope Device) discharging, a USB-C port with nothing in it.
        try sys.write("class/power_supply/hidpp_battery_0/type", "Battery\n")
        try sys.write("class/power_supply/hidpp_battery_0/scope", "Device\n")
        try sys.write("class/power_supply/hidpp_battery_0/status", "Discharging\n")
        try sys.write("class/power_supply/ucsi-source-psy-USBC000:001/type", "USB\n")
        try sys.write("class/power_supply/ucsi-source-psy-USBC000:001/online", "0\n")
        #expect(!reader.onBattery(), "no system battery: never on battery")
        // A laptop: mains online, the battery charging or (under load) discharging: on mains.
        try sys.write("class/power_supply/AC/type", "Mains\n")
        try sys.write("class/power_supply/AC/online", "1\n")
        try sys.write("class/power_supply/BAT0/type", "Battery\n")
        try sys.write("class/power_supply/BAT0/status", "Charging\n")
        #expect(!reader.onBattery())
        try sys.write("class/power_supply/BAT0/status", "Discharging\n")
        #expect(!reader.onBattery(), "mains online means not on battery")
        try sys.write("class/power_supply/AC/online", "0\n")
        #expect(reader.onBattery())
        // A device-scope charger online does not make the laptop's battery mains powered.
        try sys.write("class/power_supply/mouse-dock/type", "Mains\n")
        try sys.write("class/power_supply/mouse-dock/scope", "Device\n")
        try sys.write("class/power_supply/mouse-dock/online", "1\n")
        #expect(reader.onBattery())
        // Scope System counts like no scope.
        try sys.write("class/power_supply/BAT0/scope", "System\n")
        #expect(reader.onBattery())
        try sys.write("class/power_supply/BAT0/status", "Full\n")
        #expect(reader.onBattery(), "all system external supplies offline: on battery whatever the status")
        var configuration = WorkerConfiguration()
        configuration.sysRoot = sys.root
        var policy = GuestPolicy(configuration: configuration)
        #expect(policy.evaluate() == .onBattery)
        configuration.pauseOnBattery = false
        policy = GuestPolicy(configuration: configuration)
        #expect(policy.evaluate() == nil)
    }

    /// A /sys and /proc pair with input devices of every kind and the interrupt lines they raise.
    static func inputMachine() throws -> (sys: FakeTree, proc: FakeTree) {
        let sys = try FakeTree(), proc = try FakeTree()
        let devices: [(String, String, ev: String, key: String)] = [
            // A USB mouse (EV_SYN|KEY|REL|MSC), an I2C HID touchpad (ABS), a PS/2 keyboard (many keys),
            // a Bluetooth LE keyboard through uhid, a virtio tablet; a power button and a lid switch.
            ("input3", "../../devices/pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.0/0003:046D:C52B.0001/input/input3", "17", "ffff0000 0 0 0 0"),
            ("input9", "../../devices/pci0000:00/0000:00:15.1/i2c_designware.1/i2c-2/i2c-ELAN0501:00/0018:04F3:3060.0002/input/input9", "b", "e520 10000 0 0 0 0"),
            ("input1", "../../devices/platform/i8042/serio0/input/input1", "120013", "402000000 3803078f800d001 feffffdfffefffff fffffffffffffffe"),
            ("input12", "../../devices/virtual/misc/uhid/0005:046D:B023.0003/input/input12", "120013", "ffffffff ffffffff"),
            ("input7", "../../devices/pci0000:00/0000:00:05.0/virtio4/input/input7", "f", "0"),
            // (Buttons on an I2C bus of their own: counted as a person, their line would be named.)
            ("input0", "../../devices/platform/i2c_designware.3/i2c-4/i2c-PWRB0000:00/input/input0", "3", "10000000000000 0"),
            ("input2", "../../devices/LNXSYSTM:00/LNXSYBUS:00/PNP0C0D:00/input/input2", "21", "0"),
        ]
        for (name, target, ev, key) in devices {
            let real = String(target.dropFirst(6))
            try sys.write(real + "/capabilities/ev", ev + "\n")
            try sys.write(real + "/capabilities/key", key + "\n")
            try sys.link("class/input/" + name, to: target)
        }
        return (sys, proc)
    }

    static func interrupts(usb: Int, touchpad: Int, ps2: Int, virtio: Int, acpi: Int, timer: Int) -> String {
        """
                   CPU0       CPU1
          0:         \(timer)          0   IO-APIC    2-edge      timer
          1:          \(ps2)          3   IO-APIC    1-edge      i8042
          9:          \(acpi)          0   IO-APIC    9-fasteoi   acpi
         27:          \(touchpad)          0  IR-IO-APIC   27-fasteoi   ELAN0501:00
        120:          \(usb)          5  IR-PCI-MSI 327680-edge      xhci_hcd
        121:          0          0  IR-PCI-MSI 514048-edge      snd_hda_intel:card0
        122:          \(virtio)          0   PCI-MSI 81921-edge      virtio4-event
        NMI:          0          0   Non-maskable interrupts
        """
    }

    @Test("user presence: the interrupt lines of every human input device (USB, I2C, PS/2, Bluetooth LE, virtio), not buttons, timers or sound")
    func inputDevices() throws {
        let (sys, proc) = try Self.inputMachine()
        defer { sys.remove(); proc.remove() }
        let input = InputActivity(procRoot: proc.root, sysRoot: sys.root, devRoot: proc.root + "/nodev")
        let names = input.interruptLineNames()
        #expect(names.isSuperset(of: ["i8042", "xhci", "elan0501:00", "virtio4-"]), "\(names.sorted())")
        #expect(!names.contains("acpi") && !names.contains { "timer".contains($0) })
        #expect(!names.contains("pwrb0000:00"), "a power button is not a person: \(names.sorted())")
        // Each device's line alone moves the reading; the others' lines do not.
        let base = (usb: 100, touchpad: 200, ps2: 300, virtio: 400, acpi: 500, timer: 600)
        try proc.write("interrupts", Self.interrupts(usb: base.usb, touchpad: base.touchpad, ps2: base.ps2, virtio: base.virtio, acpi: base.acpi, timer: base.timer))
        let first = input.read()
        let expected: UInt64 = 100 + 5 + 200 + 300 + 3 + 400
        #expect(first.interrupts == expected)
        #expect(first.terminalAccess == nil)
        try proc.write("interrupts", Self.interrupts(usb: base.usb, touchpad: base.touchpad, ps2: base.ps2, virtio: base.virtio, acpi: 9999, timer: 99999))
        #expect(input.read() == first, "power button (acpi) and timer interrupts are not a person")
        for bump in 0..<4 {
            let v = [base.usb, base.touchpad, base.ps2, base.virtio].enumerated().map { $0.offset == bump ? $0.element + 1 : $0.element }
            try proc.write("interrupts", Self.interrupts(usb: v[0], touchpad: v[1], ps2: v[2], virtio: v[3], acpi: base.acpi, timer: base.timer))
            #expect(input.read() != first, "line \(bump)")
        }
        // A Bluetooth LE keyboard alone (through uhid) brings in the USB controllers its adapter is on.
        let ble = try FakeTree()
        defer { ble.remove() }
        let blePath = "devices/virtual/misc/uhid/0005:046D:B023.0003/input/input12"
        try ble.write(blePath + "/capabilities/ev", "120013\n")
        try ble.write(blePath + "/capabilities/key", "ffffffff ffffffff\n")
        try ble.link("class/input/input12", to: "../../" + blePath)
        #expect(InputActivity(procRoot: proc.root, sysRoot: ble.root, devRoot: proc.root + "/nodev").interruptLineNames().contains("xhci"))
        // Without the input devices in /sys, only the classic names count: the touchpad's line is not seen.
        let bare = InputActivity(procRoot: proc.root, sysRoot: proc.root + "/nosys", devRoot: proc.root + "/nodev")
        #expect(bare.interruptLineNames() == ["i8042", "keyboard", "mouse", "touchpad"])
    }

    @Test("user presence: a terminal typed in (its access time) counts like an input interrupt")
    func terminalsCount() throws {
        let dev = try FakeTree()
        defer { dev.remove() }
        try FileManager.default.createDirectory(atPath: dev.root + "/pts", withIntermediateDirectories: true)
        // Character devices, as /dev/pts/N and /dev/ttyN are (made with mknod, as root does).
        try #require(mknod(dev.root + "/pts/0", S_IFCHR | 0o600, dev_t(136 << 8)) == 0, "mknod: \(errno)")
        try #require(mknod(dev.root + "/tty1", S_IFCHR | 0o600, dev_t(4 << 8 | 1)) == 0)
        try dev.write("pts/ptmx-not-a-number", "")
        let input = InputActivity(procRoot: dev.root + "/noproc", sysRoot: dev.root + "/nosys", devRoot: dev.root)
        func setAccess(_ path: String, _ seconds: Int) {
            var times = [timespec(tv_sec: seconds, tv_nsec: 0), timespec(tv_sec: seconds, tv_nsec: 0)]
            _ = utimensat(AT_FDCWD, dev.root + "/" + path, &times, 0)
        }
        setAccess("pts/0", 1000)
        setAccess("tty1", 2000)
        #expect(input.read().terminalAccess == 2000)
        setAccess("pts/0", 3000)
        #expect(input.read().terminalAccess == 3000)

        var configuration = WorkerConfiguration()
        configuration.procRoot = dev.root + "/noproc"
        configuration.sysRoot = dev.root + "/nosys"
        configuration.devRoot = dev.root
        configuration.pauseWhenInUse = true
        configuration.inUseIdleMinutes = 1
        var policy = GuestPolicy(configuration: configuration)
        let t0 = Date()
        #expect(policy.evaluate(now: t0) == nil)
        setAccess("tty1", 4000)
        #expect(policy.evaluate(now: t0.addingTimeInterval(1)) == .userActive)
        // New settings (config set while the person types) keep what the policy has seen.
        var changed = configuration
        changed.cpuLimitPercent = 50
        policy.reconfigure(changed)
        #expect(policy.evaluate(now: t0.addingTimeInterval(2)) == .userActive)
        #expect(policy.evaluate(now: t0.addingTimeInterval(62)) == nil)
    }

    @Test("in use: other processes' CPU share from /proc/stat minus our own ticks, and input interrupts")
    func inUse() throws {
        let (sys, proc) = try Self.inputMachine()
        defer { sys.remove(); proc.remove() }
        func write(user: Int, idle: Int, own: Int, keys: Int) throws {
            try proc.write("stat", "cpu  \(user) 0 0 \(idle) 0 0 0 0 0 0\ncpu0 1 2 3 4\nintr 5\n")
            try proc.write("self/stat", "4242 (xunxing worker) S 1 2 3 4 5 6 7 8 9 10 \(own) 0 0 0 20 0 1 0\n")
            try proc.write("interrupts", Self.interrupts(usb: keys, touchpad: 0, ps2: 0, virtio: 0, acpi: 7, timer: 1000 + user))
        }
        try write(user: 1000, idle: 1000, own: 500, keys: 10)
        let reader = ProcReader(root: proc.root)
        #expect(reader.ownTicks() == 500)
        var meter = OtherLoadMeter(reader: reader)
        #expect(meter.sample() == nil)
        // 1000 ticks pass: 600 busy, of which 400 ours: others used 20%.
        try write(user: 1600, idle: 1400, own: 900, keys: 10)
        #expect(abs((meter.sample() ?? -1) - 0.2) < 1e-9)

        var configuration = WorkerConfiguration()
        configuration.procRoot = proc.root
        configuration.sysRoot = sys.root
        configuration.devRoot = proc.root + "/nodev"
        configuration.pauseWhenInUse = true
        configuration.inUseLoadThreshold = 0.5
        configuration.inUseIdleMinutes = 1
        var policy = GuestPolicy(configuration: configuration)
        let t0 = Date()
        #expect(policy.evaluate(now: t0) == nil)
        // Others busy: 900 of 1000 ticks, none ours.
        try write(user: 2500, idle: 1500, own: 900, keys: 10)
        #expect(policy.evaluate(now: t0.addingTimeInterval(1)) == .machineInUse(load: 0.9))
        // A USB mouse moved pauses for inUseIdleMinutes even when the CPUs are quiet.
        try write(user: 2500, idle: 2500, own: 900, keys: 11)
        #expect(policy.evaluate(now: t0.addingTimeInterval(2)) == .userActive)
        try write(user: 2500, idle: 3500, own: 900, keys: 11)
        #expect(policy.evaluate(now: t0.addingTimeInterval(30)) == .userActive)
        try write(user: 2500, idle: 4500, own: 900, keys: 11)
        #expect(policy.evaluate(now: t0.addingTimeInterval(63)) == nil)
        // Pauses of one kind are one pause, whatever the figures.
        #expect(PauseReason.machineInUse(load: 0.31).kind == PauseReason.machineInUse(load: 0.32).kind)
        #expect(PauseReason.machineInUse(load: 0.31).kind != PauseReason.userActive.kind)
    }

    @Test("repeated log lines are folded: counted, and summed up when another line comes or the window passes")
    func logFolding() throws {
        let lines = Locked<[String]>([])
        let logger = Logger(label: "test") { _ in CollectingHandler(lines: lines) }
        let folder = LogFolder(logger: logger, window: 600)
        let t0 = Date()
        for i in 0..<50 { folder.log(.notice, "pausing searches: machine in use (\(30 + i % 3)% busy)", key: "pause in use", now: t0.addingTimeInterval(Double(i))) }
        folder.log(.notice, "resuming searches", now: t0.addingTimeInterval(60))
        #expect(lines.current == ["pausing searches: machine in use (30% busy)", "previous message repeated 49 times", "resuming searches"])
        // After the window a repeat is written again, with the count so far.
        folder.log(.warning, "coordinator unreachable", now: t0.addingTimeInterval(100))
        folder.log(.warning, "coordinator unreachable", now: t0.addingTimeInterval(200))
        folder.log(.warning, "coordinator unreachable", now: t0.addingTimeInterval(800))
        #expect(Array(lines.current.suffix(3)) == ["coordinator unreachable", "previous message repeated 1 times", "coordinator unreachable"])
    }
}

/// Collects log messages (tests).
struct CollectingHandler: LogHandler {
    let lines: Locked<[String]>
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
        lines.with { $0.append(message.description) }
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

    @Test("a payload off the coordinator's origin, of no size or over the limit, needing too much memory, or one task too many, is refused")
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
        // A unit needing more memory than memory_limit_mb is refused, naming the field.
        var hungry = assignment(url: "/p")
        hungry.memoryMB = 900
        try CoordinatorURLPolicy.check(hungry, coordinator: own, maxPayloadBytes: 1 << 20, held: 0, maxTasks: 4, memoryLimitMB: 900)
        do {
            try CoordinatorURLPolicy.check(hungry, coordinator: own, maxPayloadBytes: 1 << 20, held: 0, maxTasks: 4, memoryLimitMB: 899)
            Issue.record("a unit over the memory limit was accepted")
        } catch let error as WorkerError {
            #expect("\(error)".contains("memory_mb") && "\(error)".contains("899"), "\(error)")
        }
        // Without the coordinator's figure: the least the payload's size allows, then the header's.
        var old = TaskRecord(assignment: assignment(url: "/p", size: 100 << 20))
        #expect(old.memoryMB == 216)
        old.payloadMemoryMB = 700
        #expect(old.memoryMB == 700)
    }
}
