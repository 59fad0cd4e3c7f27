import Foundation
import XunxingClient
import XunxingProtocol
import XunxingSupport

/// The volunteer's charity hours, from the coordinator's `GET /api/v1/hosts/me` (with the host
/// key). While the coordinator cannot be reached the last figure stays, with the time it was heard.
public enum HoursProbe {
    /// Seconds between probes while the daemon runs.
    public static let interval = 900.0

    /// The volunteer's total hours, or nil when the call fails.
    public static func fetch(client: CoordinatorClient) -> Double? {
        (try? client.hostHours())?.volunteerHoursTotal
    }

    static func startPolling(client: CoordinatorClient, shared: Locked<DaemonState>, stop: StopFlag) {
        startThread(name: "hours", stackSize: 1 << 20) {
            repeat {
                if let hours = fetch(client: client) {
                    shared.with {
                        $0.hours = hours
                        $0.hoursUpdatedAt = Date()
                    }
                }
            } while !stop.wait(seconds: interval)
        }
    }
}
