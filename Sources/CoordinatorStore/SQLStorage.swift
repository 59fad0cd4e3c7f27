import Foundation
import Logging
import SQLKit

/// The SQL dialects the coordinator runs on. Queries are written once in the common subset;
/// the few places that differ ask for the dialect.
public enum SQLDialectKind: String, Sendable {
    case sqlite, postgres
}

/// One open transaction. Every coordinator state change runs inside one, so a crash at any point
/// leaves the database as it was before or after the change, never between.
public struct SQLTransaction: Sendable {
    let database: any SQLDatabase
    public let dialect: SQLDialectKind
    let effects: AfterCommit

    public init(database: any SQLDatabase, dialect: SQLDialectKind, effects: AfterCommit = AfterCommit()) {
        self.database = database
        self.dialect = dialect
        self.effects = effects
    }

    /// Runs `effect` once this transaction has committed, and never if it rolls back or is retried
    /// (a retried transaction runs its body again, with effects of its own): metrics, logs and
    /// anything else outside the database belong here, not in the body.
    public func afterCommit(_ effect: @escaping @Sendable () -> Void) {
        effects.add(effect)
    }

    /// The same transaction, collecting its after-commit effects in `effects` (a job of a batch).
    func collecting(into effects: AfterCommit) -> SQLTransaction {
        SQLTransaction(database: database, dialect: dialect, effects: effects)
    }

    // The raw statements below are the store's own tools: every query the coordinator, the load
    // generator and the audits make is a typed method of this module (one file per concern). They
    // are `package`, not public, for the tests that tamper with the database on purpose (a ledger
    // row edited by hand, a state outside its enum, a schema from the future) to show it refuses.

    /// Runs a statement.
    package func run(_ query: SQLQueryString) async throws {
        try await database.raw(query).run()
    }

    /// All rows of a query.
    package func all(_ query: SQLQueryString) async throws -> [any SQLRow] {
        try await database.raw(query).all()
    }

    /// The first row of a query, if any.
    package func first(_ query: SQLQueryString) async throws -> (any SQLRow)? {
        try await database.raw(query).first()
    }

    /// Rows decoded into a Codable record whose property names are the snake_case columns in camelCase.
    package func records<R: Decodable>(_ type: R.Type, _ query: SQLQueryString) async throws -> [R] {
        try await all(query).map(Self.decode)
    }

    /// The first row decoded as `R`.
    package func record<R: Decodable>(_ type: R.Type, _ query: SQLQueryString) async throws -> R? {
        try await first(query).map(Self.decode)
    }

    /// One row as a record: SQLite's rows by the direct decoder, others by SQLKit's.
    private static func decode<R: Decodable>(_ row: any SQLRow) throws -> R {
        if let direct = row as? DirectRow { return try R(from: DirectRowDecoder(row: direct)) }
        return try row.decode(model: R.self, keyDecodingStrategy: SnakeCaseColumns.strategy)
    }

    /// A single integer from the first column named `column`.
    package func count(_ query: SQLQueryString, column: String = "n") async throws -> Int {
        guard let row = try await first(query) else { return 0 }
        return try row.decode(column: column, as: Int.self)
    }
}

/// A database the coordinator keeps its state in.
public protocol SQLStorage: Sendable {
    var dialect: SQLDialectKind { get }
    /// Runs `body` in one transaction: committed if it returns, rolled back if it throws.
    func transaction<T: Sendable>(_ body: @escaping @Sendable (SQLTransaction) async throws -> T) async throws -> T
    /// Runs `body` on one consistent, read-only snapshot that never waits for the writer and never
    /// holds it up: for pages, exports and monitoring, whose reads must not queue behind (or in
    /// front of) the transactions that change state. A write inside `body` fails.
    func read<T: Sendable>(_ body: @escaping @Sendable (SQLTransaction) async throws -> T) async throws -> T
    /// Closes the connections.
    func close() async throws
}

/// camelCase property names to snake_case columns, converted once per name and remembered: SQLKit's
/// own `convertFromSnakeCase` converts every key of every row anew, which was the coordinator's
/// largest single cost under load.
enum SnakeCaseColumns {
    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var cache: [String: String] = [:]

    static let strategy = SQLRowDecoder.KeyDecodingStrategy.custom { path in
        Key(stringValue: column(for: path.last?.stringValue ?? ""))
    }

    static func column(for key: String) -> String {
        if let known = lock.withLock({ cache[key] }) { return known }
        var snake = ""
        for character in key {
            if character.isUppercase {
                snake += "_" + character.lowercased()
            } else {
                snake.append(character)
            }
        }
        lock.withLock { cache[key] = snake }
        return snake
    }
}

/// Effects to run after a transaction commits (``SQLTransaction/afterCommit(_:)``).
public final class AfterCommit: @unchecked Sendable {
    private let lock = NSLock()
    private var effects: [@Sendable () -> Void] = []

    public init() {}

    func add(_ effect: @escaping @Sendable () -> Void) {
        lock.withLock { effects.append(effect) }
    }

    /// Runs the effects collected, once.
    func run() {
        let now = lock.withLock { () -> [@Sendable () -> Void] in
            defer { effects = [] }
            return effects
        }
        for effect in now { effect() }
    }
}
