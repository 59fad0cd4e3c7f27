import Foundation

/// Reads power supplies and thermal zones from a /sys tree (`root` is `/sys`, or a fake tree in tests).
public struct SysReader: Sendable {
    public let root: String

    public init(root: String = "/sys") {
        self.root = root
    }

    func read(_ path: String) -> String? {
        (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func entries(_ directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
            .map { (directory as NSString).appendingPathComponent($0) }
    }

    /// True when the machine runs on battery: a battery reports `Discharging`, or there are
    /// external supplies (Mains, USB) and none is `online`. False without power supplies (desktops
    /// and servers without batteries).
    public func onBattery() -> Bool {
        var external = 0, externalOnline = 0, discharging = false
        for supply in entries(root + "/class/power_supply") {
            let type = read(supply + "/type") ?? ""
            if type == "Battery" {
                if read(supply + "/status") == "Discharging" { discharging = true }
            } else if let online = read(supply + "/online") {
                external += 1
                if online == "1" { externalOnline += 1 }
            }
        }
        if discharging { return true }
        return external > 0 && externalOnline == 0
    }

    /// The hottest thermal zone, °C (`thermal_zone*/temp` holds millidegrees); nil without zones.
    public func hottestZoneCelsius() -> Double? {
        var hottest: Double?
        for zone in entries(root + "/class/thermal") where (zone as NSString).lastPathComponent.hasPrefix("thermal_zone") {
            guard let text = read(zone + "/temp"), let milli = Double(text) else { continue }
            let celsius = milli / 1000
            hottest = max(hottest ?? celsius, celsius)
        }
        return hottest
    }
}
