import Foundation
import PulsarSearch
import Testing

/// SIGPROC .tim and PRESTO .dat/.inf round trips.
@Suite("Formats: time series files")
struct FormatsTimeSeriesTests {
    static func sampleSeries(count: Int = 4099) -> TimeSeries {
        var rng = FormatsFixtures.Random(seed: 42)
        let samples = (0..<count).map { i in
            Float(sin(Double(i) * 0.01)) * 5 + Float(Double.random(in: -1...1, using: &rng)) + 100
        }
        return TimeSeries(
            samples: samples, tsamp: 320e-6, dm: 29.87, tstart: 58999.123456789, sourceName: "J1234-5678",
            frequencyMHz: 1475.3)
    }

    @Test(".tim round trip", arguments: [8, 16, 32])
    func timRoundTrip(nbits: Int) throws {
        let dir = try FormatsFixtures.temporaryDirectory()
        defer { FormatsFixtures.remove(dir) }
        let path = dir.appendingPathComponent("series.tim").path
        let series = Self.sampleSeries()
        try TimeSeriesFile.writeTim(series, path: path, nbits: nbits)
        let back = try TimeSeriesFile.read(path: path)
        #expect(back.samples.count == series.samples.count)
        #expect(back.tsamp == series.tsamp)
        #expect(back.dm == series.dm)
        #expect(back.tstart == series.tstart)
        #expect(back.sourceName == series.sourceName)
        #expect(back.frequencyMHz == series.frequencyMHz)
        #expect(abs(back.duration - series.duration) < 1e-12)

        let header = try SigprocHeader.decode(path: path).header
        #expect(header.nchans == 1 && header.dataType == 2 && header.nbits == nbits && header.refdm == series.dm)

        if nbits == 32 {
            #expect(back.samples == series.samples)
        } else {
            // Documented scaling: min -> 0, max -> 2^nbits - 1, rounded to nearest.
            let low = series.samples.min()!
            let high = series.samples.max()!
            let levels = Float((1 << nbits) - 1)
            let scale = levels / (high - low)
            var worst: Float = 0
            for (x, q) in zip(series.samples, back.samples) {
                #expect(q >= 0 && q <= levels && q == q.rounded())
                worst = max(worst, abs((x - low) * scale - q))
            }
            #expect(worst <= 0.5 + 1e-3)
            #expect(back.samples.min() == 0 && back.samples.max() == levels)
        }
    }

    @Test(".tim without a known frequency")
    func timWithoutFrequency() throws {
        let dir = try FormatsFixtures.temporaryDirectory()
        defer { FormatsFixtures.remove(dir) }
        let path = dir.appendingPathComponent("nofreq.tim").path
        let series = TimeSeries(samples: [1, 2, 3, -4.5], tsamp: 1e-3)
        try TimeSeriesFile.writeTim(series, path: path)
        let back = try TimeSeriesFile.read(path: path)
        #expect(back.samples == series.samples)
        #expect(back.frequencyMHz == nil)
        #expect(back.dm == 0 && back.tstart == 60000 && back.sourceName == "")
    }

    @Test(".dat/.inf round trip via both paths")
    func prestoRoundTrip() throws {
        let dir = try FormatsFixtures.temporaryDirectory()
        defer { FormatsFixtures.remove(dir) }
        let base = dir.appendingPathComponent("series_DM29.87").path
        let series = Self.sampleSeries()
        try TimeSeriesFile.writePresto(series, basePath: base)
        #expect(FileManager.default.fileExists(atPath: base + ".dat"))
        let datSize = try FileManager.default.attributesOfItem(atPath: base + ".dat")[.size] as? Int
        #expect(datSize == series.samples.count * 4)
        for path in [base + ".dat", base + ".inf"] {
            let back = try TimeSeriesFile.read(path: path)
            #expect(back.samples == series.samples)
            #expect(back.tsamp == series.tsamp)
            #expect(back.dm == series.dm)
            #expect(back.tstart == series.tstart)
            #expect(back.sourceName == series.sourceName)
            #expect(back.frequencyMHz == series.frequencyMHz)
        }
        let inf = try String(contentsOfFile: base + ".inf", encoding: .utf8)
        #expect(inf.contains(" Number of bins in the time series      =  4099\n"))
    }

    @Test("reads a PRESTO-written .inf with breaks and notes")
    func prestoStyleInf() throws {
        let dir = try FormatsFixtures.temporaryDirectory()
        defer { FormatsFixtures.remove(dir) }
        let base = dir.appendingPathComponent("name")
        let inf = """
             Data file name without suffix          =  name
             Telescope used                         =  Parkes
             Instrument used                        =  Multibeam
             Object being observed                  =  J0000+00
             J2000 Right Ascension (hh:mm:ss.ssss)  =  00:00:00.0000
             J2000 Declination     (dd:mm:ss.ssss)  =  00:00:00.0000
             Data observed by                       =  Unknown
             Epoch of observation (MJD)             =  60000.000000000000000
             Barycentered?           (1=yes, 0=no)  =  0
             Number of bins in the time series      =  6
             Width of each time series bin (sec)    =  0.00032
             Any breaks in the data? (1=yes, 0=no)  =  1
             On/Off bin pair #  1                   =  0       , 2
             On/Off bin pair #  2                   =  4       , 5
             Type of observation (EM band)          =  Radio
             Beam diameter (arcsec)                 =  981
             Dispersion measure (cm-3 pc)           =  30
             Central freq of low channel (Mhz)      =  1440.5
             Total bandwidth (Mhz)                  =  69.76
             Number of channels                     =  64
             Channel bandwidth (Mhz)                =  1.09
             Data analyzed by                       =  xunxing
             Any additional notes:
                Input filterbank samples have 2 bits. Number of bins = 999

            """
        try Data(inf.utf8).write(to: base.appendingPathExtension("inf"))
        let samples: [Float] = [1, -2, 3.5, 4, 0, 6]
        try samples.withUnsafeBytes { try Data($0).write(to: base.appendingPathExtension("dat")) }
        let series = try TimeSeriesFile.read(path: base.appendingPathExtension("dat").path)
        #expect(series.samples == samples)
        #expect(series.tsamp == 0.00032)
        #expect(series.dm == 30)
        #expect(series.tstart == 60000)
        #expect(series.sourceName == "J0000+00")
        #expect(abs(series.frequencyMHz! - (1440.5 + (69.76 - 1.09) / 2)) < 1e-9)
    }
}
