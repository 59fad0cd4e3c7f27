import Foundation

/// Reads a PSRFITS search-mode file (the SUBINT table of Parkes, GBT, FAST, MeerKAT and LOFAR
/// search data) as total-intensity spectra, through CFITSIO.
///
/// Samples of 1, 2, 4 or 8 bits (sub-byte samples packed first sample in the high-order bits, as
/// PSRFITS defines) become `(raw - ZERO_OFF) * DAT_SCL + DAT_OFFS`, times the channel's DAT_WTS,
/// per polarisation; total intensity is AA + BB for `AABB`/`AABBCRCI` data and the first product
/// for `IQUV`, `AA+BB` and `INTEN`. Channels stay in the file's order (the header's `foff` takes
/// the sign of the file's frequency step). Rows are read one at a time, so memory does not grow
/// with the file. Not thread-safe.
public final class PSRFITSReader: ObservationSource {
    public let path: String
    public let header: FilterbankHeader
    public let info: ObservationInfo
    public let channelCount: Int
    public let spectrumCount: Int
    public var sampleTime: Double { header.tsamp }
    /// Bits per stored sample, polarisation products stored, and the samples of one row.
    public let bitsPerSample: Int
    public let polarisations: Int
    public let samplesPerRow: Int
    /// Channel centre frequencies in MHz, in file order (from the first row's DAT_FREQ).
    public let frequencies: [Double]

    private let file: FITSFile
    private let rows: Int
    private let dataColumn: Int32
    private let columns: (scale: Int32, offset: Int32, weight: Int32)
    /// Polarisation products summed into total intensity.
    private let summed: [Int]
    /// Values per row of DAT_SCL and DAT_OFFS: NCHAN × NPOL, or NCHAN shared by every product.
    private let scaleCount: Int
    private let offsetCount: Int
    private let zeroOffset: Float
    private let storedZero: Float
    private var raw: [UInt8]
    private var decoded: [Float]
    private var decodedRow = -1
    private var position = 0

