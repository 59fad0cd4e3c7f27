import PulsarSearch

/// The observation-file readers: filterbank, `.tim`, `.inf` + `.dat`.
extension FuzzHarness {
    /// Opens `data` as a filterbank and unpacks every spectrum.
    ///
    /// Accepted: the header is usable (``FilterbankHeader`` rules), the data are a whole number of
    /// spectra, every sample lies in the range of its bit width, and reading stops exactly at the
    /// end. Refused: a ``FormatError`` naming the file (and the field, where the case has one).
    @discardableResult
    public func filterbank(_ data: [UInt8]) throws(ContractViolation) -> FuzzOutcome {
        let file = try write(data[...], to: "input.fil", target: .filterbank)
        let reader: FilterbankReader
        do {
            reader = try FilterbankReader(path: file)
        } catch {
            return try Contract.refusal(error, target: .filterbank, files: [file])
        }
        let h = reader.header
        func fail(_ message: String) -> ContractViolation { ContractViolation(target: .filterbank, message: message) }
        guard [1, 2, 4, 8, 16, 32].contains(h.nbits), h.nchans >= 1, h.nifs >= 1, h.tsamp.isFinite, h.tsamp > 0,
            h.fch1.isFinite, h.fch1 > 0, h.foff.isFinite, h.foff != 0
        else { throw fail("accepted an unusable header \(h)") }
        guard reader.spectrumCount >= 1, reader.headerLength + reader.spectrumCount * h.bytesPerSpectrum == data.count else {
            throw fail("\(reader.spectrumCount) spectra of \(h.bytesPerSpectrum) bytes after a \(reader.headerLength)-byte header "
                + "do not make up the \(data.count)-byte file")
        }
        let (low, high): (Float, Float) = switch h.nbits {
        case 8: h.isSigned == true ? (-128, 127) : (0, 255)
        case 16: h.isSigned == true ? (-32768, 32767) : (0, 65535)
        case 32: (-.infinity, .infinity)
        default: (0, Float((1 << h.nbits) - 1))
        }
        let block = 64
        var buffer = [Float](repeating: 0, count: block * h.nchans)
        var total = 0
        while true {
            let got: Int
            do {
                got = try buffer.withUnsafeMutableBufferPointer { try reader.read(into: $0, count: block) }
            } catch {
                throw fail("reading spectra of an accepted file failed: \(error)")
            }
            if got == 0 { break }
            total += got
            guard total <= reader.spectrumCount else { throw fail("read \(total) of \(reader.spectrumCount) spectra") }
            for x in buffer[0..<(got * h.nchans)] where h.nbits != 32 && !(x >= low && x <= high) {
                throw fail("\(h.nbits)-bit sample \(x) outside \(low)...\(high)")
            }
        }
        guard total == reader.spectrumCount else { throw fail("read \(total) of \(reader.spectrumCount) spectra") }
        do {
            try reader.seek(toSpectrum: reader.spectrumCount + 1)
        } catch let error as FormatError {
            try Contract.formatError(error, target: .filterbank, files: [file])
            return .accepted
        } catch {
            throw fail("seek past the end threw \(error)")
        }
        throw fail("seek past the end was accepted")
    }

    /// Reads `data` as a PSRFITS search-mode file and decodes every spectrum.
    ///
    /// Accepted: at least one spectrum of at least one channel, a finite positive sample time,
    /// finite positive channel frequencies, and every decoded value finite. Refused: a
    /// ``FormatError`` naming the file.
    @discardableResult
    public func psrfits(_ data: [UInt8]) throws(ContractViolation) -> FuzzOutcome {
        let file = try write(data[...], to: "input.fits", target: .psrfits)
        func fail(_ message: String) -> ContractViolation { ContractViolation(target: .psrfits, message: message) }
        do {
            let reader = try PSRFITSReader(path: file)
            guard reader.spectrumCount >= 1, reader.channelCount >= 1, reader.sampleTime.isFinite, reader.sampleTime > 0,
                  reader.frequencies.allSatisfy({ $0.isFinite && $0 > 0 })
            else { throw fail("accepted an unusable file: \(reader.spectrumCount) spectra, \(reader.channelCount) channels") }
            guard reader.spectrumCount * reader.channelCount <= 64 * data.count else {
                throw fail("\(reader.spectrumCount) spectra of \(reader.channelCount) channels from \(data.count) bytes")
            }
            var buffer = [Float](repeating: 0, count: 64 * reader.channelCount)
            var total = 0
            while true {
                let got = try buffer.withUnsafeMutableBufferPointer { try reader.read(into: $0, count: 64) }
                if got == 0 { break }
                guard buffer[0..<(got * reader.channelCount)].allSatisfy(\.isFinite) else { throw fail("a decoded value is not finite") }
                total += got
            }
            guard total == reader.spectrumCount else { throw fail("read \(total) of \(reader.spectrumCount) spectra") }
            return .accepted
        } catch let violation as ContractViolation {
            throw violation
        } catch {
            return try Contract.refusal(error, target: .psrfits, files: [file])
        }
    }

