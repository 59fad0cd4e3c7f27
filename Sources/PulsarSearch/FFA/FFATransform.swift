import CSearchKernels

/// The Fast Folding Algorithm (Staelin 1969) for any number of rows: `rows` consecutive stretches of
/// `bins` samples (a series cut at a trial period of `bins` samples) are summed with every drift
/// from 0 to `rows - 1` bins across the stretches, in `rows x bins x log2(rows)` additions instead
/// of `rows^2 x bins`.
///
/// Output row `s` is the fold in which stretch `i` is read `d_i(s)` bins later in phase, with
/// `d_0 = 0`, `d_{rows-1} = s`, and `d_i(s)` within about `log2(rows) / 2` bins of the straight
/// line `i s / (rows - 1)`: the fold at a period of `bins + s / (rows - 1)` samples. The rows are
/// halved (a head of `rows / 2` and the rest, a tail) down to one stretch; a drift `s` over all rows
/// is the head's own fold at drift `round(s (h-1) / (rows-1))` plus the tail's at
/// `round(s (t-1) / (rows-1))`, the tail turned by what makes its last stretch land at exactly `s`.
/// Any row count works this way, not only powers of two.
public enum FFATransform {
    /// Transforms `rows x bins` samples of `input` into `output` (same size), using `scratch` (same
    /// size) as working space. `input` is not changed.
    public static func transform(
        _ input: UnsafePointer<Float>, rows: Int, bins: Int,
        into output: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>
    ) {
        precondition(rows >= 1 && bins >= 1, "an FFA needs at least one row of one bin")
        recurse(input, rows: rows, bins: bins, output: output, scratch: scratch)
    }

    /// The head's and the tail's drifts and the turn of the tail for output row `s` of `rows` rows
    /// split into a head of `head` rows.
    @inline(__always)
    static func split(_ s: Int, rows: Int, head: Int) -> (head: Int, tail: Int, turn: Int) {
        let tail = rows - head
        let scale = 1 / Double(rows - 1)
        let h = Int((Double(s * (head - 1)) * scale).rounded())
        let t = Int((Double(s * (tail - 1)) * scale).rounded())
        return (h, t, s - t)
    }

    private static func recurse(
        _ input: UnsafePointer<Float>, rows: Int, bins: Int,
        output: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>
    ) {
        if rows == 1 {
            output.update(from: input, count: bins)
            return
        }
        let head = rows / 2
        let tail = rows - head
        // The halves are transformed into `scratch` (each using its part of `output` as working
        // space), then merged into `output`.
        recurse(input, rows: head, bins: bins, output: scratch, scratch: output)
        recurse(input + head * bins, rows: tail, bins: bins, output: scratch + head * bins, scratch: output + head * bins)
        let heads = UnsafePointer(scratch), tails = UnsafePointer(scratch + head * bins)
        for s in 0..<rows {
            let (h, t, turn) = split(s, rows: rows, head: head)
            addTurned(heads + h * bins, tails + t * bins, turn: turn % bins, bins: bins, into: output + s * bins)
        }
    }

    /// `out[j] = a[j] + b[(j + turn) mod bins]` (AVX2 where the CPU has it).
    @inline(__always)
    static func addTurned(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, turn: Int, bins: Int, into out: UnsafeMutablePointer<Float>
    ) {
        xx_add_turned(a, b, turn, bins, out)
    }
}
