/// A known interference frequency (mains, its harmonics, a local oscillator) to zap before searching.
public struct Birdie: Sendable, Codable, Equatable {
    /// Centre frequency in Hz.
    public var frequency: Double
    /// Full width in Hz of the zapped band (at least one Fourier bin is always zapped).
    public var width: Double
    /// Zap this many harmonics of `frequency` (1 = only the frequency itself).
    public var harmonics: Int

    public init(frequency: Double, width: Double, harmonics: Int = 1) {
        self.frequency = frequency
        self.width = width
        self.harmonics = harmonics
    }

    /// Parses `FREQ:WIDTH[:HARMONICS]`, e.g. `50:0.2:10` for 50 Hz mains and ten harmonics.
    public init?(argument: String) {
        let parts = argument.split(separator: ":").map(String.init)
        guard parts.count >= 2, parts.count <= 3,
            let f = Double(parts[0]), let w = Double(parts[1]), f > 0, w >= 0
        else { return nil }
        let h = parts.count == 3 ? Int(parts[2]) : 1
        guard let h, h >= 1 else { return nil }
        self.init(frequency: f, width: w, harmonics: h)
    }

    /// The bin ranges this birdie covers in a spectrum of `bins` bins with resolution `1 / duration`.
    func binRanges(duration: Double, bins: Int) -> [ClosedRange<Int>] {
        var ranges: [ClosedRange<Int>] = []
        for h in 1...harmonics {
            let centre = frequency * Double(h) * duration
            let half = max(0.5, 0.5 * width * duration)
            let lo = max(1, Int((centre - half).rounded(.down)))
            let hi = min(bins - 1, Int((centre + half).rounded(.up)))
            if lo <= hi { ranges.append(lo...hi) }
        }
        return ranges
    }
}
