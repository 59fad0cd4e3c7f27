import Foundation
import PulsarSearch
import XunxingProtocol

/// Valid inputs for every target, written by the project's own writers, from which the fuzzers
/// mutate. Every seed is small (a few KiB at most) so that mutations stay fast.
public enum SeedCorpus {
    /// The seeds of `target`; every one of them is accepted by its reader.
    public static func seeds(for target: FuzzTarget, scratch: FuzzHarness) throws -> [[UInt8]] {
        switch target {
        case .filterbank: return try filterbanks(scratch)
        case .psrfits: return try psrfitsFiles(scratch)
        case .tim: return try timeSeries(scratch)
        case .inf: return try presto(scratch)
        case .payload: return try payloads(scratch)
        case .apiBodies: return try bodies()
        }
    }

    /// Deterministic test values: a ramp with a little pattern, in `0..<levels`.
    static func values(_ count: Int, levels: Int) -> [Float] {
        (0..<count).map { Float(($0 * 7 + $0 / 3) % max(levels, 1)) }
    }

    static func readBack(_ path: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Filterbanks at every bit width, both channel orders, two IFs and signed 8-bit samples.
    static func filterbanks(_ scratch: FuzzHarness) throws -> [[UInt8]] {
        var seeds: [[UInt8]] = []
        let shapes: [(nbits: Int, nchans: Int, foff: Double, nifs: Int, signed: Bool?)] = [
            (1, 16, -1, 1, nil), (2, 8, -0.5, 1, nil), (4, 8, 0.25, 1, nil), (8, 8, -1, 1, nil),
            (8, 4, -1, 2, nil), (8, 4, 1, 1, true), (16, 4, -2, 1, nil), (16, 2, 2, 1, true), (32, 4, -1, 1, nil),
        ]
        for (i, s) in shapes.enumerated() {
            var header = FilterbankHeader(
                sourceName: "seed\(i)", fch1: 1400, foff: s.foff, nchans: s.nchans, nbits: s.nbits, tsamp: 64e-6,
                nifs: s.nifs)
            header.isSigned = s.signed
            header.refdm = i.isMultiple(of: 2) ? 10 : nil
            header.telescopeID = 6
            let path = scratch.path("seed.fil")
            let writer = try FilterbankWriter(path: path, header: header)
            let levels = s.nbits == 32 ? 1000 : min(1 << s.nbits, 200)
            let data = values(16 * s.nchans * s.nifs, levels: levels)
            try data.withUnsafeBufferPointer { try writer.write($0) }
            try writer.close()
            seeds.append(try readBack(path))
        }
        return seeds
    }

    /// PSRFITS files at every bit width and polarisation type, both channel orders, two rows each.
    static func psrfitsFiles(_ scratch: FuzzHarness) throws -> [[UInt8]] {
        var seeds: [[UInt8]] = []
        let shapes: [(bits: Int, pol: String, npol: Int, ascending: Bool)] = [
            (1, "AA+BB", 1, false), (2, "AABB", 2, true), (4, "IQUV", 4, false), (8, "AABBCRCI", 4, true), (8, "AA+BB", 1, false),
        ]
        for (i, s) in shapes.enumerated() {
            let nch = 8, nsblk = 8
            let freqs = (0..<nch).map { s.ascending ? 1300 + Double($0) : 1400 - Double($0) }
            let path = scratch.path("seed.fits")
            let info = ObservationInfo(format: "psrfits", telescope: "Parkes", source: "seed\(i)", mjd: 60000.5,
                                       raDegrees: 10, decDegrees: -20)
            let writer = try PSRFITSWriter(path: path, info: info, frequencies: freqs, sampleTime: 64e-6, bitsPerSample: s.bits,
                                           samplesPerRow: nsblk, polType: s.pol)
            for _ in 0..<2 {
                let samples = values(nsblk * s.npol * nch, levels: 1 << s.bits).map { UInt8($0) }
                let scales = (0..<(nch * s.npol)).map { Float(1 + $0 % 3) }
                try writer.appendRow(samples: samples, scale: scales, offset: scales.map { $0 - 2 }, weight: [Float](repeating: 1, count: nch))
            }
            try writer.close()
            seeds.append(try readBack(path))
        }
        return seeds
    }

    /// `.tim` files at 8, 16 and 32 bits, with and without a reference frequency.
    static func timeSeries(_ scratch: FuzzHarness) throws -> [[UInt8]] {
        var seeds: [[UInt8]] = []
        for (i, nbits) in [8, 16, 32, 32].enumerated() {
            let series = TimeSeries(
                samples: values(48, levels: 97), tsamp: 128e-6, dm: Double(i) * 12.5, sourceName: "tim\(i)",
                frequencyMHz: i.isMultiple(of: 2) ? 1382 : nil)
            let path = scratch.path("seed.tim")
            try TimeSeriesFile.writeTim(series, path: path, nbits: nbits)
            seeds.append(try readBack(path))
        }
        return seeds
    }

    /// PRESTO pairs, `.inf` text, a NUL, then the `.dat` bytes.
    static func presto(_ scratch: FuzzHarness) throws -> [[UInt8]] {
        var seeds: [[UInt8]] = []
        for i in 0..<2 {
            let series = TimeSeries(
                samples: values(24, levels: 13), tsamp: 0.5e-3, dm: 30.25, sourceName: "J0000+00",
                frequencyMHz: i == 0 ? 1400 : nil)
            let base = scratch.path("seed")
            try TimeSeriesFile.writePresto(series, basePath: base)
            seeds.append(try readBack(base + ".inf") + [0] + readBack(base + ".dat"))
        }
        return seeds
    }

    /// Payloads of 8 and 16-bit samples.
    static func payloads(_ scratch: FuzzHarness) throws -> [[UInt8]] {
        var seeds: [[UInt8]] = []
        for bits in [8, 16] {
            var search = SpectralSearchParameters()
            search.maxHarmonics = 8
            search.birdies = [Birdie(frequency: 50, width: 0.1, harmonics: 2)]
            let header = WorkUnitHeader(
                workUnitID: "wu-\(bits)", datasetID: "ds-1", sampleTime: 1e-3, downsample: 2, samplesPerSeries: 32,
                dms: [0, 12.5], dmIndices: [0, 5], accelerations: [0, 1.5], search: search, estimatedCost: 3)
            let series = [values(32, levels: 50), values(32, levels: 9).map { $0 * -0.5 + 3 }]
            let buffers = series.map { values -> UnsafeMutableBufferPointer<Float> in
                let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: values.count)
                _ = buffer.initialize(from: values)
                return buffer
            }
            defer { buffers.forEach { $0.deallocate() } }
            let path = scratch.path("seed.xxwu")
            try WorkUnitPayload.write(
                header: header, bits: bits, seriesCount: 2, series: { UnsafeBufferPointer(buffers[$0]) }, to: path)
            seeds.append(try readBack(path))
        }
        return seeds
    }

