/// `Codable` to and from `JSONValue` without Foundation, for the control protocol's message types.
/// Numbers are written like Foundation's JSONEncoder (integers as digits; a Double's shortest
/// round-trip text with a trailing ".0" dropped); NaN and infinity are encoding errors.
public enum JSONCoding {
    public static func value<T: Encodable>(_ value: T) throws -> JSONValue {
        let root = Slot()
        try value.encode(to: SlotEncoder(slot: root, codingPath: []))
        return root.value
    }

    public static func encode<T: Encodable>(_ value: T, pretty: Bool = false) throws -> [UInt8] {
        try Self.value(value).bytes(pretty: pretty)
    }

    public static func decode<T: Decodable>(_ type: T.Type, from bytes: some Collection<UInt8>) throws -> T {
        try decode(type, from: try JSONValue.parse(bytes))
    }

    public static func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        try T(from: ValueDecoder(value: value, codingPath: []))
    }
}

// MARK: encoding

/// One place in the tree being built; containers fill it in.
private final class Slot {
    enum Content { case value(JSONValue), object([String: Slot]), array([Slot]) }
    var content: Content = .value(.null)

    var value: JSONValue {
        switch content {
        case .value(let v): return v
        case .object(let members): return .object(members.mapValues(\.value))
        case .array(let items): return .array(items.map(\.value))
        }
    }

    func makeObject() {
        if case .object = content { return }
        content = .object([:])
    }

    func makeArray() {
        if case .array = content { return }
        content = .array([])
    }

    func member(_ key: String) -> Slot {
        let s = Slot()
        if case .object(var members) = content {
            content = .value(.null)  // release the array's storage so the insert does not copy
            members[key] = s
            content = .object(members)
        }
        return s
    }

    func append() -> Slot {
        let s = Slot()
        if case .array(var items) = content {
            content = .value(.null)
            items.append(s)
            content = .array(items)
        }
        return s
    }

    var count: Int {
        if case .array(let items) = content { return items.count }
        return 0
    }
}

private struct CodingIndex: CodingKey {
    var stringValue: String { "\(intValue!)" }
    var intValue: Int?
    init(_ i: Int) { intValue = i }
    init?(stringValue: String) { return nil }
    init?(intValue: Int) { self.intValue = intValue }
}

private func number<T: BinaryFloatingPoint & LosslessStringConvertible>(_ v: T, _ path: [any CodingKey]) throws -> JSONValue {
    guard v.isFinite else {
        throw EncodingError.invalidValue(v, .init(codingPath: path, debugDescription: "\(v) is not a JSON number"))
    }
    var s = v.description
    if s.hasSuffix(".0") { s.removeLast(2) }
    return .number(s)
}

/// The primitive `encode` requirements shared by the unkeyed and single-value containers.
private protocol PrimitiveEncoding {
    func put(_ v: JSONValue)
    var valuePath: [any CodingKey] { get }
}

extension PrimitiveEncoding {
    mutating func encodeNil() throws { put(.null) }
    mutating func encode(_ v: Bool) throws { put(.bool(v)) }
    mutating func encode(_ v: String) throws { put(.string(v)) }
    mutating func encode(_ v: Double) throws { put(try number(v, valuePath)) }
    mutating func encode(_ v: Float) throws { put(try number(v, valuePath)) }
    mutating func encode(_ v: Int) throws { put(.number("\(v)")) }
    mutating func encode(_ v: Int8) throws { put(.number("\(v)")) }
    mutating func encode(_ v: Int16) throws { put(.number("\(v)")) }
    mutating func encode(_ v: Int32) throws { put(.number("\(v)")) }
    mutating func encode(_ v: Int64) throws { put(.number("\(v)")) }
    mutating func encode(_ v: UInt) throws { put(.number("\(v)")) }
    mutating func encode(_ v: UInt8) throws { put(.number("\(v)")) }
    mutating func encode(_ v: UInt16) throws { put(.number("\(v)")) }
    mutating func encode(_ v: UInt32) throws { put(.number("\(v)")) }
    mutating func encode(_ v: UInt64) throws { put(.number("\(v)")) }
}