    /// Opens `path` and checks everything needed to read it, naming the HDU, keyword or column
    /// and value of the first problem.
    public init(path: String) throws {
        self.path = path
        let file = try FITSFile.open(path)
        self.file = file
        let fitsType = try file.string("FITSTYPE")
        guard fitsType?.uppercased() == "PSRFITS" else {
            throw FormatError.invalidValue(file: path, field: "primary HDU, FITSTYPE", value: fitsType.map { "'\($0)'" } ?? "(absent)",
                                           reason: "not a PSRFITS file")
        }
        if let mode = try file.string("OBS_MODE"), mode.uppercased() != "SEARCH" {
            throw FormatError.invalidValue(file: path, field: "primary HDU, OBS_MODE", value: "'\(mode)'",
                                           reason: "only search-mode PSRFITS can be searched (this is folded or calibration data)")
        }
        let source = try file.string("SRC_NAME") ?? ""
        let telescope = try file.string("TELESCOP")
        let imjd = try file.requiredDouble("STT_IMJD"), smjd = try file.requiredDouble("STT_SMJD")
        let offs = try file.double("STT_OFFS") ?? 0
        let ra = try file.string("RA").flatMap { SexagesimalAngle.degrees(text: $0, hours: true) }
        let dec = try file.string("DEC").flatMap { SexagesimalAngle.degrees(text: $0, hours: false) }

        try file.moveToTable("SUBINT")
        func integer(_ key: String, _ allowed: (Int) -> Bool, _ reason: String) throws -> Int {
            let value = try file.requiredDouble(key)
            guard value == value.rounded(), let n = Int(exactly: value), allowed(n) else {
                throw FormatError.invalidValue(file: path, field: "SUBINT HDU, \(key)", value: "\(value)", reason: reason)
            }
            return n
        }
        bitsPerSample = try integer("NBITS", { [1, 2, 4, 8].contains($0) }, "only 1, 2, 4 and 8-bit search data are supported")
        channelCount = try integer("NCHAN", { $0 >= 1 }, "the number of channels must be at least 1")
        polarisations = try integer("NPOL", { (1...4).contains($0) }, "1 to 4 polarisation products are supported")
        samplesPerRow = try integer("NSBLK", { $0 >= 1 }, "a search-mode row holds at least 1 sample")
        let tbin = try file.requiredDouble("TBIN")
        guard tbin.isFinite, tbin > 0 else {
            throw FormatError.invalidValue(file: path, field: "SUBINT HDU, TBIN", value: "\(tbin)", reason: "the sample time must be > 0")
        }
        let polType = (try file.string("POL_TYPE") ?? (polarisations == 1 ? "INTEN" : "")).uppercased()
        summed = try Self.intensityProducts(polType: polType, npol: polarisations, file: path)
        zeroOffset = Float(try file.double("ZERO_OFF") ?? 0)
        let suboffs = try file.double("NSUBOFFS") ?? 0

        rows = try file.rowCount()
        guard rows >= 1 else { throw FormatError.empty(file: path) }
        let data = try file.column("DATA")
        let expected = samplesPerRow * polarisations * channelCount * bitsPerSample / 8
        guard data.repeatCount == expected, (samplesPerRow * polarisations * channelCount * bitsPerSample) % 8 == 0 else {
            throw FormatError.invalidValue(
                file: path, field: "SUBINT HDU, column DATA", value: "\(data.repeatCount) bytes per row",
                reason: "NSBLK × NPOL × NCHAN × NBITS / 8 = \(samplesPerRow) × \(polarisations) × \(channelCount) × \(bitsPerSample) / 8 = \(expected)")
        }
        dataColumn = data.number
        let rowBytes = try file.requiredDouble("NAXIS1")
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        let needed = try file.dataStart() + Int(rowBytes) * rows
        guard size >= needed else {
            throw FormatError.partialSample(file: path, field: "SUBINT HDU, NAXIS2", value: "\(rows) rows",
                                            reason: "the file ends at byte \(size), before the \(needed) bytes its rows need (truncated)")
        }
        storedZero = Float(try file.double("TZERO\(data.number)") ?? 0)
        try file.readRaw(column: dataColumn)
        let nch = channelCount, npol = polarisations
        func perChannel(_ name: String, _ count: Int) throws -> Int32 {
            let column = try file.column(name)
            // Some writers keep one scale and offset per channel for all products.
            guard column.repeatCount == count || (column.repeatCount == nch && count == nch * npol) else {
                throw FormatError.invalidValue(file: path, field: "SUBINT HDU, column \(name)", value: "\(column.repeatCount) values per row",
                                               reason: "expected \(count) (NCHAN\(count == nch ? "" : " × NPOL"))")
            }
            return column.number
        }
        columns = (try perChannel("DAT_SCL", nch * npol), try perChannel("DAT_OFFS", nch * npol), try perChannel("DAT_WTS", nch))
        scaleCount = try file.column("DAT_SCL").repeatCount
        offsetCount = try file.column("DAT_OFFS").repeatCount
        let freqColumn = try perChannel("DAT_FREQ", nch)
        frequencies = try file.readDoubles(column: freqColumn, row: 1, count: nch, name: "DAT_FREQ")
        if let bad = frequencies.firstIndex(where: { !$0.isFinite || $0 <= 0 }) {
            throw FormatError.invalidValue(file: path, field: "SUBINT HDU, column DAT_FREQ, channel \(bad)", value: "\(frequencies[bad])",
                                           reason: "channel frequencies must be finite and > 0 MHz")
        }
        let step = nch > 1 ? (frequencies[nch - 1] - frequencies[0]) / Double(nch - 1) : (try file.double("CHAN_BW") ?? 1)
        guard step != 0 else {
            throw FormatError.invalidValue(file: path, field: "SUBINT HDU, column DAT_FREQ", value: "\(frequencies[0])",
                                           reason: "every channel has the same frequency")
        }

        spectrumCount = rows * samplesPerRow
        raw = [UInt8](repeating: 0, count: expected)
        decoded = [Float](repeating: 0, count: samplesPerRow * channelCount)
        let mjd = imjd + (smjd + offs + suboffs * Double(samplesPerRow) * tbin) / 86_400
        var h = FilterbankHeader(sourceName: source, fch1: frequencies[0], foff: step, nchans: channelCount, nbits: bitsPerSample,
                                 tsamp: tbin, tstart: mjd)
        h.srcRaj = ra.map { SexagesimalAngle.packed(degrees: $0, hours: true) }
        h.srcDej = dec.map { SexagesimalAngle.packed(degrees: $0, hours: false) }
        h.nsamples = spectrumCount
        header = h
        info = ObservationInfo(format: "psrfits", telescope: telescope, source: source, mjd: mjd, raDegrees: ra, decDegrees: dec)
    }

    /// The polarisation products whose sum is total intensity.
    static func intensityProducts(polType: String, npol: Int, file: String) throws -> [Int] {
        switch (polType, npol) {
        case (_, 1): return [0]
        case ("AABBCRCI", 4), ("AABB", 2): return [0, 1]
        case ("IQUV", 4): return [0]
        default:
            throw FormatError.invalidValue(file: file, field: "SUBINT HDU, POL_TYPE", value: "'\(polType)' with NPOL \(npol)",
                                           reason: "total intensity is formed from AABB, AABBCRCI, IQUV, AA+BB or INTEN data")
        }
    }

