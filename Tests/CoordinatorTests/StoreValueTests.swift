import CoordinatorStore
import CoordinatorTestSupport
import Foundation
import SQLKit
import Testing
import XunxingSupport

/// Values through each database's driver (SQLite's C API, libpq's typed parameters and text
/// results): what is bound is what is read back, bit for bit.
@Suite("Values through both databases' drivers")
struct StoreValueTests {
    struct Row: Equatable {
        var i: Int64?
        var d: Double?
        var t: String?
        var b: Data?
    }

    static func randomText(_ g: inout some RandomNumberGenerator) -> String {
        let pieces = ["a", "Z", "'", "''", "\"", "\\", "\\x41", "$1", "?", "%", "\n", "\t", " ", "é", "寻星", "🔭", "NULL", "--"]
        return (0..<Int.random(in: 0...12, using: &g)).map { _ in pieces.randomElement(using: &g)! }.joined()
    }

    static func randomRow(_ g: inout some RandomNumberGenerator) -> Row {
        let integers: [Int64] = [.min, .max, 0, -1, 1, Int64(Int32.max) + 1]
        let reals: [Double] = [.infinity, -.infinity, .leastNonzeroMagnitude, .greatestFiniteMagnitude, -0.0, 0.1, 1e-300, 1 / 3]
        func maybe<T>(_ value: T, _ g: inout some RandomNumberGenerator) -> T? { Int.random(in: 0..<6, using: &g) == 0 ? nil : value }
        let integer = Bool.random(using: &g) ? integers.randomElement(using: &g)! : Int64.random(in: .min ... .max, using: &g)
        let real = Bool.random(using: &g) ? reals.randomElement(using: &g)! : Double(bitPattern: UInt64.random(in: 0 ... 0x7fef_ffff_ffff_ffff, using: &g)) * (Bool.random(using: &g) ? 1 : -1)
        let blob = Data((0..<Int.random(in: 0...300, using: &g)).map { _ in UInt8.random(in: 0...255, using: &g) })
        return Row(i: maybe(integer, &g), d: maybe(real, &g), t: maybe(randomText(&g), &g), b: maybe(blob, &g))
    }

    /// A fresh store; PostgreSQL's database first given the session defaults that would garble
    /// text results if the connection did not pin its own (bytea in the old escape format,
    /// floats with 15 digits), so the round trip also shows they are pinned.
    func open(_ backend: Backend) async throws -> (any SQLStorage, () -> Void) {
        guard backend == .postgres else { return try await StoreReadTests().open(backend) }
        let url = try await onThread { try PostgresTestCluster.shared.makeDatabase() }
        let first = try await PostgresStorage.connect(url: url)
        try await first.transaction { tx in
            let name = try await tx.first("SELECT current_database() AS d")!.decode(column: "d", as: String.self)
            try await tx.run("ALTER DATABASE \(ident: name) SET bytea_output = 'escape'")
            try await tx.run("ALTER DATABASE \(ident: name) SET extra_float_digits = 0")
        }
        try await first.close()
        let store = try await PostgresStorage.connect(url: url)
        return (store, { Task { try? await store.close() } })
    }

    @Test("text holding a NUL: kept whole by SQLite, refused by PostgreSQL (which cannot store it) with a message, never cut short", arguments: Backend.allCases)
    func nulInText(backend: Backend) async throws {
        let (store, cleanup) = try await open(backend)
        defer { cleanup() }
        let text = "before\u{0}after"
        do {
            let back = try await store.transaction { tx -> String? in
                try await tx.run("CREATE TABLE nul_probe (t TEXT)")
                try await tx.run("INSERT INTO nul_probe (t) VALUES (\(bind: text))")
                return try await tx.first("SELECT t FROM nul_probe")?.decode(column: "t", as: String.self)
            }
            #expect(backend == .sqlite && back == text, "read back \(String(describing: back))")
        } catch {
            #expect(backend == .postgres && "\(error)".contains("NUL"), "\(error)")
        }
    }

    @Test("random integers, doubles (infinities, subnormals, 0 of either sign), text (quotes, backslashes, CJK, emoji) and blobs (empty too) round-trip exactly, nulls as nulls", arguments: Backend.allCases)
    func roundTrip(backend: Backend) async throws {
        let (store, cleanup) = try await open(backend)
        defer { cleanup() }
        var g = SystemRandomNumberGenerator()
        let rows = [Row(i: 0, d: 0, t: "", b: Data())] + (0..<300).map { _ in Self.randomRow(&g) }
        let read = try await store.transaction { tx -> [Row] in
            let blob: SQLQueryString = tx.dialect == .postgres ? "BYTEA" : "BLOB"
            try await tx.run("CREATE TABLE value_probe (k INTEGER PRIMARY KEY, i BIGINT, d DOUBLE PRECISION, t TEXT, b \(blob))")
            for (k, row) in rows.enumerated() {
                try await tx.run("INSERT INTO value_probe (k, i, d, t, b) VALUES (\(bind: k), \(bind: row.i), \(bind: row.d), \(bind: row.t), \(bind: row.b))")
            }
            // An empty blob as a statement's only value is still a value, not NULL.
            try await tx.run("INSERT INTO value_probe (k, b) VALUES (-1, \(bind: Data()))")
            let lone = try await tx.first("SELECT b FROM value_probe WHERE k = -1")!
            #expect(try !lone.decodeNil(column: "b") && lone.decode(column: "b", as: Data.self).isEmpty)
            try await tx.run("DELETE FROM value_probe WHERE k = -1")
            return try await tx.all("SELECT i, d, t, b FROM value_probe ORDER BY k").map { r in
                Row(i: try r.decodeNil(column: "i") ? nil : try r.decode(column: "i", as: Int64.self),
                    d: try r.decodeNil(column: "d") ? nil : try r.decode(column: "d", as: Double.self),
                    t: try r.decodeNil(column: "t") ? nil : try r.decode(column: "t", as: String.self),
                    b: try r.decodeNil(column: "b") ? nil : try r.decode(column: "b", as: Data.self))
            }
        }
        #expect(read.count == rows.count)
        for (sent, back) in zip(rows, read) {
            #expect(sent.i == back.i && sent.t == back.t && sent.b == back.b, "sent \(sent), read \(back)")
            // Bit for bit, but for the sign of zero: SQLite keeps a whole REAL as an integer, so -0.0
            // comes back as 0.0.
            #expect(sent.d == 0 ? back.d == 0 : sent.d?.bitPattern == back.d?.bitPattern,
                    "double \(String(describing: sent.d)) read as \(String(describing: back.d))")
        }
    }
}