private struct SlotEncoder: Encoder {
    let slot: Slot
    var codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        slot.makeObject()
        return KeyedEncodingContainer(Keyed<Key>(slot: slot, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        slot.makeArray()
        return Unkeyed(slot: slot, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { Single(slot: slot, codingPath: codingPath) }

    struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let slot: Slot
        var codingPath: [any CodingKey]

        func put(_ v: JSONValue, _ key: Key) { slot.member(key.stringValue).content = .value(v) }
        mutating func encodeNil(forKey key: Key) throws { put(.null, key) }
        mutating func encode(_ v: Bool, forKey key: Key) throws { put(.bool(v), key) }
        mutating func encode(_ v: String, forKey key: Key) throws { put(.string(v), key) }
        mutating func encode(_ v: Double, forKey key: Key) throws { put(try number(v, codingPath + [key]), key) }
        mutating func encode(_ v: Float, forKey key: Key) throws { put(try number(v, codingPath + [key]), key) }
        mutating func encode(_ v: Int, forKey key: Key) throws { put(.number("\(v)"), key) }
        mutating func encode(_ v: Int8, forKey key: Key) throws { put(.number("\(v)"), key) }
        mutating func encode(_ v: Int16, forKey key: Key) throws { put(.number("\(v)"), key) }
        mutating func encode(_ v: Int32, forKey key: Key) throws { put(.number("\(v)"), key) }
        mutating func encode(_ v: Int64, forKey key: Key) throws { put(.number("\(v)"), key) }
        mutating func encode(_ v: UInt, forKey key: Key) throws { put(.number("\(v)"), key) }
        mutating func encode(_ v: UInt8, forKey key: Key) throws { put(.number("\(v)"), key) }
        mutating func encode(_ v: UInt16, forKey key: Key) throws { put(.number("\(v)"), key) }
        mutating func encode(_ v: UInt32, forKey key: Key) throws { put(.number("\(v)"), key) }
        mutating func encode(_ v: UInt64, forKey key: Key) throws { put(.number("\(v)"), key) }
        mutating func encode<T: Encodable>(_ v: T, forKey key: Key) throws {
            try v.encode(to: SlotEncoder(slot: slot.member(key.stringValue), codingPath: codingPath + [key]))
        }
        mutating func nestedContainer<N: CodingKey>(keyedBy type: N.Type, forKey key: Key) -> KeyedEncodingContainer<N> {
            SlotEncoder(slot: slot.member(key.stringValue), codingPath: codingPath + [key]).container(keyedBy: type)
        }
        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            SlotEncoder(slot: slot.member(key.stringValue), codingPath: codingPath + [key]).unkeyedContainer()
        }
        mutating func superEncoder() -> any Encoder { SlotEncoder(slot: slot.member("super"), codingPath: codingPath) }
        mutating func superEncoder(forKey key: Key) -> any Encoder {
            SlotEncoder(slot: slot.member(key.stringValue), codingPath: codingPath + [key])
        }
    }

    struct Unkeyed: UnkeyedEncodingContainer, PrimitiveEncoding {
        let slot: Slot
        var codingPath: [any CodingKey]
        var count: Int { slot.count }

        func put(_ v: JSONValue) { slot.append().content = .value(v) }
        var next: [any CodingKey] { codingPath + [CodingIndex(count)] }
        var valuePath: [any CodingKey] { next }
        mutating func encode<T: Encodable>(_ v: T) throws {
            let path = next
            try v.encode(to: SlotEncoder(slot: slot.append(), codingPath: path))
        }
        mutating func nestedContainer<N: CodingKey>(keyedBy type: N.Type) -> KeyedEncodingContainer<N> {
            let path = next
            return SlotEncoder(slot: slot.append(), codingPath: path).container(keyedBy: type)
        }
        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
            let path = next
            return SlotEncoder(slot: slot.append(), codingPath: path).unkeyedContainer()
        }
        mutating func superEncoder() -> any Encoder {
            let path = next
            return SlotEncoder(slot: slot.append(), codingPath: path)
        }
    }

    struct Single: SingleValueEncodingContainer, PrimitiveEncoding {
        let slot: Slot
        var codingPath: [any CodingKey]

        func put(_ v: JSONValue) { slot.content = .value(v) }
        var valuePath: [any CodingKey] { codingPath }
        mutating func encode<T: Encodable>(_ v: T) throws { try v.encode(to: SlotEncoder(slot: slot, codingPath: codingPath)) }
    }
}

// MARK: decoding

private func mismatch<T>(_ type: T.Type, _ path: [any CodingKey], _ found: JSONValue) -> DecodingError {
    DecodingError.typeMismatch(type, .init(codingPath: path, debugDescription: "expected \(type), found \(found.text)"))
}

private func integer<T: FixedWidthInteger>(_ v: JSONValue, _ path: [any CodingKey]) throws -> T {
    guard case .number(let s) = v else { throw mismatch(T.self, path, v) }
    if let n = T(s) { return n }
    if let d = Double(s), let n = T(exactly: d) { return n }
    throw DecodingError.dataCorrupted(.init(codingPath: path, debugDescription: "\(s) does not fit in \(T.self)"))
}

