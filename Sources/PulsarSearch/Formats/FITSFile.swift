import CCFITSIO
import Foundation

/// A thin, typed handle on one FITS file through CFITSIO: the calls the PSRFITS reader and writer
/// make, each turning CFITSIO's status code into a ``FormatError`` that names the file, the HDU
/// and the keyword or column concerned. Not thread-safe; one per reader or writer.
final class FITSFile {
    let path: String
    private var handle: UnsafeMutablePointer<fitsfile>?
    /// The name of the current HDU, for error messages ("primary" or an EXTNAME).
    private(set) var hdu = "primary"

    private init(path: String, handle: UnsafeMutablePointer<fitsfile>?) {
        self.path = path
        self.handle = handle
    }

    deinit { close() }

    /// Opens an existing file read-only.
    static func open(_ path: String) throws -> FITSFile {
        var handle: UnsafeMutablePointer<fitsfile>?
        var status: Int32 = 0
        // CFITSIO reads "file[ext]" and "file+1" as filters: "file://" keeps the path a plain name.
        ffopen(&handle, "file://" + path, READONLY, &status)
        guard status == 0, handle != nil else {
            let reason = FileManager.default.isReadableFile(atPath: path) ? Self.message(status) : "no such readable file"
            throw FormatError.cannotOpen(file: path, reason: reason)
        }
        return FITSFile(path: path, handle: handle)
    }

    /// Creates (or replaces) a file for writing, with an empty primary HDU.
    static func create(_ path: String) throws -> FITSFile {
        unlink(path)
        var handle: UnsafeMutablePointer<fitsfile>?
        var status: Int32 = 0
        ffinit(&handle, "file://" + path, &status)
        guard status == 0, handle != nil else { throw FormatError.cannotOpen(file: path, reason: Self.message(status)) }
        let file = FITSFile(path: path, handle: handle)
        var none = 0
        try file.check(ffphps(handle, 8, 0, &none, &status), status, "primary header")
        return file
    }

    /// Closes the file, flushing what was written; throws when the flush fails.
    func finish() throws {
        var status: Int32 = 0
        if let handle { ffclos(handle, &status) }
        handle = nil
        if status != 0 { throw FormatError.io(file: path, reason: "closing: \(Self.message(status))") }
    }

    func close() {
        var status: Int32 = 0
        if let handle { ffclos(handle, &status) }
        handle = nil
    }

    /// CFITSIO's text for `status`.
    static func message(_ status: Int32) -> String {
        var text = [CChar](repeating: 0, count: Int(FLEN_ERRMSG) + 1)
        ffgerr(status, &text)
        let bytes = text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return "CFITSIO status \(status): " + String(decoding: bytes, as: UTF8.self)
    }

    private func check(_ result: Int32, _ status: Int32, _ what: String) throws {
        guard status == 0 else {
            throw FormatError.invalidValue(file: path, field: "\(hdu) HDU, \(what)", value: "unreadable", reason: Self.message(status))
        }
    }

    // MARK: Reading

    /// Moves to the binary table named `name`.
    func moveToTable(_ name: String) throws {
        var status: Int32 = 0
        var copy = Array(name.utf8CString)
        ffmnhd(handle, BINARY_TBL, &copy, 0, &status)
        guard status == 0 else { throw FormatError.missingField(file: path, field: "\(name) HDU") }
        hdu = name
    }

    /// Moves to the primary HDU.
    func moveToPrimary() throws {
        var status: Int32 = 0
        var type: Int32 = 0
        ffmahd(handle, 1, &type, &status)
        try check(0, status, "moving to the primary HDU")
        hdu = "primary"
    }

    /// A numeric keyword of the current HDU; nil when absent.
    func double(_ key: String) throws -> Double? {
        var status: Int32 = 0
        var value = 0.0
        ffgkyd(handle, key, &value, nil, &status)
        if status == KEY_NO_EXIST { return nil }
        guard status == 0 else {
            throw FormatError.invalidValue(file: path, field: "\(hdu) HDU, \(key)", value: "not a number", reason: Self.message(status))
        }
        return value
    }

