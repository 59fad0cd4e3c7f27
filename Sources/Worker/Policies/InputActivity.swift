#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Whether a person is using the machine, from counters the kernel keeps for everyone: no
/// keystroke or pointer event is ever read, only how many interrupts the input hardware raised
/// and when a terminal was last typed in.
///
/// - **Interrupt lines of the input devices.** Every device in `/sys/class/input` that a person
///   drives (a pointer or touch device: relative or absolute axes; or a keyboard: 30 keys or more;
///   not power buttons, lid switches or audio jacks) is traced to the hardware that raises its
///   interrupts: the i8042 controller (PS/2 and laptop keyboards and touchpads), its own line (I2C
///   HID touchpads, named after the device), the USB host controllers (USB keyboards and mice,
///   and Bluetooth ones, whose adapter is on USB; Bluetooth LE devices come through uhid) or its
///   virtio device. The sum of those lines' counts in `/proc/interrupts` changes when they are
///   used. USB host controllers also count other USB traffic (a disk, a webcam): then the
///   machine counts as in use, the cautious side for a guest.
/// - **Terminals.** The latest access time of `/dev/pts/*` and `/dev/tty[0-9]*` (what `w` shows
///   as idle time), for people at a console or logged in over SSH.
///
/// X11 and Wayland sessions need nothing more: both read the same devices, so their use shows in
/// the same interrupt counts. (The systemd unit's private /dev hides the terminals; the interrupt
/// counts remain.)
public struct InputActivity: Sendable {
    public let proc: String
    public let sys: String
    public let dev: String

    public init(procRoot: String = "/proc", sysRoot: String = "/sys", devRoot: String = "/dev") {
        proc = procRoot
        sys = sysRoot
        dev = devRoot
    }

    /// A reading that changes when a person uses the machine; equal readings mean no use between them.
    public struct Reading: Sendable, Equatable {
        /// Sum of the input hardware's interrupt counts; nil when no line was found.
        public var interrupts: UInt64?
        /// The latest access to a terminal, seconds since 1970; nil when none is visible.
        public var terminalAccess: Double?

        /// Whether any input signal is available at all.
        public var isEmpty: Bool { interrupts == nil && terminalAccess == nil }
    }

    /// Reads every signal now.
    public func read() -> Reading {
        Reading(interrupts: interruptCount(matching: interruptLineNames()), terminalAccess: latestTerminalAccess())
    }

    /// What identifies the interrupt lines of the input devices people use, as lower-case
    /// substrings of a `/proc/interrupts` line's name part.
    public func interruptLineNames() -> Set<String> {
        // Older kernels and some platforms name the lines after the device class.
        var names: Set<String> = ["i8042", "keyboard", "mouse", "touchpad"]
        let classDirectory = sys + "/class/input"
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: classDirectory)) ?? []
        for entry in entries where entry.hasPrefix("input") {
            let link = classDirectory + "/" + entry
            guard isHumanInput(link), let path = realPath(link) else { continue }
            let components = path.split(separator: "/").map(String.init)
            if components.contains(where: { $0.hasPrefix("serio") || $0 == "i8042" }) { names.insert("i8042") }
            if components.contains(where: { $0.hasPrefix("usb") }) || path.contains("/uhid/") || path.contains("bluetooth") {
                names.formUnion(["xhci", "ehci", "ohci", "uhci", "dwc2", "dwc3", "btusb", "hci_uart"])
            }
            for component in components {
                if component.hasPrefix("i2c-"), component.contains(":") { names.insert(String(component.dropFirst(4)).lowercased()) }
                if component.hasPrefix("virtio"), component.dropFirst(6).allSatisfy(\.isNumber), component.count > 6 {
                    names.insert(component + "-")
                }
            }
        }
        return names
    }

    /// True for a device a person drives: a pointer or touch surface (relative or absolute axes)
    /// or a keyboard (30 keys or more). Power buttons, lid switches, jacks and the PC speaker are not.
    func isHumanInput(_ classEntry: String) -> Bool {
        guard let ev = hexBits(classEntry + "/capabilities/ev") else { return false }
        let evRel = 2, evAbs = 3, evKey = 1
        if ev.contains(evRel) || ev.contains(evAbs) { return true }
        guard ev.contains(evKey), let keys = hexBits(classEntry + "/capabilities/key") else { return false }
        return keys.count >= 30
    }

    /// The set bits of a sysfs bitmap: hexadecimal words separated by spaces, most significant first.
    func hexBits(_ path: String) -> Set<Int>? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        var bits: Set<Int> = []
        for (index, word) in words.reversed().enumerated() {
            guard let value = UInt64(word, radix: 16) else { return nil }
            for bit in 0..<64 where value & (1 << UInt64(bit)) != 0 { bits.insert(index * 64 + bit) }
        }
        return bits
    }

    func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Sum of the counts of the `/proc/interrupts` lines whose name part holds one of `names`.
    public func interruptCount(matching names: Set<String>) -> UInt64? {
        guard let text = try? String(contentsOfFile: proc + "/interrupts", encoding: .utf8) else { return nil }
        var sum: UInt64 = 0
        var found = false
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ")
            guard fields.count > 1, fields[0].hasSuffix(":") else { continue }
            // "NN:  count count ...  controller  hwirq  name[, name]": counts, then the description.
            var counts: [UInt64] = []
            var rest = fields.dropFirst()
            while let first = rest.first, let n = UInt64(first) {
                counts.append(n)
                rest = rest.dropFirst()
            }
            guard !counts.isEmpty else { continue }
            let description = rest.joined(separator: " ").lowercased()
            guard names.contains(where: { description.contains($0) }) else { continue }
            found = true
            sum &+= counts.reduce(0, &+)
        }
        return found ? sum : nil
    }

    /// The latest access time of the terminals, seconds since 1970.
    public func latestTerminalAccess() -> Double? {
        var latest: Double?
        func consider(_ path: String) {
            var info = stat()
            guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFCHR else { return }
            let seconds = Double(info.st_atim.tv_sec) + Double(info.st_atim.tv_nsec) / 1e9
            latest = max(latest ?? seconds, seconds)
        }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dev + "/pts")) ?? [] where name.allSatisfy(\.isNumber) {
            consider(dev + "/pts/" + name)
        }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dev)) ?? []
        where name.hasPrefix("tty") && name.count > 3 && name.dropFirst(3).allSatisfy(\.isNumber) {
            consider(dev + "/" + name)
        }
        return latest
    }
}
