import Foundation
import PulsarSearch

/// Timing for the bench commands.
enum BenchTiming {

    /// Runs `run` `repeats` times (at least once) and returns the median wall and CPU (user +
    /// system) seconds of a run.
    static func median(repeats: Int, _ run: () throws -> Void) rethrows -> (wall: Double, cpu: Double) {
        var walls: [Double] = [], cpus: [Double] = []
        for _ in 0..<max(1, repeats) {
            let start = DispatchTime.now().uptimeNanoseconds, cpu = CPUClock.processSeconds()
            try run()
            walls.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            cpus.append(CPUClock.processSeconds() - cpu)
        }
        return (walls.sorted()[walls.count / 2], cpus.sorted()[cpus.count / 2])
    }
}