private func floating<T: BinaryFloatingPoint & LosslessStringConvertible>(_ v: JSONValue, _ path: [any CodingKey]) throws -> T {
    guard case .number(let s) = v, let n = T(s) else { throw mismatch(T.self, path, v) }
    return n
}

private func bool(_ v: JSONValue, _ path: [any CodingKey]) throws -> Bool {
    guard case .bool(let b) = v else { throw mismatch(Bool.self, path, v) }
    return b
}

private func string(_ v: JSONValue, _ path: [any CodingKey]) throws -> String {
    guard case .string(let s) = v else { throw mismatch(String.self, path, v) }
    return s
}

private struct ValueDecoder: Decoder {
    let value: JSONValue
    var codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = value else { throw mismatch([String: JSONValue].self, codingPath, value) }
        return KeyedDecodingContainer(Keyed<Key>(members: members, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let items) = value else { throw mismatch([JSONValue].self, codingPath, value) }
        return Unkeyed(items: items, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { Single(value: value, codingPath: codingPath) }

    struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let members: [String: JSONValue]
        var codingPath: [any CodingKey]
        var allKeys: [Key] { members.keys.sorted().compactMap { Key(stringValue: $0) } }

        func contains(_ key: Key) -> Bool { members[key.stringValue] != nil }

        func get(_ key: Key) throws -> JSONValue {
            guard let v = members[key.stringValue] else {
                throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "no member '\(key.stringValue)'"))
            }
            return v
        }

