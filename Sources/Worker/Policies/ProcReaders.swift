import Foundation

/// Reads how busy the machine is from a /proc tree (`root` is `/proc`, or a fake tree in tests).
public struct ProcReader: Sendable {
    public let root: String

    public init(root: String = "/proc") {
        self.root = root
    }

    /// Busy and total clock ticks of all CPUs together, from the `cpu` line of `stat`.
    public func cpuTicks() -> (busy: UInt64, total: UInt64)? {
        guard let text = try? String(contentsOfFile: root + "/stat", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) else { return nil }
        let fields = line.split(separator: " ").dropFirst().compactMap { UInt64($0) }
        guard fields.count >= 4 else { return nil }
        // user nice system idle iowait irq softirq steal (guest times are already in user/nice).
        let counted = Array(fields.prefix(8))
        let total = counted.reduce(0, +)
        let idle = counted[3] + (counted.count > 4 ? counted[4] : 0)
        return (total - idle, total)
    }

    /// Clock ticks this process (`self/stat`: utime + stime) has used.
    public func ownTicks() -> UInt64? {
        guard let text = try? String(contentsOfFile: root + "/self/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        // After "pid (comm)": field 3 is state; utime and stime are fields 14 and 15.
        let rest = text[text.index(after: close)...].split(separator: " ")
        guard rest.count >= 13, let utime = UInt64(rest[11]), let stime = UInt64(rest[12]) else { return nil }
        return utime + stime
    }
}

/// Other processes' share of all CPUs between two samples: (busy ticks - our ticks) / total ticks.
public struct OtherLoadMeter: Sendable {
    let reader: ProcReader
    private var last: (busy: UInt64, total: UInt64, own: UInt64)?

    public init(reader: ProcReader) {
        self.reader = reader
    }

    /// Samples and returns the load since the previous sample (nil at the first, or when /proc is unreadable).
    public mutating func sample() -> Double? {
        guard let cpu = reader.cpuTicks(), let own = reader.ownTicks() else { return nil }
        defer { last = (cpu.busy, cpu.total, own) }
        guard let last, cpu.total > last.total else { return nil }
        let busy = Double(cpu.busy &- last.busy)
        let mine = Double(own &- last.own)
        return min(1, max(0, (busy - mine) / Double(cpu.total - last.total)))
    }
}
