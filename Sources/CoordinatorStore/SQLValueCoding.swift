import Foundation

/// One value of a row or bind, in either database: SQLite's storage classes, which PostgreSQL's
/// results are read into by their column types (``PostgresConnection``).
enum SQLValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

/// Turns a bound Swift value (String, integers, Double, Bool, Data, or an Optional of one) into a
/// ``SQLValue``, through `Encodable` so that optionals of any of them work.
enum SQLValueEncoder {
    static func encode(_ value: any Encodable) throws -> SQLValue {
        switch value {
        case let v as String: return .text(v)
        case let v as Int: return .integer(Int64(v))
        case let v as Int64: return .integer(v)
        case let v as Double: return .real(v)
        case let v as Bool: return .integer(v ? 1 : 0)
        // Data encodes itself as a list of bytes, which the single-value capture below refuses.
        case let v as Data: return .blob([UInt8](v))
        default:
            let capture = Capture()
            try value.encode(to: capture)
            return capture.value
        }
    }

    private final class Capture: Encoder, SingleValueEncodingContainer {
        var value: SQLValue = .null
        var codingPath: [any CodingKey] = []
        var userInfo: [CodingUserInfoKey: Any] = [:]

        func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
            fatalError("a SQL bind must be a single value, not \(Key.self)")
        }
        func unkeyedContainer() -> any UnkeyedEncodingContainer { fatalError("a SQL bind must be a single value") }
        func singleValueContainer() -> any SingleValueEncodingContainer { self }

        func encodeNil() { value = .null }
        func encode(_ v: Bool) { value = .integer(v ? 1 : 0) }
        func encode(_ v: String) { value = .text(v) }
        func encode(_ v: Double) { value = .real(v) }
        func encode(_ v: Float) { value = .real(Double(v)) }
        func encode(_ v: Int) { value = .integer(Int64(v)) }
        func encode(_ v: Int8) { value = .integer(Int64(v)) }
        func encode(_ v: Int16) { value = .integer(Int64(v)) }
        func encode(_ v: Int32) { value = .integer(Int64(v)) }
        func encode(_ v: Int64) { value = .integer(v) }
        func encode(_ v: UInt) { value = .integer(Int64(v)) }
        func encode(_ v: UInt8) { value = .integer(Int64(v)) }
        func encode(_ v: UInt16) { value = .integer(Int64(v)) }
        func encode(_ v: UInt32) { value = .integer(Int64(v)) }
        func encode(_ v: UInt64) { value = .integer(Int64(bitPattern: v)) }
        func encode<T: Encodable>(_ v: T) throws {
            if let data = v as? Data {
                value = .blob([UInt8](data))
            } else {
                value = try SQLValueEncoder.encode(v)
            }
        }
    }
}

/// Reads one ``SQLValue`` as the Swift type a record asks for (with SQLite's own conversions:
/// integers read as Double, reals read as integers when whole).
struct SQLValueDecoder: Decoder, SingleValueDecodingContainer {
    let value: SQLValue
    let column: String
    var codingPath: [any CodingKey] { [ColumnKey(column)] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        throw mismatch("a keyed container")
    }
    func unkeyedContainer() throws -> any UnkeyedDecodingContainer { throw mismatch("an unkeyed container") }
    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    func decodeNil() -> Bool { value == .null }

    private func mismatch(_ wanted: String) -> DecodingError {
        .typeMismatch(Any.self, .init(codingPath: codingPath, debugDescription: "column \(column) holds \(value), not \(wanted)"))
    }

    private func integer() throws -> Int64 {
        switch value {
        case .integer(let v): return v
        case .real(let v) where v.rounded() == v && abs(v) < 9.2e18: return Int64(v)
        case .text(let s): if let v = Int64(s) { return v }
        default: break
        }
        throw mismatch("an integer")
    }

    func decode(_ type: Bool.Type) throws -> Bool { try integer() != 0 }
    func decode(_ type: String.Type) throws -> String {
        switch value {
        case .text(let s): return s
        case .integer(let v): return String(v)
        case .real(let v): return String(v)
        case .blob(let b): return String(decoding: b, as: UTF8.self)
        case .null: throw mismatch("a string")
        }
    }
    func decode(_ type: Double.Type) throws -> Double {
        switch value {
        case .real(let v): return v
        case .integer(let v): return Double(v)
        case .text(let s): if let v = Double(s) { return v }
        default: break
        }
        throw mismatch("a number")
    }
    func decode(_ type: Float.Type) throws -> Float { Float(try decode(Double.self)) }
    func decode(_ type: Int.Type) throws -> Int { Int(try integer()) }
    func decode(_ type: Int8.Type) throws -> Int8 { Int8(truncatingIfNeeded: try integer()) }
    func decode(_ type: Int16.Type) throws -> Int16 { Int16(truncatingIfNeeded: try integer()) }
    func decode(_ type: Int32.Type) throws -> Int32 { Int32(truncatingIfNeeded: try integer()) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer() }
    func decode(_ type: UInt.Type) throws -> UInt { UInt(truncatingIfNeeded: try integer()) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { UInt8(truncatingIfNeeded: try integer()) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { UInt16(truncatingIfNeeded: try integer()) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { UInt32(truncatingIfNeeded: try integer()) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { UInt64(bitPattern: try integer()) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if T.self == Data.self, case .blob(let b) = value { return Data(b) as! T }
        return try T(from: self)
    }
}
