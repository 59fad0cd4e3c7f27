import Foundation
import Logging
import NIOCore
import NIOPosix
import SQLKit

/// A database connection the store calls synchronously, from one thread at a time.
protocol DirectConnection: AnyObject, Sendable {
    /// Runs one statement with its binds and returns every row.
    func query(_ sql: String, _ binds: [SQLValue]) throws -> (columns: ColumnIndex, rows: [[SQLValue]])
}

/// SQLKit's view of a ``DirectConnection``: statements run synchronously on the calling thread
/// (the connection's own thread), in the connection's dialect.
struct DirectSQLDatabase: SQLDatabase {
    let connection: any DirectConnection
    let kind: SQLDialectKind
    let logger: Logger
    let eventLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.any()
    var version: (any SQLDatabaseReportedVersion)? { nil }
    var dialect: any SQLDialect { StoreDialect(kind: kind) }
    var queryLogLevel: Logger.Level? { nil }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) -> EventLoopFuture<Void> {
        eventLoop.makeCompletedFuture { try run(query, onRow) }
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) async throws {
        try run(query, onRow)
    }

    private func run(_ query: any SQLExpression, _ onRow: (any SQLRow) -> Void) throws {
        let (sql, binds) = serialize(query)
        let values = try binds.map { try SQLValueEncoder.encode($0) }
        let result = try connection.query(sql, values)
        for row in result.rows { onRow(DirectRow(index: result.columns, values: row)) }
    }
}

/// Column names of one statement's result, by position, under their own names and under the
/// camelCase property names records use (`work_unit_id` as `workUnitId`), worked out once per
/// statement rather than per row and key.
final class ColumnIndex: Sendable {
    let names: [String]
    let positions: [String: Int]
    let propertyPositions: [String: Int]

    init(_ names: [String]) {
        self.names = names
        var positions: [String: Int] = [:]
        var properties: [String: Int] = [:]
        for (i, name) in names.enumerated() where positions[name] == nil {
            positions[name] = i
            let property = Self.property(forColumn: name)
            if properties[property] == nil { properties[property] = i }
        }
        self.positions = positions
        self.propertyPositions = properties
    }

    /// `work_unit_id` to `workUnitId`: the inverse of ``SnakeCaseColumns/column(for:)``.
    static func property(forColumn column: String) -> String {
        let parts = column.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count > 1 else { return column }
        return parts.dropFirst().reduce(String(parts[0])) { $0 + $1.prefix(1).uppercased() + $1.dropFirst() }
    }
}

/// One result row.
struct DirectRow: SQLRow, @unchecked Sendable {
    let index: ColumnIndex
    let values: [SQLValue]

    var allColumns: [String] { index.names }

    func contains(column: String) -> Bool { index.positions[column] != nil }

    func decodeNil(column: String) throws -> Bool {
        guard let i = index.positions[column] else { throw DecodingError.keyNotFound(ColumnKey(column), .init(codingPath: [], debugDescription: "no column \(column)")) }
        return values[i] == .null
    }

    func decode<D: Decodable>(column: String, as type: D.Type) throws -> D {
        guard let i = index.positions[column] else {
            throw DecodingError.keyNotFound(ColumnKey(column), .init(codingPath: [], debugDescription: "no column \(column)"))
        }
        return try SQLValueDecoder(value: values[i], column: column).decode(D.self)
    }
}

struct ColumnKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ s: String) { stringValue = s }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
