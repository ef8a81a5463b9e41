// Schema text to `AvroSchema`, following the specification's "Schema Declaration" section. Names
// are checked as they are defined; defaults are checked once the whole schema is read, because a
// default may be a value of a record that is still being defined when the default is met.

extension AvroSchema {
    /// Parses and validates a schema. `references` supplies schemas this one builds on (Confluent
    /// schema references): every named type they define can be used here by name. The keys are
    /// the reference names and are not interpreted.
    public static func parse(_ text: String, references: [String: AvroSchema] = [:]) throws(AvroSchemaError) -> AvroSchema {
        let json: JSONValue
        do {
            json = try JSONParser.parse(text)
        } catch {
            throw AvroSchemaError("not valid JSON: \(error)", path: "")
        }
        return try parse(json: json, references: references)
    }

    /// Parses and validates a schema already read as JSON.
    public static func parse(json: JSONValue, references: [String: AvroSchema] = [:]) throws(AvroSchemaError) -> AvroSchema {
        var parser = AvroSchemaParser()
        // Sorted so that which reference wins for a doubly defined name does not depend on hashing.
        for (_, reference) in references.sorted(by: { $0.key < $1.key }) {
            for (name, definition) in reference.namedTypes where parser.named[name] == nil {
                parser.named[name] = definition
                parser.defined.insert(name)
            }
        }
        let root = try parser.parseType(json, namespace: "", path: "")
        let checker = AvroValueChecker(named: parser.named, unionUsesFirstBranchOnly: true)
        for pending in parser.pendingDefaults {
            if let problem = checker.problem(pending.value, pending.type, at: "") {
                let at = problem.location.isEmpty ? "" : " at \(problem.location)"
                throw AvroSchemaError("default for \(pending.context)\(at): \(problem.message)", path: pending.path)
            }
        }
        return AvroSchema(type: root, namedTypes: parser.named)
    }
}

/// Avro names: `[A-Za-z_][A-Za-z0-9_]*`, and dotted sequences of them for namespaces and full names.
enum AvroNames {
    static func isValidName(_ s: String) -> Bool {
        guard let first = s.utf8.first else { return false }
        guard isLetterOrUnderscore(first) else { return false }
        return s.utf8.allSatisfy { isLetterOrUnderscore($0) || ($0 >= 0x30 && $0 <= 0x39) }
    }

    static func isValidDotted(_ s: String) -> Bool {
        s.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { isValidName(String($0)) }
    }

    private static func isLetterOrUnderscore(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F
    }
}

struct AvroSchemaParser {
    struct PendingDefault {
        let type: AvroType
        let value: JSONValue
        let context: String
        let path: String
    }

    /// Completed definitions by full name.
    var named: [String: AvroType] = [:]
    /// Names defined or being defined (a record's name is usable inside its own fields).
    var defined: Set<String> = []
    var pendingDefaults: [PendingDefault] = []

    mutating func parseType(_ json: JSONValue, namespace: String, path: String) throws(AvroSchemaError) -> AvroType {
        switch json {
        case .string(let name):
            return try resolve(name, namespace: namespace, path: path)
        case .array(let branches):
            return try parseUnion(branches, namespace: namespace, path: path)
        case .object(let object):
            return try parseObject(object, namespace: namespace, path: path)
        default:
            throw AvroSchemaError("a schema must be a string, an object or an array, not \(AvroValueChecker.kind(of: json))", path: path)
        }
    }

    /// A type name used as a reference: a primitive, or a named type defined earlier. A short name
    /// is looked up in the enclosing namespace and then, as the Java implementation does, in the
    /// null namespace.
    func resolve(_ name: String, namespace: String, path: String) throws(AvroSchemaError) -> AvroType {
        if let primitive = AvroPrimitive(rawValue: name) { return .primitive(primitive) }
        if name.contains(".") {
            if defined.contains(name) { return .reference(name) }
            throw AvroSchemaError("unknown type '\(name)'", path: path)
        }
        if !namespace.isEmpty {
            let qualified = namespace + "." + name
            if defined.contains(qualified) { return .reference(qualified) }
            if defined.contains(name) { return .reference(name) }
            throw AvroSchemaError("unknown type '\(name)' (as \(qualified))", path: path)
        }
        if defined.contains(name) { return .reference(name) }
        throw AvroSchemaError("unknown type '\(name)'", path: path)
    }