    public func channelFrequency(_ index: Int) -> Double { frequencies[index] }

    public func seek(toSpectrum index: Int) throws { position = max(0, min(index, spectrumCount)) }

    public func read(into buffer: UnsafeMutableBufferPointer<Float>, count: Int) throws -> Int {
        let n = min(count, spectrumCount - position, buffer.count / channelCount)
        guard n > 0 else { return 0 }
        var done = 0
        while done < n {
            let row = position / samplesPerRow
            if row != decodedRow { try decode(row: row) }
            let first = position - row * samplesPerRow
            let take = min(n - done, samplesPerRow - first)
            decoded.withUnsafeBufferPointer { src in
                (buffer.baseAddress! + done * channelCount).update(from: src.baseAddress! + first * channelCount, count: take * channelCount)
            }
            done += take
            position += take
        }
        return n
    }

    /// Reads row `row` (0-based) and turns it into total-intensity spectra.
    private func decode(row: Int) throws {
        let nch = channelCount, npol = polarisations, bits = bitsPerSample
        let scale = try file.readFloats(column: columns.scale, row: row + 1, count: scaleCount, name: "DAT_SCL")
        let offset = try file.readFloats(column: columns.offset, row: row + 1, count: offsetCount, name: "DAT_OFFS")
        let weight = try file.readFloats(column: columns.weight, row: row + 1, count: nch, name: "DAT_WTS")
        for (name, values) in [("DAT_SCL", scale), ("DAT_OFFS", offset), ("DAT_WTS", weight)] {
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw FormatError.invalidValue(file: path, field: "SUBINT HDU, column \(name), row \(row + 1), element \(bad)",
                                               value: "\(values[bad])", reason: "scales, offsets and weights must be finite")
            }
        }
        let byteCount = raw.count
        try raw.withUnsafeMutableBufferPointer { try file.readBytes(column: dataColumn, row: row + 1, count: byteCount, into: $0.baseAddress!, name: "DATA") }
        // Per product and channel: value = raw * a + b, with the weight folded into a and b.
        var a = [Float](repeating: 0, count: nch * summed.count), b = a
        for (k, p) in summed.enumerated() {
            for c in 0..<nch {
                let w = weight[c], s = scale[(p * nch + c) % scaleCount]
                a[k * nch + c] = s * w
                b[k * nch + c] = ((storedZero - zeroOffset) * s + offset[(p * nch + c) % offsetCount]) * w
            }
        }
        // Scales, offsets and weights that take a sample beyond 1e30 would overflow Float sums.
        let largest = Float((1 << bits) - 1)
        for i in a.indices where !(abs(a[i]) * largest + abs(b[i]) <= 1e30) {
            let c = i % nch, p = summed[i / nch]
            throw FormatError.invalidValue(
                file: path, field: "SUBINT HDU, columns DAT_SCL, DAT_OFFS and DAT_WTS (and ZERO_OFF), row \(row + 1), channel \(c)",
                value: "scale \(scale[(p * nch + c) % scaleCount]), offset \(offset[(p * nch + c) % offsetCount]), weight \(weight[c])",
                reason: "they put samples beyond ±1e30")
        }
        let valuesPerByte = 8 / bits, mask = UInt8((1 << bits) - 1)
        raw.withUnsafeBufferPointer { input in
            decoded.withUnsafeMutableBufferPointer { out in
                a.withUnsafeBufferPointer { a in
                    b.withUnsafeBufferPointer { b in
                        for s in 0..<samplesPerRow {
                            let dst = out.baseAddress! + s * nch
                            for c in 0..<nch { dst[c] = 0 }
                            for (k, p) in summed.enumerated() {
                                let first = (s * npol + p) * nch  // index of this product's channel 0 sample
                                let ak = a.baseAddress! + k * nch, bk = b.baseAddress! + k * nch
                                if bits == 8 {
                                    let src = input.baseAddress! + first
                                    for c in 0..<nch { dst[c] += Float(src[c]) * ak[c] + bk[c] }
                                } else {
                                    for c in 0..<nch {
                                        let index = first + c
                                        let byte = input[index / valuesPerByte]
                                        let shift = 8 - bits * (index % valuesPerByte + 1)
                                        dst[c] += Float((byte >> UInt8(shift)) & mask) * ak[c] + bk[c]
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        decodedRow = row
    }
}
