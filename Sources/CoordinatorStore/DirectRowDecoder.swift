import Foundation

/// Decodes a record straight from a ``DirectRow``: each property is found by its camelCase name in
/// the statement's ``ColumnIndex`` (one dictionary lookup) and read as the type it asks for.
///
/// This is SQLKit's `SQLRowDecoder` with the snake_case key strategy, without its per-key work
/// (the strategy's closure, a column search, a decoder per value): under load the writer spent a
/// fifth of its time there. Properties named in a way the inverse conversion does not produce fall
/// back to ``SnakeCaseColumns``, so every record decodes exactly as it did through SQLKit.
struct DirectRowDecoder: Decoder {
    let row: DirectRow
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(Columns<Key>(row: row))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        throw DecodingError.typeMismatch([Any].self, .init(codingPath: [], debugDescription: "a row is decoded by column names"))
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        throw DecodingError.typeMismatch(Any.self, .init(codingPath: [], debugDescription: "a row is decoded by column names"))
    }

    struct Columns<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let row: DirectRow
        var codingPath: [any CodingKey] { [] }
        var allKeys: [Key] { row.index.names.compactMap { Key(stringValue: ColumnIndex.property(forColumn: $0)) } }

        private func position(_ key: Key) -> Int? {
            row.index.propertyPositions[key.stringValue] ?? row.index.positions[SnakeCaseColumns.column(for: key.stringValue)]
        }

        private func value(_ key: Key) throws -> (SQLValue, String) {
            guard let i = position(key) else {
                throw DecodingError.keyNotFound(key, .init(codingPath: [], debugDescription: "no column for \(key.stringValue) in \(row.index.names)"))
            }
            return (row.values[i], row.index.names[i])
        }

        func contains(_ key: Key) -> Bool { position(key) != nil }

        func decodeNil(forKey key: Key) throws -> Bool { try value(key).0 == .null }

        func decode(_ type: String.Type, forKey key: Key) throws -> String {
            let (v, column) = try value(key)
            if case .text(let s) = v { return s }
            return try SQLValueDecoder(value: v, column: column).decode(String.self)
        }

        func decode(_ type: Double.Type, forKey key: Key) throws -> Double {
            let (v, column) = try value(key)
            if case .real(let d) = v { return d }
            return try SQLValueDecoder(value: v, column: column).decode(Double.self)
        }

        func decode(_ type: Int.Type, forKey key: Key) throws -> Int {
            let (v, column) = try value(key)
            if case .integer(let n) = v { return Int(n) }
            return try SQLValueDecoder(value: v, column: column).decode(Int.self)
        }

        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            let (v, column) = try value(key)
            return try SQLValueDecoder(value: v, column: column).decode(T.self)
        }

        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
            throw DecodingError.typeMismatch(type, .init(codingPath: [key], debugDescription: "a column holds a single value"))
        }

        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            throw DecodingError.typeMismatch([Any].self, .init(codingPath: [key], debugDescription: "a column holds a single value"))
        }

        func superDecoder() throws -> any Decoder { DirectRowDecoder(row: row) }
        func superDecoder(forKey key: Key) throws -> any Decoder { DirectRowDecoder(row: row) }
    }
}