    mutating func parseUnion(_ branches: [JSONValue], namespace: String, path: String) throws(AvroSchemaError) -> AvroType {
        var types: [AvroType] = []
        var seen: Set<String> = []
        for (i, branch) in branches.enumerated() {
            let branchPath = "\(path)/\(i)"
            if case .array = branch {
                throw AvroSchemaError("unions may not immediately contain other unions", path: branchPath)
            }
            let type = try parseType(branch, namespace: namespace, path: branchPath)
            let key = Self.unionKey(type)
            guard seen.insert(key).inserted else {
                throw AvroSchemaError("union contains more than one '\(key)'", path: branchPath)
            }
            types.append(type)
        }
        return .union(types)
    }

    /// What makes union branches distinct: the full name for named types, the type otherwise.
    static func unionKey(_ type: AvroType) -> String {
        switch type {
        case .primitive(let p, _): p.rawValue
        case .array: "array"
        case .map: "map"
        case .union: "union"
        case .record, .enumeration, .fixed, .reference: type.fullName!
        }
    }

    mutating func parseObject(_ object: JSONObject, namespace: String, path: String) throws(AvroSchemaError) -> AvroType {
        guard let typeValue = object["type"] else { throw AvroSchemaError("missing 'type'", path: path) }
        guard case .string(let typeName) = typeValue else {
            throw AvroSchemaError("'type' must be a string naming a type", path: path + "/type")
        }
        if let primitive = AvroPrimitive(rawValue: typeName) {
            return .primitive(primitive, logicalType: Self.logicalType(object, primitive: primitive))
        }
        switch typeName {
        case "record": return try parseRecord(object, namespace: namespace, path: path)
        case "enum": return try parseEnum(object, namespace: namespace, path: path)
        case "fixed": return try parseFixed(object, namespace: namespace, path: path)
        case "array":
            guard let items = object["items"] else { throw AvroSchemaError("array: missing 'items'", path: path) }
            return .array(items: try parseType(items, namespace: namespace, path: path + "/items"))
        case "map":
            guard let values = object["values"] else { throw AvroSchemaError("map: missing 'values'", path: path) }
            return .map(values: try parseType(values, namespace: namespace, path: path + "/values"))
        default:
            // {"type": "SomeName"} refers to a named type like the bare string does.
            return try resolve(typeName, namespace: namespace, path: path)
        }
    }

    // MARK: Named types

    /// The full name a definition gets: a dotted name is already full; otherwise the `namespace`
    /// attribute, or else the enclosing namespace, qualifies it.
    func definitionName(_ object: JSONObject, kind: String, namespace: String, path: String) throws(AvroSchemaError) -> AvroName {
        guard let value = object["name"] else { throw AvroSchemaError("\(kind): missing 'name'", path: path) }
        guard case .string(let raw) = value else { throw AvroSchemaError("\(kind): 'name' must be a string", path: path + "/name") }
        let name: AvroName
        if raw.contains(".") {
            guard AvroNames.isValidDotted(raw) else { throw AvroSchemaError("invalid name '\(raw)'", path: path + "/name") }
            name = AvroName(fullName: raw)
        } else {
            guard AvroNames.isValidName(raw) else { throw AvroSchemaError("invalid name '\(raw)'", path: path + "/name") }
            var space = namespace
            if let ns = object["namespace"] {
                guard case .string(let s) = ns else { throw AvroSchemaError("'namespace' must be a string", path: path + "/namespace") }
                guard s.isEmpty || AvroNames.isValidDotted(s) else {
                    throw AvroSchemaError("invalid namespace '\(s)'", path: path + "/namespace")
                }
                space = s
            }
            name = AvroName(namespace: space, name: raw)
        }
        if AvroPrimitive(rawValue: name.name) != nil {
            throw AvroSchemaError("'\(name.name)' is a primitive type name and cannot be defined", path: path + "/name")
        }
        guard !defined.contains(name.fullName) else {
            throw AvroSchemaError("'\(name.fullName)' is already defined", path: path)
        }
        return name
    }

    /// Aliases of a named type, qualified by its namespace when given as simple names.
    func typeAliases(_ object: JSONObject, name: AvroName, path: String) throws(AvroSchemaError) -> [String] {
        try Self.strings(object, "aliases", path: path).map { alias in
            alias.contains(".") || name.namespace.isEmpty ? alias : name.namespace + "." + alias
        }
    }

