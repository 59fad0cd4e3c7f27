import Foundation

/// A deterministic mutation fuzzer: from the valid seeds, byte flips, interesting integers and
/// floats written over header fields, insertions, deletions, truncations, splices of two seeds and
/// format tokens (SIGPROC keywords, `.inf` labels, JSON fragments). The same `seed` always gives the
/// same inputs, so a failure found in the test suite can be replayed.
///
/// The full-size runs use libFuzzer (`scripts/fuzz.sh`); this one runs inside the test suite.
public struct MutationFuzzer {
    /// What a run did.
    public struct Report: Sendable {
        /// Inputs run (seeds included).
        public var inputs = 0
        /// Inputs accepted (the rest were refused with a clear error, or broke the contract).
        public var accepted = 0
        /// Inputs that broke the contract, with the violation (at most the first 10 are kept).
        public var failures: [(input: [UInt8], violation: ContractViolation)] = []
        /// Wall-clock seconds of the run.
        public var seconds = 0.0
        /// The slowest single input, seconds.
        public var slowest = 0.0
    }

    /// The target fuzzed.
    public let target: FuzzTarget
    /// One input taking longer than this is reported as a hang.
    public var hangSeconds = 2.0
    private var rng: SplitMix64

    /// A fuzzer for `target` whose mutations follow from `seed`.
    public init(target: FuzzTarget, seed: UInt64) {
        self.target = target
        self.rng = SplitMix64(seed: seed)
    }

    /// Runs every seed, then `mutations` mutated inputs, through `harness`.
    public mutating func run(seeds: [[UInt8]], mutations: Int, harness: FuzzHarness) -> Report {
        var report = Report()
        let start = Date()
        func one(_ input: [UInt8]) {
            let t0 = Date()
            var violation: ContractViolation?
            do {
                if try harness.run(target, input) == .accepted { report.accepted += 1 }
            } catch {
                violation = error
            }
            let dt = Date().timeIntervalSince(t0)
            report.slowest = max(report.slowest, dt)
            if violation == nil, dt > hangSeconds {
                violation = ContractViolation(target: target, message: "input took \(dt) s (hang)")
            }
            report.inputs += 1
            if let violation, report.failures.count < 10 { report.failures.append((input, violation)) }
        }
        seeds.forEach(one)
        guard !seeds.isEmpty else { return report }
        for _ in 0..<mutations {
            one(mutate(seeds, rounds: 1 + Int(rng.next() % 4)))
        }
        report.seconds = Date().timeIntervalSince(start)
        return report
    }

    /// One seed with `rounds` mutations applied.
    public mutating func mutate(_ seeds: [[UInt8]], rounds: Int) -> [UInt8] {
        var input = seeds[Int(rng.next() % UInt64(seeds.count))]
        for _ in 0..<rounds { mutateOnce(&input, seeds: seeds) }
        return input
    }

