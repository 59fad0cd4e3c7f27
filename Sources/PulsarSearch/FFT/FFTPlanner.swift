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
/// FFTW's planner is not thread safe; every planner call here holds one process-wide lock.
public final class FFTPlanner: @unchecked Sendable {
    private static let plannerLock = NSLock()

    /// The rigor used for new plans.
    public let rigor: FFTRigor
    /// Where wisdom is read from and saved to, if anywhere.
    public let wisdomPath: String?
    private var plans: [Int: RealFFTPlan] = [:]
    private var wisdomDirty = false

    /// Creates a planner; imports wisdom from `wisdomPath` if that file exists.
    public init(rigor: FFTRigor = .estimate, wisdomPath: String? = nil) {
        self.rigor = rigor
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
        Self.plannerLock.unlock()
    }

    /// The plan for `size` real points, created on first use.
    public func plan(size: Int) -> RealFFTPlan {
        Self.plannerLock.lock()
        defer { Self.plannerLock.unlock() }
        if let plan = plans[size] { return plan }
        // Planning with `measure` overwrites its arrays: plan on scratch buffers.
        let input = fftwf_alloc_real(size)!
        let output = fftwf_alloc_complex(size / 2 + 1)!
        defer {
            fftwf_free(input)
            fftwf_free(output)
        }
        guard let handle = fftwf_plan_dft_r2c_1d(Int32(size), input, output, rigor.flags) else {
            fatalError("FFTW could not plan a real transform of \(size) points")
        }
        let plan = RealFFTPlan(size: size, handle: handle)
        plans[size] = plan
        if rigor != .estimate { wisdomDirty = true }
        return plan
    }

    /// Writes accumulated wisdom to `wisdomPath` (creating its directory) if new plans were measured.
    public func saveWisdom() throws {
        guard let wisdomPath else { return }
        Self.plannerLock.lock()
        defer { Self.plannerLock.unlock() }
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