    static func strings(_ object: JSONObject, _ key: String, path: String) throws(AvroSchemaError) -> [String] {
        guard let value = object[key] else { return [] }
        guard case .array(let items) = value else { throw AvroSchemaError("'\(key)' must be an array of strings", path: path + "/" + key) }
        var out: [String] = []
        for item in items {
            guard case .string(let s) = item else { throw AvroSchemaError("'\(key)' must be an array of strings", path: path + "/" + key) }
            out.append(s)
        }
        return out
    }

    static func doc(_ object: JSONObject, path: String) throws(AvroSchemaError) -> String? {
        guard let value = object["doc"] else { return nil }
        guard case .string(let s) = value else { throw AvroSchemaError("'doc' must be a string", path: path + "/doc") }
        return s
    }

    mutating func parseRecord(_ object: JSONObject, namespace: String, path: String) throws(AvroSchemaError) -> AvroType {
        let name = try definitionName(object, kind: "record", namespace: namespace, path: path)
        let aliases = try typeAliases(object, name: name, path: path)
        let doc = try Self.doc(object, path: path)
        guard let fieldsValue = object["fields"] else { throw AvroSchemaError("record \(name): missing 'fields'", path: path) }
        guard case .array(let fieldValues) = fieldsValue else {
            throw AvroSchemaError("record \(name): 'fields' must be an array", path: path + "/fields")
        }
        // Defined before its fields so that they can refer to it (recursive types).
        defined.insert(name.fullName)
        var fields: [AvroField] = []
        var fieldNames: Set<String> = []
        for (i, fieldValue) in fieldValues.enumerated() {
            let fieldPath = "\(path)/fields/\(i)"
            guard case .object(let f) = fieldValue else {
                throw AvroSchemaError("record \(name): field \(i) must be an object", path: fieldPath)
            }
            guard case .string(let fieldName)? = f["name"] else {
                throw AvroSchemaError("record \(name): field \(i) is missing 'name' (a string)", path: fieldPath)
            }
            let context = "field '\(fieldName)' of record \(name)"
            guard AvroNames.isValidName(fieldName) else {
                throw AvroSchemaError("\(context): invalid name '\(fieldName)'", path: fieldPath + "/name")
            }
            guard fieldNames.insert(fieldName).inserted else {
                throw AvroSchemaError("duplicate field '\(fieldName)' in record \(name)", path: fieldPath)
            }
            guard let typeValue = f["type"] else { throw AvroSchemaError("\(context): missing 'type'", path: fieldPath) }
            let type = try parseType(typeValue, namespace: name.namespace, path: fieldPath + "/type")
            var order = AvroSortOrder.ascending
            if let orderValue = f["order"] {
                guard case .string(let s) = orderValue, let o = AvroSortOrder(rawValue: s) else {
                    throw AvroSchemaError("\(context): invalid order '\(orderValue.stringValue ?? orderValue.serialized())'",
                                          path: fieldPath + "/order")
                }
                order = o
            }
            let fieldAliases = try Self.strings(f, "aliases", path: fieldPath)
            let fieldDoc = try Self.doc(f, path: fieldPath)
            let defaultValue = f["default"]
            if let defaultValue {
                pendingDefaults.append(PendingDefault(type: type, value: defaultValue, context: context, path: fieldPath + "/default"))
            }
            fields.append(AvroField(name: fieldName, type: type, doc: fieldDoc, defaultValue: defaultValue,
                                    order: order, aliases: fieldAliases))
        }
        let record = AvroType.record(AvroRecord(name: name, aliases: aliases, doc: doc, fields: fields))
        named[name.fullName] = record
        return record
    }

    mutating func parseEnum(_ object: JSONObject, namespace: String, path: String) throws(AvroSchemaError) -> AvroType {
        let name = try definitionName(object, kind: "enum", namespace: namespace, path: path)
        let aliases = try typeAliases(object, name: name, path: path)
        let doc = try Self.doc(object, path: path)
        guard let symbolsValue = object["symbols"] else { throw AvroSchemaError("enum \(name): missing 'symbols'", path: path) }
        guard case .array(let symbolValues) = symbolsValue else {
            throw AvroSchemaError("enum \(name): 'symbols' must be an array of strings", path: path + "/symbols")
        }
        var symbols: [String] = []
        var seen: Set<String> = []
        for (i, value) in symbolValues.enumerated() {
            guard case .string(let symbol) = value, AvroNames.isValidName(symbol) else {
                throw AvroSchemaError("invalid symbol '\(value.stringValue ?? value.serialized())' in enum \(name)", path: "\(path)/symbols/\(i)")
            }
            guard seen.insert(symbol).inserted else {
                throw AvroSchemaError("duplicate symbol '\(symbol)' in enum \(name)", path: "\(path)/symbols/\(i)")
            }
            symbols.append(symbol)
        }
        var defaultSymbol: String?
        if let d = object["default"] {
            guard case .string(let s) = d, seen.contains(s) else {
                throw AvroSchemaError("enum default '\(d.stringValue ?? d.serialized())' is not one of the symbols of \(name)", path: path + "/default")
            }
            defaultSymbol = s
        }
        defined.insert(name.fullName)
        let type = AvroType.enumeration(AvroEnum(name: name, aliases: aliases, doc: doc, symbols: symbols, defaultSymbol: defaultSymbol))
        named[name.fullName] = type
        return type
    }

