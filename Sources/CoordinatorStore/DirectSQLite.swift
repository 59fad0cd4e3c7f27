import CSQLite3
import Foundation

private let sqliteTransient = xx_sqlite_transient()

/// Failures of the SQLite library, with its message and the statement.
public struct SQLiteFailure: Error, CustomStringConvertible {
    public let code: Int32
    public let message: String
    public let sql: String

    public var description: String { "SQLite error \(code): \(message) (in: \(sql.prefix(200)))" }
}

/// A SQLite connection used synchronously from one thread at a time (the store's writer thread):
/// no thread hops per statement, and prepared statements kept for reuse.
final class DirectSQLite: DirectConnection, @unchecked Sendable {
    private var handle: OpaquePointer?
    /// A kept statement, the names of its result columns, and how often it had been prepared
    /// again when they were read (a schema change can change what `SELECT *` returns).
    private struct Prepared {
        let statement: OpaquePointer
        var columns: ColumnIndex
        var preparedAgain: Int32
    }
    private var statements: [String: Prepared] = [:]
    let path: String

    init(path: String) throws {
        self.path = path
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let code = sqlite3_open_v2(path, &handle, flags, nil)
        guard code == SQLITE_OK else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close_v2(handle)
            throw SQLiteFailure(code: code, message: "\(path): \(message)", sql: "")
        }
        sqlite3_extended_result_codes(handle, 1)
    }

    deinit { close() }

    func close() {
        for (_, kept) in statements { sqlite3_finalize(kept.statement) }
        statements = [:]
        if let handle { sqlite3_close_v2(handle) }
        handle = nil
    }

    /// Runs one statement with its binds and returns every row.
    func query(_ sql: String, _ binds: [SQLValue]) throws -> (columns: ColumnIndex, rows: [[SQLValue]]) {
        guard let handle else { throw SQLiteFailure(code: SQLITE_MISUSE, message: "connection closed", sql: sql) }
        let statement = try prepared(sql, handle)
        // Reset only: every parameter is bound anew below. (sqlite3_clear_bindings would expire a
        // statement whose plan looked at a bound value, `WHERE column = ?` among them, and SQLite
        // would prepare it again on its next run: 8 % of the coordinator's time under load.)
        defer { sqlite3_reset(statement) }
        guard sqlite3_bind_parameter_count(statement) == Int32(binds.count) else {
            throw SQLiteFailure(
                code: SQLITE_RANGE, message: "\(binds.count) values for \(sqlite3_bind_parameter_count(statement)) parameters", sql: sql)
        }
        for (i, value) in binds.enumerated() {
            let index = Int32(i + 1)
            let code: Int32
            switch value {
            case .null: code = sqlite3_bind_null(statement, index)
            case .integer(let v): code = sqlite3_bind_int64(statement, index, v)
            case .real(let v): code = sqlite3_bind_double(statement, index, v)
            case .text(let v):
                // By its byte count, not up to a NUL: text holding one is kept whole.
                code = v.withCString { sqlite3_bind_text(statement, index, $0, Int32(v.utf8.count), sqliteTransient) }
            case .blob(let v): code = v.withUnsafeBytes { sqlite3_bind_blob(statement, index, $0.baseAddress, Int32($0.count), sqliteTransient) }
            }
            guard code == SQLITE_OK else { throw failure(code, sql) }
        }
        let count = sqlite3_column_count(statement)
        var rows: [[SQLValue]] = []
        while true {
            let code = sqlite3_step(statement)
            if code == SQLITE_DONE { break }
            guard code == SQLITE_ROW else { throw failure(code, sql) }
            var row: [SQLValue] = []
            row.reserveCapacity(Int(count))
            for c in 0..<count {
                switch sqlite3_column_type(statement, c) {
                case SQLITE_INTEGER: row.append(.integer(sqlite3_column_int64(statement, c)))
                case SQLITE_FLOAT: row.append(.real(sqlite3_column_double(statement, c)))
                case SQLITE_TEXT:
                    let n = Int(sqlite3_column_bytes(statement, c))
                    let text = sqlite3_column_text(statement, c)
                    row.append(.text(n == 0 || text == nil ? "" : String(decoding: UnsafeBufferPointer(start: text, count: n), as: UTF8.self)))
                case SQLITE_BLOB:
                    let n = Int(sqlite3_column_bytes(statement, c))
                    let bytes = sqlite3_column_blob(statement, c)
                    row.append(.blob(n == 0 || bytes == nil ? [] : Array(UnsafeRawBufferPointer(start: bytes, count: n))))
                default: row.append(.null)
                }
            }
            rows.append(row)
        }
        return (columns(of: sql, statement), rows)
    }

    /// The result columns of a kept statement, named once and named again only if SQLite has
    /// prepared it again since.
    private func columns(of sql: String, _ statement: OpaquePointer) -> ColumnIndex {
        let again = sqlite3_stmt_status(statement, SQLITE_STMTSTATUS_REPREPARE, 0)
        if let kept = statements[sql], kept.preparedAgain == again { return kept.columns }
        let names = (0..<sqlite3_column_count(statement)).map { String(cString: sqlite3_column_name(statement, $0)) }
        let index = ColumnIndex(names)
        statements[sql] = Prepared(statement: statement, columns: index, preparedAgain: again)
        return index
    }

    /// How many times SQLite has prepared a kept statement again since it was first prepared.
    /// Under a steady load this must not grow: a statement whose plan depends on a bound value
    /// (a bound `LIMIT`, or any bound value once its bindings are cleared) is prepared anew on
    /// every run.
    var repreparations: Int {
        statements.values.reduce(0) { $0 + Int(sqlite3_stmt_status($1.statement, SQLITE_STMTSTATUS_REPREPARE, 0)) }
    }

    private func prepared(_ sql: String, _ handle: OpaquePointer) throws -> OpaquePointer {
        if let kept = statements[sql] { return kept.statement }
        var statement: OpaquePointer?
        let code = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard code == SQLITE_OK, let statement else { throw failure(code, sql) }
        if statements.count > 500 {
            for (_, old) in statements { sqlite3_finalize(old.statement) }
            statements = [:]
        }
        statements[sql] = Prepared(statement: statement, columns: ColumnIndex([]), preparedAgain: -1)
        return statement
    }

    private func failure(_ code: Int32, _ sql: String) -> SQLiteFailure {
        SQLiteFailure(code: code, message: handle.map { String(cString: sqlite3_errmsg($0)) } ?? "closed", sql: sql)
    }
}
