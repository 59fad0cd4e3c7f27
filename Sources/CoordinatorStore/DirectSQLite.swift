import VaporCSQLite
import Foundation

/// SQLite's SQLITE_TRANSIENT (a macro Swift cannot import): the library copies the bound bytes.
private let sqliteTransient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

/// One value of a SQLite row or bind.
enum SQLiteValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

/// Failures of the SQLite library, with its message and the statement.
public struct SQLiteFailure: Error, CustomStringConvertible {
    public let code: Int32
    public let message: String
    public let sql: String

    public var description: String { "SQLite error \(code): \(message) (in: \(sql.prefix(200)))" }
}

/// A SQLite connection used synchronously from one thread at a time (the store's writer thread):
/// no thread hops per statement, and prepared statements kept for reuse.
final class DirectSQLite: @unchecked Sendable {
    private var handle: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]
    let path: String

    init(path: String) throws {
        self.path = path
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let code = sqlite_nio_sqlite3_open_v2(path, &handle, flags, nil)
        guard code == SQLITE_OK else {
            let message = handle.map { String(cString: sqlite_nio_sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite_nio_sqlite3_close_v2(handle)
            throw SQLiteFailure(code: code, message: "\(path): \(message)", sql: "")
        }
        sqlite_nio_sqlite3_extended_result_codes(handle, 1)
    }

    deinit { close() }

    func close() {
        for (_, statement) in statements { sqlite_nio_sqlite3_finalize(statement) }
        statements = [:]
        if let handle { sqlite_nio_sqlite3_close_v2(handle) }
        handle = nil
    }

    /// Runs one statement with its binds and returns every row.
    func query(_ sql: String, _ binds: [SQLiteValue]) throws -> (columns: [String], rows: [[SQLiteValue]]) {
        guard let handle else { throw SQLiteFailure(code: SQLITE_MISUSE, message: "connection closed", sql: sql) }
        let statement = try prepared(sql, handle)
        defer {
            sqlite_nio_sqlite3_reset(statement)
            sqlite_nio_sqlite3_clear_bindings(statement)
        }
        for (i, value) in binds.enumerated() {
            let index = Int32(i + 1)
            let code: Int32
            switch value {
            case .null: code = sqlite_nio_sqlite3_bind_null(statement, index)
            case .integer(let v): code = sqlite_nio_sqlite3_bind_int64(statement, index, v)
            case .real(let v): code = sqlite_nio_sqlite3_bind_double(statement, index, v)
            case .text(let v): code = sqlite_nio_sqlite3_bind_text(statement, index, v, -1, sqliteTransient)
            case .blob(let v): code = v.withUnsafeBytes { sqlite_nio_sqlite3_bind_blob(statement, index, $0.baseAddress, Int32($0.count), sqliteTransient) }
            }
            guard code == SQLITE_OK else { throw failure(code, sql) }
        }
        let count = sqlite_nio_sqlite3_column_count(statement)
        let columns = (0..<count).map { String(cString: sqlite_nio_sqlite3_column_name(statement, $0)) }
        var rows: [[SQLiteValue]] = []
        while true {
            let code = sqlite_nio_sqlite3_step(statement)
            if code == SQLITE_DONE { break }
            guard code == SQLITE_ROW else { throw failure(code, sql) }
            var row: [SQLiteValue] = []
            row.reserveCapacity(Int(count))
            for c in 0..<count {
                switch sqlite_nio_sqlite3_column_type(statement, c) {
                case SQLITE_INTEGER: row.append(.integer(sqlite_nio_sqlite3_column_int64(statement, c)))
                case SQLITE_FLOAT: row.append(.real(sqlite_nio_sqlite3_column_double(statement, c)))
                case SQLITE_TEXT: row.append(.text(String(cString: sqlite_nio_sqlite3_column_text(statement, c))))
                case SQLITE_BLOB:
                    let n = Int(sqlite_nio_sqlite3_column_bytes(statement, c))
                    let bytes = sqlite_nio_sqlite3_column_blob(statement, c)
                    row.append(.blob(n == 0 || bytes == nil ? [] : Array(UnsafeRawBufferPointer(start: bytes, count: n))))
                default: row.append(.null)
                }
            }
            rows.append(row)
        }
        return (columns, rows)
    }

    private func prepared(_ sql: String, _ handle: OpaquePointer) throws -> OpaquePointer {
        if let cached = statements[sql] { return cached }
        var statement: OpaquePointer?
        let code = sqlite_nio_sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard code == SQLITE_OK, let statement else { throw failure(code, sql) }
        if statements.count > 500 {
            for (_, old) in statements { sqlite_nio_sqlite3_finalize(old) }
            statements = [:]
        }
        statements[sql] = statement
        return statement
    }

    private func failure(_ code: Int32, _ sql: String) -> SQLiteFailure {
        SQLiteFailure(code: code, message: handle.map { String(cString: sqlite_nio_sqlite3_errmsg($0)) } ?? "closed", sql: sql)
    }
}
