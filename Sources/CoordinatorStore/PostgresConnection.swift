import CLibPQ
import Foundation

/// A failure reported by PostgreSQL or by libpq, with the server's SQLSTATE when it sent one.
public struct PostgresFailure: Error, CustomStringConvertible {
    /// The five-character SQLSTATE (`40001` for a serialisation failure), nil for a failure of the
    /// connection itself.
    public let sqlState: String?
    public let message: String
    /// The statement that failed (empty for a failed connection).
    public let sql: String

    public var description: String {
        sql.isEmpty ? message : "PostgreSQL error \(sqlState ?? "(no SQLSTATE)"): \(message) (in: \(sql.prefix(200)))"
    }

    /// A conflict with a concurrent transaction, which running the transaction again resolves:
    /// serialization_failure or deadlock_detected.
    var isRetryable: Bool { sqlState == "40001" || sqlState == "40P01" }
}

/// One PostgreSQL connection through libpq, used synchronously from one thread at a time (its
/// pool's thread for it). Binds go as typed parameters, never spliced into the SQL; results come
/// back as text and are read into ``SQLValue``s by their column types.
final class PostgresConnection: DirectConnection, @unchecked Sendable {
    private var handle: OpaquePointer?
    /// The result columns of each statement run so far, by its SQL, while they stay the same.
    private var columnsBySQL: [String: ColumnIndex] = [:]

    /// Connects with libpq's keywords and values (``PostgresTarget/parameters``); the error is
    /// libpq's or the server's own message.
    init(parameters: [(String, String)]) throws {
        let keys = parameters.map { strdup($0.0) } + [nil]
        let values = parameters.map { strdup($0.1) } + [nil]
        defer { (keys + values).forEach { free($0) } }
        handle = keys.map { UnsafePointer($0) }.withUnsafeBufferPointer { k in
            values.map { UnsafePointer($0) }.withUnsafeBufferPointer { v in PQconnectdbParams(k.baseAddress, v.baseAddress, 0) }
        }
        guard let handle, PQstatus(handle) == CONNECTION_OK else {
            let message = handle.map { String(cString: PQerrorMessage($0)) } ?? "libpq could not allocate a connection"
            PQfinish(handle)
            self.handle = nil
            throw PostgresFailure(sqlState: nil, message: message.trimmingCharacters(in: .whitespacesAndNewlines), sql: "")
        }
        xx_pq_silence_notices(handle)
    }

    deinit { close() }

    func close() {
        if let handle { PQfinish(handle) }
        handle = nil
    }

    /// Whether the connection can serve another transaction: open, and outside any transaction
    /// (one whose ROLLBACK failed would otherwise leak into the next BEGIN). Its pool drops a
    /// connection that cannot.
    var isReusable: Bool {
        guard let handle else { return false }
        return PQstatus(handle) == CONNECTION_OK && PQtransactionStatus(handle) == PQTRANS_IDLE
    }

