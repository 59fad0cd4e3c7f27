/// Golden-section search for the maximum of a function that has one peak in an interval: how the
/// search polishes a peak's frequency after a coarse grid (``PeriodicitySearcher`` for a harmonic
/// sum, ``HarmonicMeasurement`` for one harmonic).
enum GoldenSection {
    /// After `iterations` narrowings of `a ... b`, the better of the two inner points and its value.
    static func maximum(from a: Double, to b: Double, iterations: Int, _ f: (Double) -> Double) -> (x: Double, value: Double) {
        var a = a, b = b
        let g = 0.618033988749895
        var c = b - g * (b - a), d = a + g * (b - a)
        var fc = f(c), fd = f(d)
        for _ in 0..<iterations {
            if fc > fd {
                b = d; d = c; fd = fc; c = b - g * (b - a); fc = f(c)
            } else {
                a = c; c = d; fc = fd; d = a + g * (b - a); fd = f(d)
            }
        }
        return fc > fd ? (c, fc) : (d, fd)
    }
}
