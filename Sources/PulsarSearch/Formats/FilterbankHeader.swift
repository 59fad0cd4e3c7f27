/// The metadata of a SIGPROC filterbank (or time-series) file.
///
/// Frequencies are in MHz, times in seconds, epochs in MJD. Optional members are those SIGPROC
/// keywords that a file may omit; `nil` means the keyword was absent (and is not written).
public struct FilterbankHeader: Sendable, Equatable {
    /// Name of the observed source (SIGPROC `source_name`).
    public var sourceName: String
    /// Name of the original raw data file (`rawdatafile`).
    public var rawDataFile: String?
    /// SIGPROC telescope identifier (`telescope_id`).
    public var telescopeID: Int?
    /// SIGPROC backend identifier (`machine_id`).
    public var machineID: Int?
    /// 1 for filterbank data, 2 for a time series (`data_type`).
    public var dataType: Int
    /// Centre frequency of the first channel in the file, MHz (`fch1`).
    public var fch1: Double
    /// Channel spacing, MHz per channel, either sign but not 0 (`foff`).
    public var foff: Double
    /// Number of frequency channels (`nchans`).
    public var nchans: Int
    /// Number of IFs / polarisation products stored per channel (`nifs`), default 1.
    public var nifs: Int
    /// Bits per sample: 1, 2, 4, 8, 16 (integers) or 32 (IEEE float) (`nbits`).
    public var nbits: Int
    /// Sampling interval in seconds, finite and > 0 (`tsamp`).
    public var tsamp: Double
    /// Time stamp of the first sample, MJD (`tstart`).
    public var tstart: Double
    /// Reference dispersion measure in pc cm^-3 (`refdm`), used by dedispersed time series.
    public var refdm: Double?
    /// SIGPROC `signed` keyword: 8- and 16-bit integer samples are unsigned unless this is `true`.
    public var isSigned: Bool?
    /// Source right ascension in SIGPROC's packed hhmmss.s form (`src_raj`).
    public var srcRaj: Double?
    /// Source declination in SIGPROC's packed ddmmss.s form (`src_dej`).
    public var srcDej: Double?
    /// Telescope azimuth at the start, degrees (`az_start`).
    public var azStart: Double?
    /// Telescope zenith angle at the start, degrees (`za_start`).
    public var zaStart: Double?
    /// 1 if the times are barycentred (`barycentric`).
    public var barycentric: Int?
    /// 1 if the times are pulsar-centred (`pulsarcentric`).
    public var pulsarcentric: Int?
    /// Number of beams in the observation (`nbeams`).
    public var nbeams: Int?
    /// Beam number of this file (`ibeam`).
    public var ibeam: Int?
    /// Number of samples claimed by the header (`nsamples`); readers rely on the file size.
    public var nsamples: Int?
    /// Folding period in seconds (`period`).
    public var period: Double?

    /// Creates a header with the required fields; every optional keyword starts as `nil`.
    public init(
        sourceName: String = "", fch1: Double, foff: Double, nchans: Int, nbits: Int, tsamp: Double,
        tstart: Double = 60000, nifs: Int = 1, dataType: Int = 1
    ) {
        self.sourceName = sourceName
        self.fch1 = fch1
        self.foff = foff
        self.nchans = nchans
        self.nbits = nbits
        self.tsamp = tsamp
        self.tstart = tstart
        self.nifs = nifs
        self.dataType = dataType
    }

    /// Centre frequency of channel `i` (file order, 0-based) in MHz: `fch1 + i * foff`.
    public func frequency(ofChannel i: Int) -> Double {
        fch1 + Double(i) * foff
    }

    /// The highest channel-centre frequency in MHz.
    public var highestFrequency: Double {
        Swift.max(fch1, frequency(ofChannel: Swift.max(nchans - 1, 0)))
    }

    /// The lowest channel-centre frequency in MHz.
    public var lowestFrequency: Double {
        Swift.min(fch1, frequency(ofChannel: Swift.max(nchans - 1, 0)))
    }

    /// Bytes occupied by one spectrum (all channels of all IFs): `nchans * nifs * nbits / 8`.
    ///
    /// Only meaningful when `nchans * nifs * nbits` is a multiple of 8; ``SigprocHeader/decode(path:)``,
    /// ``FilterbankReader`` and ``FilterbankWriter`` reject headers where it is not.
    public var bytesPerSpectrum: Int {
        nchans * nifs * nbits / 8
    }

    /// The bit widths SIGPROC data may use.
    static let supportedBits: Set<Int> = [1, 2, 4, 8, 16, 32]

    /// Checks the values needed to read or write the data, throwing `invalidValue` naming `file`.
    func validate(file: String, requireFrequency: Bool = true) throws {
        func bad(_ field: String, _ value: String, _ reason: String) -> FormatError {
            .invalidValue(file: file, field: field, value: value, reason: reason)
        }
        guard Self.supportedBits.contains(nbits) else {
            throw bad("nbits", "\(nbits)", "only 1, 2, 4, 8, 16 and 32 bits are supported")
        }
        guard nchans >= 1 else {
            throw bad("nchans", "\(nchans)", "the number of channels must be at least 1")
        }
        guard nifs >= 1 else {
            throw bad("nifs", "\(nifs)", "the number of IFs must be at least 1")
        }
        guard tsamp.isFinite, tsamp > 0 else {
            throw bad("tsamp", "\(tsamp)", "the sampling interval must be a finite number of seconds > 0")
        }
        if requireFrequency {
            guard fch1.isFinite, fch1 > 0 else {
                throw bad("fch1", "\(fch1)", "the first channel frequency must be a finite number of MHz > 0")
            }
            guard foff.isFinite, foff != 0 else {
                throw bad("foff", "\(foff)", "the channel offset must be a finite, non-zero number of MHz")
            }
        }
        let bits = nchans.multipliedReportingOverflow(by: nifs * nbits)
        guard !bits.overflow, bits.partialValue % 8 == 0 else {
            throw bad(
                "nchans", "\(nchans)",
                "nchans × nifs × nbits = \(nchans) × \(nifs) × \(nbits) bits is not a whole number of bytes per spectrum")
        }
    }
}