    func query(_ sql: String, _ binds: [SQLValue]) throws -> (columns: ColumnIndex, rows: [[SQLValue]]) {
        guard let handle else { throw PostgresFailure(sqlState: nil, message: "the connection is closed", sql: sql) }
        let result = try execute(handle, sql, binds)
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK: break
        default:
            let state = PQresultErrorField(result, Int32(XX_PG_DIAG_SQLSTATE)).map { String(cString: $0) }
            let message = String(cString: PQresultErrorMessage(result)).trimmingCharacters(in: .whitespacesAndNewlines)
            throw PostgresFailure(sqlState: state, message: message, sql: sql)
        }
        let fields = PQnfields(result), count = PQntuples(result)
        let columns = columnIndex(sql, result, fields)
        let types = (0..<fields).map { PQftype(result, $0) }
        var rows: [[SQLValue]] = []
        rows.reserveCapacity(Int(count))
        for r in 0..<count {
            var row: [SQLValue] = []
            row.reserveCapacity(Int(fields))
            for c in 0..<fields {
                if PQgetisnull(result, r, c) != 0 {
                    row.append(.null)
                } else {
                    row.append(Self.value(PQgetvalue(result, r, c), length: Int(PQgetlength(result, r, c)), type: types[Int(c)]))
                }
            }
            rows.append(row)
        }
        return (columns, rows)
    }

    /// Sends the statement with its parameters: integers as int8, reals as float8, text as text,
    /// blobs as binary bytea, nulls untyped (PostgreSQL infers their type from where they go).
    /// Every parameter's bytes go into one buffer, each at its own offset.
    private func execute(_ handle: OpaquePointer, _ sql: String, _ binds: [SQLValue]) throws -> OpaquePointer {
        var types: [Oid] = [], formats: [Int32] = [], lengths: [Int32] = [], offsets: [Int?] = []
        var buffer: [UInt8] = []
        for bind in binds {
            let (type, format, data): (Int32, Int32, [UInt8]?)
            switch bind {
            case .null: (type, format, data) = (0, 0, nil)
            case .integer(let v): (type, format, data) = (Int32(XX_PG_INT8), 0, Array(String(v).utf8) + [0])
            case .real(let v): (type, format, data) = (Int32(XX_PG_FLOAT8), 0, Array(Self.text(v).utf8) + [0])
            case .text(let v):
                // libpq reads a text parameter up to its first NUL, which PostgreSQL's text cannot hold.
                guard !v.utf8.contains(0) else {
                    throw PostgresFailure(sqlState: nil, message: "a text value holds a NUL character, which PostgreSQL cannot store", sql: sql)
                }
                (type, format, data) = (Int32(XX_PG_TEXT), 0, Array(v.utf8) + [0])
            case .blob(let v):
                guard v.count < Int(Int32.max) else {
                    throw PostgresFailure(sqlState: nil, message: "a blob of \(v.count) bytes is over libpq's 2 GiB", sql: sql)
                }
                (type, format, data) = (Int32(XX_PG_BYTEA), 1, v)
            }
            types.append(Oid(type))
            formats.append(format)
            lengths.append(Int32(data?.count ?? 0))
            offsets.append(data.map { _ in buffer.count })
            if let data { buffer += data }
        }
        // Never empty, so that an empty blob has an address (libpq reads a nil one as NULL).
        buffer.append(0)
        let result = buffer.withUnsafeBufferPointer { bytes in
            let base = bytes.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) }
            let values = offsets.map { offset in offset.flatMap { base?.advanced(by: $0) } }
            return PQexecParams(handle, sql, Int32(binds.count), types, values, lengths, formats, 0)
        }
        guard let result else {
            throw PostgresFailure(sqlState: nil, message: String(cString: PQerrorMessage(handle)).trimmingCharacters(in: .whitespacesAndNewlines), sql: sql)
        }
        return result
    }

    /// A float8 parameter as PostgreSQL reads it (Swift's shortest round-trip digits).
    private static func text(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v < 0 ? "-Infinity" : "Infinity" }
        return "\(v)"
    }

    private func columnIndex(_ sql: String, _ result: OpaquePointer, _ fields: Int32) -> ColumnIndex {
        let names = (0..<fields).map { String(cString: PQfname(result, $0)) }
        if let known = columnsBySQL[sql], known.names == names { return known }
        let index = ColumnIndex(names)
        if columnsBySQL.count > 500 { columnsBySQL = [:] }
        columnsBySQL[sql] = index
        return index
    }

    /// One text-format result value read by its column type.
    private static func value(_ text: UnsafeMutablePointer<CChar>!, length: Int, type: Oid) -> SQLValue {
        switch Int32(type) {
        case Int32(XX_PG_INT2), Int32(XX_PG_INT4), Int32(XX_PG_INT8), Int32(XX_PG_OID):
            return .integer(strtoll(text, nil, 10))
        case Int32(XX_PG_FLOAT4), Int32(XX_PG_FLOAT8), Int32(XX_PG_NUMERIC):
            return .real(strtod(text, nil))
        case Int32(XX_PG_BOOL):
            return .integer(text[0] == CChar(UInt8(ascii: "t")) ? 1 : 0)
        case Int32(XX_PG_BYTEA):
            return .blob(hexBytea(text, length: length))
        default:
            return .text(String(cString: text))
        }
    }

    /// bytea's text output, `\x` and two hex digits per byte.
    private static func hexBytea(_ text: UnsafeMutablePointer<CChar>, length: Int) -> [UInt8] {
        guard length >= 2 else { return [] }
        func nibble(_ c: CChar) -> UInt8 {
            let u = UInt8(bitPattern: c)
            switch u {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return u - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return u - UInt8(ascii: "a") + 10
            default: return u &- UInt8(ascii: "A") &+ 10
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity((length - 2) / 2)
        var i = 2
        while i + 1 < length {
            bytes.append(nibble(text[i]) << 4 | nibble(text[i + 1]))
            i += 2
        }
        return bytes
    }
}