        func decodeNil(forKey key: Key) throws -> Bool { try get(key) == .null }
        func decode(_ t: Bool.Type, forKey key: Key) throws -> Bool { try bool(get(key), codingPath + [key]) }
        func decode(_ t: String.Type, forKey key: Key) throws -> String { try string(get(key), codingPath + [key]) }
        func decode(_ t: Double.Type, forKey key: Key) throws -> Double { try floating(get(key), codingPath + [key]) }
        func decode(_ t: Float.Type, forKey key: Key) throws -> Float { try floating(get(key), codingPath + [key]) }
        func decode(_ t: Int.Type, forKey key: Key) throws -> Int { try integer(get(key), codingPath + [key]) }
        func decode(_ t: Int8.Type, forKey key: Key) throws -> Int8 { try integer(get(key), codingPath + [key]) }
        func decode(_ t: Int16.Type, forKey key: Key) throws -> Int16 { try integer(get(key), codingPath + [key]) }
        func decode(_ t: Int32.Type, forKey key: Key) throws -> Int32 { try integer(get(key), codingPath + [key]) }
        func decode(_ t: Int64.Type, forKey key: Key) throws -> Int64 { try integer(get(key), codingPath + [key]) }
        func decode(_ t: UInt.Type, forKey key: Key) throws -> UInt { try integer(get(key), codingPath + [key]) }
        func decode(_ t: UInt8.Type, forKey key: Key) throws -> UInt8 { try integer(get(key), codingPath + [key]) }
        func decode(_ t: UInt16.Type, forKey key: Key) throws -> UInt16 { try integer(get(key), codingPath + [key]) }
        func decode(_ t: UInt32.Type, forKey key: Key) throws -> UInt32 { try integer(get(key), codingPath + [key]) }
        func decode(_ t: UInt64.Type, forKey key: Key) throws -> UInt64 { try integer(get(key), codingPath + [key]) }
        func decode<T: Decodable>(_ t: T.Type, forKey key: Key) throws -> T {
            try T(from: ValueDecoder(value: get(key), codingPath: codingPath + [key]))
        }
        func nestedContainer<N: CodingKey>(keyedBy type: N.Type, forKey key: Key) throws -> KeyedDecodingContainer<N> {
            try ValueDecoder(value: get(key), codingPath: codingPath + [key]).container(keyedBy: type)
        }
        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            try ValueDecoder(value: get(key), codingPath: codingPath + [key]).unkeyedContainer()
        }
        func superDecoder() throws -> any Decoder { ValueDecoder(value: members["super"] ?? .null, codingPath: codingPath) }
        func superDecoder(forKey key: Key) throws -> any Decoder { ValueDecoder(value: members[key.stringValue] ?? .null, codingPath: codingPath + [key]) }
    }

    struct Unkeyed: UnkeyedDecodingContainer {
        let items: [JSONValue]
        var codingPath: [any CodingKey]
        var currentIndex = 0
        var count: Int? { items.count }
        var isAtEnd: Bool { currentIndex >= items.count }

        init(items: [JSONValue], codingPath: [any CodingKey]) { self.items = items; self.codingPath = codingPath }

        var path: [any CodingKey] { codingPath + [CodingIndex(currentIndex)] }

        mutating func next() throws -> JSONValue {
            guard !isAtEnd else {
                throw DecodingError.valueNotFound(JSONValue.self, .init(codingPath: path, debugDescription: "the array has only \(items.count) items"))
            }
            currentIndex += 1
            return items[currentIndex - 1]
        }

        mutating func decodeNil() throws -> Bool {
            if !isAtEnd, items[currentIndex] == .null { currentIndex += 1; return true }
            return false
        }
        mutating func decode(_ t: Bool.Type) throws -> Bool { let p = path; return try bool(next(), p) }
        mutating func decode(_ t: String.Type) throws -> String { let p = path; return try string(next(), p) }
        mutating func decode(_ t: Double.Type) throws -> Double { let p = path; return try floating(next(), p) }
        mutating func decode(_ t: Float.Type) throws -> Float { let p = path; return try floating(next(), p) }
        mutating func decode(_ t: Int.Type) throws -> Int { let p = path; return try integer(next(), p) }
        mutating func decode(_ t: Int8.Type) throws -> Int8 { let p = path; return try integer(next(), p) }
        mutating func decode(_ t: Int16.Type) throws -> Int16 { let p = path; return try integer(next(), p) }
        mutating func decode(_ t: Int32.Type) throws -> Int32 { let p = path; return try integer(next(), p) }
        mutating func decode(_ t: Int64.Type) throws -> Int64 { let p = path; return try integer(next(), p) }
        mutating func decode(_ t: UInt.Type) throws -> UInt { let p = path; return try integer(next(), p) }
        mutating func decode(_ t: UInt8.Type) throws -> UInt8 { let p = path; return try integer(next(), p) }
        mutating func decode(_ t: UInt16.Type) throws -> UInt16 { let p = path; return try integer(next(), p) }
        mutating func decode(_ t: UInt32.Type) throws -> UInt32 { let p = path; return try integer(next(), p) }
        mutating func decode(_ t: UInt64.Type) throws -> UInt64 { let p = path; return try integer(next(), p) }
        mutating func decode<T: Decodable>(_ t: T.Type) throws -> T {
            let p = path
            return try T(from: ValueDecoder(value: next(), codingPath: p))
        }
        mutating func nestedContainer<N: CodingKey>(keyedBy type: N.Type) throws -> KeyedDecodingContainer<N> {
            let p = path
            return try ValueDecoder(value: next(), codingPath: p).container(keyedBy: type)
        }
        mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
            let p = path
            return try ValueDecoder(value: next(), codingPath: p).unkeyedContainer()
        }
        mutating func superDecoder() throws -> any Decoder {
            let p = path
            return ValueDecoder(value: try next(), codingPath: p)
        }
    }

    struct Single: SingleValueDecodingContainer {
        let value: JSONValue
        var codingPath: [any CodingKey]

        func decodeNil() -> Bool { value == .null }
        func decode(_ t: Bool.Type) throws -> Bool { try bool(value, codingPath) }
        func decode(_ t: String.Type) throws -> String { try string(value, codingPath) }
        func decode(_ t: Double.Type) throws -> Double { try floating(value, codingPath) }
        func decode(_ t: Float.Type) throws -> Float { try floating(value, codingPath) }
        func decode(_ t: Int.Type) throws -> Int { try integer(value, codingPath) }
        func decode(_ t: Int8.Type) throws -> Int8 { try integer(value, codingPath) }
        func decode(_ t: Int16.Type) throws -> Int16 { try integer(value, codingPath) }
        func decode(_ t: Int32.Type) throws -> Int32 { try integer(value, codingPath) }
        func decode(_ t: Int64.Type) throws -> Int64 { try integer(value, codingPath) }
        func decode(_ t: UInt.Type) throws -> UInt { try integer(value, codingPath) }
        func decode(_ t: UInt8.Type) throws -> UInt8 { try integer(value, codingPath) }
        func decode(_ t: UInt16.Type) throws -> UInt16 { try integer(value, codingPath) }
        func decode(_ t: UInt32.Type) throws -> UInt32 { try integer(value, codingPath) }
        func decode(_ t: UInt64.Type) throws -> UInt64 { try integer(value, codingPath) }
        func decode<T: Decodable>(_ t: T.Type) throws -> T { try T(from: ValueDecoder(value: value, codingPath: codingPath)) }
    }
}
