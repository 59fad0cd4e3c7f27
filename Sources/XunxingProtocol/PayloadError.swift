/// Why a work-unit payload could not be written or read. Every case names the file and, where it
/// applies, the field and the offending value, so ``description`` is a sentence a user can act on.
public enum PayloadError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file could not be opened or created; `reason` is the operating system's explanation.
    case cannotOpen(file: String, reason: String)
    /// The first 8 bytes are not "XXWUNIT1"; `found` shows what they were (hex when not printable).
    case badMagic(file: String, found: String)
    /// The header declares a format version this code does not read.
    case unsupportedVersion(file: String, version: Int, supported: Int)
    /// The 4-byte header length is zero, absurd or runs past the end of the file.
    case headerLengthInvalid(file: String, length: Int, fileSize: Int)
    /// The header is not valid UTF-8 JSON of a `WorkUnitHeader`; `field` is the coding path
    /// concerned (empty when the JSON itself is malformed).
    case headerJSONInvalid(file: String, field: String, reason: String)
    /// A header field is out of range or disagrees with the number of series.
    case headerFieldInconsistent(file: String, field: String, value: String, expected: String)
    /// The file is shorter than its header promises.
    case truncated(file: String, expectedBytes: Int, actualBytes: Int)
    /// The file is longer than its header promises.
    case trailingData(file: String, expectedBytes: Int, actualBytes: Int)
    /// An argument to `WorkUnitPayload.write` is unusable (a series of the wrong length, ...).
    case invalidArgument(file: String, field: String, value: String, expected: String)
    /// A read or write failed after the file was opened.
    case io(file: String, reason: String)

    /// A sentence naming the file, the field and the value, e.g.
    /// `"wu-17.xxwu: header field 'dmIndices' has value 3 entries: expected 4, one per entry of dms"`.
    public var description: String {
        switch self {
        case let .cannotOpen(file, reason):
            return "\(file): cannot open work-unit payload: \(reason)"
        case let .badMagic(file, found):
            return "\(file): field 'magic' has value \(found): expected \"XXWUNIT1\" (not a Xunxing work-unit payload)"
        case let .unsupportedVersion(file, version, supported):
            return "\(file): header field 'version' has value \(version): only version \(supported) is supported"
        case let .headerLengthInvalid(file, length, fileSize):
            return "\(file): field 'headerLength' has value \(length): impossible for a file of \(fileSize) bytes"
        case let .headerJSONInvalid(file, field, reason):
            let what = field.isEmpty ? "header JSON is invalid" : "header field '\(field)' is invalid"
            return "\(file): \(what): \(reason)"
        case let .headerFieldInconsistent(file, field, value, expected):
            return "\(file): header field '\(field)' has value \(value): expected \(expected)"
        case let .truncated(file, expected, actual):
            return "\(file): file is truncated: the header promises \(expected) bytes, the file holds \(actual)"
        case let .trailingData(file, expected, actual):
            return "\(file): file has trailing data: the header promises \(expected) bytes, the file holds \(actual)"
        case let .invalidArgument(file, field, value, expected):
            return "\(file): cannot write payload: '\(field)' has value \(value): expected \(expected)"
        case let .io(file, reason):
            return "\(file): I/O error: \(reason)"
        }
    }
}
