import Foundation

/// CPU time as the work units report it, the benchmarks measure it and the worker's duty cycle
/// meters it: the one reading of each clock.
public enum CPUClock {
    /// CPU seconds (user and system) this process has used so far.
    public static func processSeconds() -> Double { seconds(CLOCK_PROCESS_CPUTIME_ID) }

    /// CPU seconds the calling thread has used so far.
    public static func threadSeconds() -> Double { seconds(CLOCK_THREAD_CPUTIME_ID) }

    private static func seconds(_ clock: clockid_t) -> Double {
        var ts = timespec()
        clock_gettime(clock, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
}