    private mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(rng.next() % UInt64(n)) }

    private mutating func mutateOnce(_ input: inout [UInt8], seeds: [[UInt8]]) {
        let tokens = Self.tokens(for: target)
        switch below(10) {
        case 0 where !input.isEmpty:  // flip a bit
            input[below(input.count)] ^= UInt8(1 << below(8))
        case 1 where !input.isEmpty:  // random byte
            input[below(input.count)] = UInt8(truncatingIfNeeded: rng.next())
        case 2 where !input.isEmpty:  // interesting little-endian integer
            let values: [Int64] = [0, 1, -1, 2, 3, 7, 8, 255, 256, 0x7fff, 0xffff, 0x7fff_ffff, -0x8000_0000, 0xffff_ffff, Int64.max, Int64.min]
            let width = [1, 2, 4, 8][below(4)]
            overwrite(&input, at: below(input.count), with: values[below(values.count)], width: width)
        case 3 where !input.isEmpty:  // interesting float64 / float32
            let values: [Double] = [0, -0.0, 1, -1, .nan, .infinity, -.infinity, 1e308, -1e308, Double.leastNonzeroMagnitude, 1e-300, 3.4e38]
            let v = values[below(values.count)]
            if rng.next() % 2 == 0 {
                overwrite(&input, at: below(input.count), with: Int64(bitPattern: v.bitPattern), width: 8)
            } else {
                overwrite(&input, at: below(input.count), with: Int64(Float(v).bitPattern), width: 4)
            }
        case 4 where !input.isEmpty:  // delete a range
            let at = below(input.count)
            input.removeSubrange(at..<min(input.count, at + 1 + below(16)))
        case 5:  // insert random bytes
            let bytes = (0..<(1 + below(8))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            input.insert(contentsOf: bytes, at: below(input.count + 1))
        case 6 where !input.isEmpty:  // truncate
            input.removeLast(1 + below(input.count))
        case 7:  // splice with another seed
            let other = seeds[below(seeds.count)]
            let cut = below(input.count + 1)
            input = Array(input[..<cut]) + Array(other[below(other.count + 1)...])
        case 8 where !input.isEmpty:  // duplicate a range
            let at = below(input.count)
            let chunk = input[at..<min(input.count, at + 1 + below(32))]
            input.insert(contentsOf: chunk, at: below(input.count + 1))
        default:  // a format token, replacing or inserted
            let token = tokens[below(tokens.count)]
            let at = below(input.count + 1)
            if rng.next() % 2 == 0 {
                input.replaceSubrange(at..<min(input.count, at + token.count), with: token)
            } else {
                input.insert(contentsOf: token, at: at)
            }
        }
    }

    private func overwrite(_ input: inout [UInt8], at: Int, with value: Int64, width: Int) {
        for i in 0..<width where at + i < input.count {
            input[at + i] = UInt8(truncatingIfNeeded: value >> (8 * i))
        }
    }

    /// Fragments of each format worth splicing in.
    static func tokens(for target: FuzzTarget) -> [[UInt8]] {
        func sigproc(_ s: String) -> [UInt8] {
            withUnsafeBytes(of: Int32(s.utf8.count).littleEndian, Array.init) + Array(s.utf8)
        }
        let text: [String]
        switch target {
        case .filterbank, .tim:
            let keywords = [
                "HEADER_START", "HEADER_END", "nbits", "nchans", "nifs", "tsamp", "fch1", "foff", "refdm", "signed",
                "source_name", "FREQUENCY_START", "fchannel", "FREQUENCY_END", "npuls", "nsamples", "data_type",
            ]
            return keywords.map(sigproc) + [[0xff, 0xff, 0xff, 0x7f], [0, 0, 0, 0x80], [0, 0, 0, 0]]
        case .psrfits:
            text = [
                "SIMPLE  =                    T", "XTENSION= 'BINTABLE'", "EXTNAME = 'SUBINT  '", "FITSTYPE= 'PSRFITS '",
                "NBITS   =                    ", "NCHAN   =                    ", "NPOL    =                    ",
                "NSBLK   =                    ", "NAXIS1  =                    ", "NAXIS2  =                    ",
                "TFORM7  = '", "POL_TYPE= 'IQUV    '", "TBIN    =  ", "END" + String(repeating: " ", count: 77), "0", "-1",
                "99999999999", "1E+300", "NaN", "'", "3", "16",
            ]
        case .inf:
            text = [
                " Number of bins in the time series   =  ", " Width of each time series bin (sec)   =  ",
                " Dispersion measure (cm-3 pc)   =  ", " Central freq of low channel (Mhz)  =  ",
                " Total bandwidth (Mhz) = ", " Channel bandwidth (Mhz) = ", " Any additional notes:\n", "\n", "=",
                "nan", "inf", "-1", "1e309", "99999999999999999999", "0x10", "\0", "\r",
            ]
        case .payload:
            text = [
                "XXWUNIT1", "\"bits\":16", "\"samplesPerSeries\":", "\"dms\":[", "\"scales\":[", "\"offsets\":[",
                "\"version\":2", "1e38", "3.4e38", "-1", "0", "9223372036854775807", "null", "[]", "{}", ",", "\"",
                "\"maxHarmonics\":", "\"birdies\":[{\"frequency\":1,\"width\":1e308,\"harmonics\":9999999}]",
            ]
        case .apiBodies:
            text = [
                "\"cores\":", "\"memory_mb\":", "\"speed\":", "\"seconds\":", "\"email\":", "\"name\":", "\"profile_id\":",
                "\"candidates\":[", "\"dmIndex\":", "\"harmonics\":", "\"frequency\":", "\"sigma\":", "null", "[]", "{}",
                "-9223372036854775808", "9223372036854775807", "1e308", "-1e308", "1e-320", "0", "-0", "\"\\u0000\"",
                "\"\\ud800\"", ",", ":", "\"", "true",
            ]
        }
        return text.map { Array($0.utf8) }
    }
}

/// A small, fast, seedable generator (SplitMix64), so runs are reproducible on every platform.
struct SplitMix64 {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