    /// One valid body of every kind, selector byte first.
    static func bodies() throws -> [[UInt8]] {
        let encoder = WireCoding.encoder()
        func seed<T: Encodable>(_ kind: APIBody, _ value: T) throws -> [UInt8] {
            [kind.rawValue] + Array(try encoder.encode(value))
        }
        let candidates = [
            SeriesCandidate(frequency: 7.25, harmonics: 4, power: 40, sigma: 9.5, acceleration: 0, dm: 12.5, dmIndex: 5),
            SeriesCandidate(frequency: 14.5, harmonics: 2, power: 30, sigma: 7.5, acceleration: 1.5, dm: 12.5, dmIndex: 5),
            SeriesCandidate(frequency: 7.25, harmonics: 4, power: 38, sigma: 9, acceleration: 0, dm: 15, dmIndex: 6),
        ]
        return [
            try seed(.signup, SignupRequest(email: "ada@example.org", name: "Ada")),
            try seed(.hostRegistration, HostRegistration(name: "pi", cores: 4, memoryMB: 4096, os: "Debian 12")),
            try seed(.workRequest, WorkRequest(cores: 4, memoryMB: 4096, speed: 1.25, seconds: 3600)),
            try seed(.result, WorkUnitResult(
                workUnitID: "wu-1", candidates: candidates, cpuSeconds: 12.5, elapsedSeconds: 4, seriesSearched: 4,
                software: "xunxing-worker 0.1")),
            try seed(.platformLink, PlatformLink(linkCode: "xxlink1.dm9sdW50ZWVyLTQy.1796000000.n1.00")),
        ]
    }
}
