import CFFTW3
import Foundation

/// How hard FFTW works to find a fast plan. `measure` runs trial transforms (seconds to minutes for
/// large sizes; keep wisdom); `estimate` plans instantly from heuristics and runs 1.5-2.5x slower.
public enum FFTRigor: String, Sendable, CaseIterable, Codable {
    case estimate, measure, patient

    var flags: UInt32 {
        switch self {
        case .estimate: return 1 << 6  // FFTW_ESTIMATE
        case .measure: return 0  // FFTW_MEASURE
        case .patient: return 1 << 5  // FFTW_PATIENT
        }
    }
}

/// A single-precision real-to-complex FFTW plan for one length. Executes on any arrays allocated by
/// `FFTWorkspace` (FFTW's new-array interface, safe to call from several threads at once).
public struct RealFFTPlan: @unchecked Sendable {
    /// Transform length in real samples.
    public let size: Int
    let handle: OpaquePointer

    /// True when `input` has the same SIMD alignment as `reference` (an `FFTWorkspace` buffer, the
    /// kind the plan was made for), so the plan may read it directly.
    public func canExecute(onInput input: UnsafePointer<Float>, like reference: UnsafeMutablePointer<Float>) -> Bool {
        fftwf_alignment_of(UnsafeMutablePointer(mutating: input)) == fftwf_alignment_of(reference)
    }

    /// Transforms `input` (`size` reals) into `output` (`size / 2 + 1` complex values, interleaved re, im).
    public func execute(input: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>) {
        output.withMemoryRebound(to: fftwf_complex.self, capacity: size / 2 + 1) { complex in
            fftwf_execute_dft_r2c(handle, input, complex)
        }
    }
}

/// Plans FFTW transforms once per size and process, and keeps FFTW wisdom in a file so that
/// expensive `measure` planning is paid once per machine.
///
/// With `deferred`, a size that has no wisdom at `rigor` yet is planned with `estimate` at once (in
/// milliseconds, 1.5-2.5x slower to execute) and queued; ``improveNextPlan(timeLimit:)`` plans it
/// at `rigor` later, when the caller has idle time, and later calls to ``plan(size:)`` get the
/// better plan. A fresh host's first work then costs what the search costs, not a minute of
/// planning nobody asked for.
///
/// FFTW's planner is not thread safe; every planner call here holds one process-wide lock. The
/// plans already made are behind a second lock, so a search asking for a plan it has does not wait
/// for a measurement in progress.
public final class FFTPlanner: @unchecked Sendable {
    private static let plannerLock = NSLock()
    private let plansLock = NSLock()

    /// The rigor used for new plans (for `deferred` planners: the rigor they are improved to).
    public let rigor: FFTRigor
    /// Whether sizes without wisdom are planned with `estimate` first and improved later.
    public let deferred: Bool
    /// Where wisdom is read from and saved to, if anywhere.
    public let wisdomPath: String?
    private var plans: [Int: RealFFTPlan] = [:]
    /// Sizes planned with `estimate` that a deferred planner still has to improve, oldest first.
    private var pending: [Int] = []
    /// Replaced plans: a search may still be executing one, so they live as long as the planner.
    private var retired: [RealFFTPlan] = []
    private var wisdomDirty = false

    /// Creates a planner; imports wisdom from `wisdomPath` if that file exists.
    public init(rigor: FFTRigor = .estimate, wisdomPath: String? = nil, deferred: Bool = false) {
        self.rigor = rigor
        self.deferred = deferred && rigor != .estimate
        self.wisdomPath = wisdomPath
        if let wisdomPath, FileManager.default.fileExists(atPath: wisdomPath) {
            Self.plannerLock.lock()
            _ = fftwf_import_wisdom_from_filename(wisdomPath)
            Self.plannerLock.unlock()
        }
    }

    deinit {
        try? saveWisdom()
        Self.plannerLock.lock()
        for plan in plans.values { fftwf_destroy_plan(plan.handle) }
        for plan in retired { fftwf_destroy_plan(plan.handle) }
        Self.plannerLock.unlock()
    }

