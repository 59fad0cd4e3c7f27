import ArgumentParser
import PulsarSearch

/// The FFA options of `search`, named after riptide's.
struct FFAArguments: ParsableArguments {
    @Flag(help: "Also search every DM trial with the Fast Folding Algorithm, for long periods and narrow pulses (riptide's search); its detections are sifted and folded with the Fourier search's.")
    var ffa = false

    @Flag(help: "Skip the Fourier search (with --ffa: the FFA alone).")
    var noFft = false

    @Option(help: "Shortest FFA period, s (raised to --ffa-bins-min samples of a coarse series).")
    var ffaPeriodMin: Double = FFAOptions().periodMin

    @Option(help: "Longest FFA period, s (lowered to a third of the observation).")
    var ffaPeriodMax: Double = FFAOptions().periodMax

    @Option(help: "Fewest phase bins of an FFA fold (the most is 13/12 of it): the duty-cycle resolution.")
    var ffaBinsMin: Int = FFAOptions().binsMin

    @Option(help: "Widest FFA boxcar as a fraction of the period.")
    var ffaDutyMax: Double = FFAOptions().dutyCycleMax

    @Option(help: "Running median subtracted before the FFA, s (riptide's rmed_width).")
    var ffaDetrend: Double = FFAOptions().detrendSeconds

    /// The FFA options, nil without --ffa.
    var options: FFAOptions? {
        guard ffa else { return nil }
        var o = FFAOptions()
        o.periodMin = ffaPeriodMin
        o.periodMax = ffaPeriodMax
        o.binsMin = ffaBinsMin
        o.binsMax = max(ffaBinsMin + 1, ffaBinsMin * 13 / 12)
        o.dutyCycleMax = ffaDutyMax
        o.detrendSeconds = ffaDetrend
        return o
    }

    func validate() throws {
        if noFft && !ffa { throw ValidationError("--no-fft leaves nothing to search: add --ffa") }
        if let problem = options?.problem { throw ValidationError(problem) }
    }
}
