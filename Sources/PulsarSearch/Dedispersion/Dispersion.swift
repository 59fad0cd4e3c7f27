/// Cold-plasma dispersion: the arrival delay of a radio pulse grows with the dispersion measure (DM)
/// and falls with the square of the observing frequency.
public enum Dispersion {
    /// The dispersion constant k_DM in s MHz^2 pc^-1 cm^3 (Kulkarni 2020 value; PRESTO uses 1/2.41e-4,
    /// SIGPROC 4148.741601: they differ by 0.014%).
    public static let constant: Double = 4.148808e3

    /// Delay in seconds of frequency `f` (MHz) relative to `fReference` (MHz) at dispersion measure `dm`.
    /// Positive when `f` is below `fReference`.
    @inlinable
    public static func delay(dm: Double, frequency f: Double, reference fReference: Double) -> Double {
        constant * dm * (1.0 / (f * f) - 1.0 / (fReference * fReference))
    }

    /// Smearing in seconds of a pulse across one channel of width `channelWidth` MHz centred on `f` MHz.
    @inlinable
    public static func channelSmearing(dm: Double, frequency f: Double, channelWidth: Double) -> Double {
        2.0 * constant * dm * abs(channelWidth) / (f * f * f)
    }
}