    /// Reads `data` as a SIGPROC `.tim` time series.
    ///
    /// Accepted: at least one sample, a finite positive `tsamp`, a finite DM and, when present, a
    /// finite positive reference frequency. Refused: a ``FormatError`` naming the file.
    @discardableResult
    public func tim(_ data: [UInt8]) throws(ContractViolation) -> FuzzOutcome {
        let file = try write(data[...], to: "input.tim", target: .tim)
        let series: TimeSeries
        do {
            series = try TimeSeriesFile.read(path: file)
        } catch {
            return try Contract.refusal(error, target: .tim, files: [file])
        }
        try Contract.saneSeries(series, target: .tim, maximumSamples: data.count)
        return .accepted
    }

    /// Reads a PRESTO pair: the input up to its first NUL byte is `input.inf`, the rest
    /// `input.dat`.
    ///
    /// Accepted: as for ``tim(_:)``, with exactly the number of samples the `.inf` promises.
    /// Refused: a ``FormatError`` naming `input.inf` or `input.dat`.
    @discardableResult
    public func inf(_ data: [UInt8]) throws(ContractViolation) -> FuzzOutcome {
        let split = data.firstIndex(of: 0) ?? data.endIndex
        let infFile = try write(data[..<split], to: "input.inf", target: .inf)
        let datFile = try write(split < data.endIndex ? data[(split + 1)...] : [], to: "input.dat", target: .inf)
        let series: TimeSeries
        do {
            series = try TimeSeriesFile.read(path: infFile)
        } catch {
            return try Contract.refusal(error, target: .inf, files: [infFile, datFile])
        }
        try Contract.saneSeries(series, target: .inf, maximumSamples: data.count / 4)
        return .accepted
    }
}

/// The checks shared by the targets.
enum Contract {
    /// Accepts a refusal only when it is a ``FormatError`` that names one of `files`.
    static func refusal(_ error: any Error, target: FuzzTarget, files: [String]) throws(ContractViolation) -> FuzzOutcome {
        guard let error = error as? FormatError else {
            throw ContractViolation(target: target, message: "untyped error \(type(of: error)): \(error)")
        }
        try formatError(error, target: target, files: files)
        return .refused(error.description)
    }

    /// Checks that a ``FormatError`` names one of `files`, and its field and value where it has them.
    static func formatError(_ error: FormatError, target: FuzzTarget, files: [String]) throws(ContractViolation) {
        let text = error.description
        func fail(_ why: String) -> ContractViolation {
            ContractViolation(target: target, message: "unclear error (\(why)): \(text)")
        }
        let file: String
        var named: [String] = []
        switch error {
        case let .cannotOpen(f, _), let .empty(f), let .io(f, _):
            file = f
        case let .truncatedHeader(f, field):
            file = f
            named = [field]
        case let .unknownKeyword(f, keyword):
            file = f
            named = [keyword]
        case let .missingField(f, field):
            file = f
            named = [field]
        case let .invalidValue(f, field, value, _), let .partialSample(f, field, value, _):
            file = f
            named = [field, value]
        }
        guard files.contains(file), text.hasPrefix(file + ": ") else { throw fail("does not name the file") }
        for part in named {
            guard !part.isEmpty, text.contains(part) else { throw fail("field or value missing") }
        }
    }

    /// Checks a time series that a reader accepted.
    static func saneSeries(_ s: TimeSeries, target: FuzzTarget, maximumSamples: Int) throws(ContractViolation) {
        func fail(_ message: String) -> ContractViolation { ContractViolation(target: target, message: message) }
        guard !s.samples.isEmpty, s.samples.count <= maximumSamples else {
            throw fail("accepted \(s.samples.count) samples from a \(maximumSamples)-sample input")
        }
        guard s.tsamp.isFinite, s.tsamp > 0 else { throw fail("accepted sampling interval \(s.tsamp)") }
        guard s.dm.isFinite else { throw fail("accepted DM \(s.dm)") }
        if let f = s.frequencyMHz, !(f.isFinite && f > 0) { throw fail("accepted reference frequency \(f) MHz") }
    }
}