    /// The plan for `size` real points, created on first use.
    public func plan(size: Int) -> RealFFTPlan {
        plansLock.lock()
        if let plan = plans[size] {
            plansLock.unlock()
            return plan
        }
        plansLock.unlock()
        Self.plannerLock.lock()
        defer { Self.plannerLock.unlock() }
        // Another thread may have planned it while this one waited.
        if let plan = withPlans({ plans[size] }) { return plan }
        let made: RealFFTPlan
        if deferred {
            // Wisdom only: nil unless this machine has measured the size before.
            if let known = Self.makePlan(size: size, flags: rigor.flags | (1 << 21)) {
                made = known
            } else {
                made = Self.makePlan(size: size, flags: FFTRigor.estimate.flags)!
                withPlans { pending.append(size) }
            }
        } else {
            guard let plan = Self.makePlan(size: size, flags: rigor.flags) else {
                fatalError("FFTW could not plan a real transform of \(size) points")
            }
            made = plan
            if rigor != .estimate { wisdomDirty = true }
        }
        withPlans { plans[size] = made }
        return made
    }

    /// Sizes still planned with `estimate` that ``improveNextPlan(timeLimit:)`` would improve.
    public var sizesToImprove: [Int] { withPlans { pending } }

    /// Plans the oldest size waiting for improvement at `rigor`, spending at most about
    /// `timeLimit` seconds (FFTW keeps the best plan it found in that time), and saves the wisdom.
    /// Returns the size improved, or nil if none was waiting. Blocks other planning meanwhile, but
    /// not searches that already have their plans.
    @discardableResult
    public func improveNextPlan(timeLimit: Double = 10) -> Int? {
        guard let size = withPlans({ pending.first }) else { return nil }
        Self.plannerLock.lock()
        fftwf_set_timelimit(timeLimit)
        let better = Self.makePlan(size: size, flags: rigor.flags)
        fftwf_set_timelimit(-1)  // FFTW_NO_TIMELIMIT
        if better != nil { wisdomDirty = true }
        Self.plannerLock.unlock()
        withPlans {
            pending.removeAll { $0 == size }
            if let better, let old = plans[size] {
                retired.append(old)
                plans[size] = better
            }
        }
        try? saveWisdom()
        return size
    }

    /// A plan on scratch buffers (planning with `measure` overwrites its arrays); the caller holds
    /// the planner lock.
    private static func makePlan(size: Int, flags: UInt32) -> RealFFTPlan? {
        let input = fftwf_alloc_real(size)!
        let output = fftwf_alloc_complex(size / 2 + 1)!
        defer {
            fftwf_free(input)
            fftwf_free(output)
        }
        guard let handle = fftwf_plan_dft_r2c_1d(Int32(size), input, output, flags) else { return nil }
        return RealFFTPlan(size: size, handle: handle)
    }

    private func withPlans<T>(_ body: () -> T) -> T {
        plansLock.lock()
        defer { plansLock.unlock() }
        return body()
    }

    /// Writes accumulated wisdom to `wisdomPath` (creating its directory) if new plans were measured.
    public func saveWisdom() throws {
        Self.plannerLock.lock()
        defer { Self.plannerLock.unlock() }
        try saveWisdomLocked()
    }

    /// Like ``saveWisdom()``, but only if no plan is being made now (a process that is stopping
    /// need not wait for a measurement it can repeat); returns false when it did not try.
    @discardableResult
    public func saveWisdomIfIdle() throws -> Bool {
        guard Self.plannerLock.try() else { return false }
        defer { Self.plannerLock.unlock() }
        try saveWisdomLocked()
        return true
    }

    private func saveWisdomLocked() throws {
        guard let wisdomPath else { return }
        guard wisdomDirty else { return }
        let directory = (wisdomPath as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        if fftwf_export_wisdom_to_filename(wisdomPath) == 0 {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: wisdomPath])
        }
        wisdomDirty = false
    }

    /// The smallest length >= `minimum` whose only prime factors are 2, 3, 5 and 7 (fast for FFTW).
    public static func goodSize(atLeast minimum: Int) -> Int {
        var n = max(2, minimum)
        if n % 2 == 1 { n += 1 }
        while true {
            var m = n
            for p in [2, 3, 5, 7] { while m % p == 0 { m /= p } }
            if m == 1 { return n }
            n += 2
        }
    }
}

/// Per-thread FFT buffers, aligned as FFTW wants them. Not shareable between threads.
public final class FFTWorkspace {
    /// Transform length in real samples.
    public let size: Int
    /// `size` real samples.
    public let real: UnsafeMutablePointer<Float>
    /// `size / 2 + 1` complex values, interleaved (re, im).
    public let complex: UnsafeMutablePointer<Float>

    public init(size: Int) {
        self.size = size
        real = fftwf_alloc_real(size)!
        complex = UnsafeMutableRawPointer(fftwf_alloc_complex(size / 2 + 1)!).bindMemory(
            to: Float.self, capacity: 2 * (size / 2 + 1))
    }

    deinit {
        fftwf_free(real)
        fftwf_free(complex)
    }
}
