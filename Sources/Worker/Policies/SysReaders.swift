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

    /// True when the machine runs on battery. Only the system's own supplies count: a supply whose
    /// `scope` is `Device` (a wireless mouse's or a headset's battery, a peripheral's charger) is
    /// ignored. On battery means a system battery exists, no system external supply (Mains, USB,
    /// ...) is `online`, and either a system battery reports `Discharging` or there are external
    /// supplies and all are offline. Mains online is never on battery, whatever the battery says.
    /// False without power supplies (desktops and servers).
    public func onBattery() -> Bool {
        var batteries = 0, external = 0, externalOnline = 0, discharging = false
        for supply in entries(root + "/class/power_supply") {
            // `scope` is absent on most system supplies (older kernels, ACPI): absent means System.
            if let scope = read(supply + "/scope"), scope.lowercased() == "device" { continue }
            let type = read(supply + "/type") ?? ""
            if type == "Battery" {
                batteries += 1
                if read(supply + "/status") == "Discharging" { discharging = true }
            } else if let online = read(supply + "/online") {
                external += 1
                if online == "1" { externalOnline += 1 }
            }
        }
        guard batteries > 0, externalOnline == 0 else { return false }
        return discharging || external > 0
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
