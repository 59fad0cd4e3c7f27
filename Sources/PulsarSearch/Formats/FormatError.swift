/// An error raised while reading or writing an observation file.
///
/// Every case names the file (the path exactly as it was given to the reader or writer), and,
/// where it applies, the header field or label concerned and the offending value, so that the
/// ``description`` reads as a complete sentence a user can act on.
public enum FormatError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file could not be opened (missing, unreadable, a directory, ...). `reason` is the
    /// operating system's explanation.
    case cannotOpen(file: String, reason: String)
    /// The file holds no samples: it is 0 bytes long, holds only a header, or declares zero samples.
    case empty(file: String)
    /// The file ended (or held an impossible string length) while `field` was being read.
    /// `field` is the SIGPROC keyword whose value was being read, `"HEADER_START"` for the
    /// opening marker, or `"HEADER_END"` while the next keyword (or the end marker) was expected.
    case truncatedHeader(file: String, field: String)
    /// The SIGPROC header contains a keyword this reader does not know.
    case unknownKeyword(file: String, keyword: String)
    /// A field holds a value that cannot be used (nbits 3, tsamp NaN or 0, nchans 0, foff 0, ...).
    case invalidValue(file: String, field: String, value: String, reason: String)
    /// A required field is absent.
    case missingField(file: String, field: String)
    /// The data section does not hold a whole number of samples or spectra, or holds fewer
    /// samples than the metadata promises. For filterbank data `field` is `"data"` and `value`
    /// the byte count.
    case partialSample(file: String, field: String, value: String, reason: String)
    /// A read or write failed after the file was opened.
    case io(file: String, reason: String)

    /// A human-readable sentence naming the file, the field and the offending value, e.g.
    /// `"tutorial.fil: field 'nbits' has value 3: only 1, 2, 4, 8, 16 and 32 bits are supported"`.
    public var description: String {
        switch self {
        case let .cannotOpen(file, reason):
            return "\(file): cannot open file: \(reason)"
        case let .empty(file):
            return "\(file): file holds no samples"
        case let .truncatedHeader(file, field):
            return "\(file): header ends early while reading field '\(field)' "
                + "(file truncated, corrupt, or not a SIGPROC file)"
        case let .unknownKeyword(file, keyword):
            return "\(file): field '\(keyword)' is not a known SIGPROC header keyword"
        case let .invalidValue(file, field, value, reason):
            return "\(file): field '\(field)' has value \(value): \(reason)"
        case let .missingField(file, field):
            return "\(file): required field '\(field)' is missing"
        case let .partialSample(file, field, value, reason):
            return "\(file): field '\(field)' has value \(value): \(reason)"
        case let .io(file, reason):
            return "\(file): I/O error: \(reason)"
        }
    }
}