    /// A string keyword of the current HDU, trimmed; nil when absent.
    func string(_ key: String) throws -> String? {
        var status: Int32 = 0
        var value = [CChar](repeating: 0, count: Int(FLEN_VALUE) + 1)
        ffgkys(handle, key, &value, nil, &status)
        if status == KEY_NO_EXIST { return nil }
        guard status == 0 else {
            throw FormatError.invalidValue(file: path, field: "\(hdu) HDU, \(key)", value: "not a string", reason: Self.message(status))
        }
        let bytes = value.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespaces)
    }

    /// A required numeric keyword of the current HDU.
    func requiredDouble(_ key: String) throws -> Double {
        guard let value = try double(key) else { throw FormatError.missingField(file: path, field: "\(hdu) HDU, \(key)") }
        return value
    }

    /// Rows of the current table.
    func rowCount() throws -> Int {
        var status: Int32 = 0
        var rows = 0
        ffgnrw(handle, &rows, &status)
        try check(0, status, "NAXIS2")
        return rows
    }

    /// Byte offset in the file where the current HDU's data begin.
    func dataStart() throws -> Int {
        var status: Int32 = 0
        var head: Int64 = 0, start: Int64 = 0, end: Int64 = 0
        ffghadll(handle, &head, &start, &end, &status)
        try check(0, status, "data offset")
        return Int(start)
    }

    /// The number of `name` in the current table and the count of elements in one of its cells.
    func column(_ name: String) throws -> (number: Int32, repeatCount: Int) {
        var status: Int32 = 0
        var number: Int32 = 0
        var copy = Array(name.utf8CString)
        ffgcno(handle, CASEINSEN, &copy, &number, &status)
        guard status == 0 else { throw FormatError.missingField(file: path, field: "\(hdu) HDU, column \(name)") }
        var type: Int32 = 0, repeatCount = 0, width = 0
        ffgtcl(handle, number, &type, &repeatCount, &width, &status)
        try check(0, status, "column \(name)")
        return (number, repeatCount)
    }

    /// Makes CFITSIO return a column's stored values, ignoring its TSCALn and TZEROn.
    func readRaw(column: Int32) throws {
        var status: Int32 = 0
        fftscl(handle, column, 1, 0, &status)
        try check(0, status, "column \(column) scaling")
    }

    /// Reads `count` bytes of `column` in `row` (1-based) into `buffer`.
    func readBytes(column: Int32, row: Int, count: Int, into buffer: UnsafeMutablePointer<UInt8>, name: String) throws {
        try read(name, row: row, count: count, unit: "bytes") { status, anyNull in
            ffgcvb(handle, column, Int64(row), 1, Int64(count), 0, buffer, &anyNull, &status)
        }
    }

    /// Reads `count` values of a numeric column in `row` (1-based) as floats.
    func readFloats(column: Int32, row: Int, count: Int, name: String) throws -> [Float] {
        var values = [Float](repeating: 0, count: count)
        try read(name, row: row, count: count, unit: "values") { status, anyNull in
            ffgcve(handle, column, Int64(row), 1, Int64(count), .nan, &values, &anyNull, &status)
        }
        return values
    }

    /// Reads `count` values of a numeric column in `row` (1-based) as doubles.
    func readDoubles(column: Int32, row: Int, count: Int, name: String) throws -> [Double] {
        var values = [Double](repeating: 0, count: count)
        try read(name, row: row, count: count, unit: "values") { status, anyNull in
            ffgcvd(handle, column, Int64(row), 1, Int64(count), .nan, &values, &anyNull, &status)
        }
        return values
    }

    /// Runs one CFITSIO column read, turning its status into an error naming the cell.
    private func read(_ name: String, row: Int, count: Int, unit: String, _ call: (inout Int32, inout Int32) -> Void) throws {
        var status: Int32 = 0
        var anyNull: Int32 = 0
        call(&status, &anyNull)
        guard status == 0 else {
            throw FormatError.partialSample(file: path, field: "\(hdu) HDU, column \(name), row \(row)", value: "\(count) \(unit)",
                                            reason: Self.message(status))
        }
    }

    // MARK: Writing

    /// Writes a keyword into the current HDU.
    func write(_ key: String, _ value: String) throws {
        var status: Int32 = 0
        ffpkys(handle, key, value, nil, &status)
        try check(0, status, "writing \(key)")
    }

    func write(_ key: String, _ value: Int) throws {
        var status: Int32 = 0
        ffpkyj(handle, key, Int64(value), nil, &status)
        try check(0, status, "writing \(key)")
    }

    func write(_ key: String, _ value: Double) throws {
        var status: Int32 = 0
        ffpkyd(handle, key, value, 15, nil, &status)
        try check(0, status, "writing \(key)")
    }

    /// Appends a binary table named `name` with the given columns (name, TFORM) and no rows.
    func createTable(_ name: String, columns: [(name: String, form: String)]) throws {
        var status: Int32 = 0
        var names = columns.map { strdup($0.name) }
        var forms = columns.map { strdup($0.form) }
        var units = columns.map { _ in strdup("") }
        defer { (names + forms + units).forEach { free($0) } }
        ffcrtb(handle, BINARY_TBL, 0, Int32(columns.count), &names, &forms, &units, name, &status)
        hdu = name
        try check(0, status, "creating the table")
    }

    func writeBytes(column: Int32, row: Int, _ values: [UInt8]) throws { try write(values, column: column, row: row, ffpclb) }
    func writeFloats(column: Int32, row: Int, _ values: [Float]) throws { try write(values, column: column, row: row, ffpcle) }
    func writeDoubles(column: Int32, row: Int, _ values: [Double]) throws { try write(values, column: column, row: row, ffpcld) }

    /// Writes `values` into one cell through the CFITSIO column writer for their type.
    private func write<T>(
        _ values: [T], column: Int32, row: Int,
        _ writer: (UnsafeMutablePointer<fitsfile>?, Int32, LONGLONG, LONGLONG, LONGLONG, UnsafeMutablePointer<T>?, UnsafeMutablePointer<Int32>?) -> Int32
    ) throws {
        var status: Int32 = 0
        var copy = values
        _ = writer(handle, column, LONGLONG(row), 1, LONGLONG(values.count), &copy, &status)
        try check(0, status, "writing column \(column) row \(row)")
    }
}
