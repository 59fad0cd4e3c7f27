import CSearchKernels

/// What any FFT search of a time series must do at least, with the search's own kernels: one
/// mean-subtracted copy into the transform's buffer, one real-to-complex FFTW transform, and one
/// pass over the spectrum turning it into powers. `xunxing bench floor` times it as a process, so
/// that a whole `xunxing search` can be measured against it (scripts/bench-whole-search.sh).
public enum SearchFloor {
    /// Runs the floor on `samples` and returns the sum of the powers (so nothing is optimised away).
    public static func run(_ samples: [Float], planner: FFTPlanner) -> Double {
        let count = samples.count
        let n = PeriodicitySearcher.fftSize(forSamples: count)
        let plan = planner.plan(size: n)
        let workspace = FFTWorkspace(size: n)
        var powers = [Float](repeating: 0, count: n / 2)
        samples.withUnsafeBufferPointer { x in
            let mean = Float(xx_sum(x.baseAddress!, count) / Double(max(1, count)))
            for i in 0..<count { workspace.real[i] = x[i] - mean }
        }
        (workspace.real + count).update(repeating: 0, count: n - count)
        plan.execute(input: workspace.real, output: workspace.complex)
        return powers.withUnsafeMutableBufferPointer { p in
            xx_powers(workspace.complex, p.baseAddress!, n / 2)
            return xx_sum(p.baseAddress!, n / 2)
        }
    }
}