    mutating func parseFixed(_ object: JSONObject, namespace: String, path: String) throws(AvroSchemaError) -> AvroType {
        let name = try definitionName(object, kind: "fixed", namespace: namespace, path: path)
        let aliases = try typeAliases(object, name: name, path: path)
        guard let sizeValue = object["size"] else { throw AvroSchemaError("fixed \(name): missing 'size'", path: path) }
        guard case .number(let n) = sizeValue, n.isInteger, let size = n.int64Value, size >= 0, size <= Int64(Int32.max) else {
            throw AvroSchemaError("size of fixed \(name) must be a non-negative integer, not \(sizeValue.serialized())", path: path + "/size")
        }
        defined.insert(name.fullName)
        let type = AvroType.fixed(AvroFixed(name: name, aliases: aliases, size: Int(size),
                                            logicalType: Self.logicalType(object, fixedSize: Int(size))))
        named[name.fullName] = type
        return type
    }

    // MARK: Logical types

    /// The logical type of a primitive, or nil when absent, unknown or invalid (the spec has
    /// readers fall back to the underlying type then).
    static func logicalType(_ object: JSONObject, primitive: AvroPrimitive) -> AvroLogicalType? {
        guard case .string(let name)? = object["logicalType"] else { return nil }
        switch (name, primitive) {
        case ("decimal", .bytes): return decimal(object, maxPrecision: nil)
        case ("big-decimal", .bytes): return .bigDecimal
        case ("uuid", .string): return .uuid
        case ("date", .int): return .date
        case ("time-millis", .int): return .timeMillis
        case ("time-micros", .long): return .timeMicros
        case ("timestamp-millis", .long): return .timestampMillis
        case ("timestamp-micros", .long): return .timestampMicros
        case ("timestamp-nanos", .long): return .timestampNanos
        case ("local-timestamp-millis", .long): return .localTimestampMillis
        case ("local-timestamp-micros", .long): return .localTimestampMicros
        case ("local-timestamp-nanos", .long): return .localTimestampNanos
        default: return nil
        }
    }

    static func logicalType(_ object: JSONObject, fixedSize: Int) -> AvroLogicalType? {
        guard case .string(let name)? = object["logicalType"] else { return nil }
        switch name {
        case "decimal": return decimal(object, maxPrecision: maxDecimalDigits(fixedSize: fixedSize))
        case "duration": return fixedSize == 12 ? .duration : nil
        case "uuid": return fixedSize == 16 ? .uuid : nil
        default: return nil
        }
    }

    static func decimal(_ object: JSONObject, maxPrecision: Int?) -> AvroLogicalType? {
        guard case .number(let p)? = object["precision"], let precision = Int64(p.literal), precision > 0,
              precision <= Int64(Int32.max) else { return nil }
        var scale: Int64 = 0
        if let s = object["scale"] {
            guard case .number(let n) = s, let value = Int64(n.literal) else { return nil }
            scale = value
        }
        guard scale >= 0, scale <= precision else { return nil }
        if let maxPrecision, precision > Int64(maxPrecision) { return nil }
        return .decimal(precision: Int(precision), scale: Int(scale))
    }

    /// floor(log10(2^(8n-1) - 1)): the digits a two's-complement n-byte integer always holds.
    /// 2^k - 1 is never a power of ten, so this equals floor(k * log10(2)).
    static func maxDecimalDigits(fixedSize n: Int) -> Int {
        guard n > 0 else { return 0 }
        return Int((Double(8 * n - 1) * 0.301_029_995_663_981_2).rounded(.down))
    }
}
