// Whether a reader schema can read data written with a writer schema, by the specification's
// "Schema Resolution" rules, with every reason it cannot. Paths are JSON pointers into the reader
// schema, as Confluent's verbose compatibility output gives them.

/// One reason a reader schema cannot read a writer schema's data.
public struct AvroIncompatibility: Sendable, Hashable, CustomStringConvertible {
    /// Kinds named as Confluent's registry names them. Logical types are not compared, as in Avro
    /// Java's `SchemaCompatibility` that Confluent uses: a `decimal` whose precision or scale
    /// changes stays compatible (the specification's "decimals match only with equal precision
    /// and scale" is not applied; docs/UNSUPPORTED.md).
    public enum Kind: String, Sendable, Hashable {
        case typeMismatch = "TYPE_MISMATCH"
        case nameMismatch = "NAME_MISMATCH"
        case fixedSizeMismatch = "FIXED_SIZE_MISMATCH"
        case missingEnumSymbols = "MISSING_ENUM_SYMBOLS"
        case readerFieldMissingDefaultValue = "READER_FIELD_MISSING_DEFAULT_VALUE"
        case missingUnionBranch = "MISSING_UNION_BRANCH"
    }

    public let kind: Kind
    /// JSON pointer into the reader schema ("" is the root; `/fields/1/type`, `/items`, `/2` for a
    /// union branch).
    public let path: String
    public let message: String

    public init(kind: Kind, path: String, message: String) {
        self.kind = kind
        self.path = path
        self.message = message
    }

    public var description: String { "\(kind.rawValue) at '\(path.isEmpty ? "/" : path)': \(message)" }

    func under(_ prefix: String) -> AvroIncompatibility {
        AvroIncompatibility(kind: kind, path: prefix + path, message: message)
    }
}

/// Schema resolution checks.
public enum AvroResolution {
    /// At most this many reasons are returned for one reader/writer pair.
    public static let maxReported = 100

    /// Every reason `reader` cannot read data written with `writer`; empty when it can.
    public static func incompatibilities(reader: AvroSchema, writer: AvroSchema) -> [AvroIncompatibility] {
        var resolver = Resolver(reader: reader, writer: writer)
        return resolver.check(reader.type, writer.type, path: "")
    }

    public static func canRead(reader: AvroSchema, writer: AvroSchema) -> Bool {
        incompatibilities(reader: reader, writer: writer).isEmpty
    }
}

private struct Resolver {
    let reader: AvroSchema
    let writer: AvroSchema
    /// Results for record pairs, with paths relative to the pair, so each pair is compared once
    /// however often it recurs (recursive types, hostile fan-out).
    var memo: [String: [AvroIncompatibility]] = [:]
    /// Record pairs being compared; meeting one again (recursion) assumes it matches, since any
    /// mismatch is reported where the comparison started.
    var inProgress: Set<String> = []

    init(reader: AvroSchema, writer: AvroSchema) {
        self.reader = reader
        self.writer = writer
    }

    static func append(_ more: [AvroIncompatibility], to list: inout [AvroIncompatibility]) {
        guard list.count < AvroResolution.maxReported else { return }
        list.append(contentsOf: more.prefix(AvroResolution.maxReported - list.count))
    }

    static func describe(_ type: AvroType) -> String {
        switch type {
        case .primitive(let p, let logical):
            if case .decimal(let precision, let scale)? = logical { return "\(p.rawValue) decimal(\(precision),\(scale))" }
            return p.rawValue
        case .record(let r): return "record \(r.name)"
        case .enumeration(let e): return "enum \(e.name)"
        case .fixed(let f): return "fixed \(f.name)"
        case .array: return "array"
        case .map: return "map"
        case .union: return "union"
        case .reference(let n): return n
        }
    }

    /// Named types match by unqualified name, as the spec says, or when a reader alias names the
    /// writer's full name.
    static func namesMatch(reader: AvroName, aliases: [String], writer: AvroName) -> Bool {
        reader.name == writer.name || aliases.contains(writer.fullName)
    }

    mutating func check(_ readerType: AvroType, _ writerType: AvroType, path: String) -> [AvroIncompatibility] {
        let r = reader.resolve(readerType)
        let w = writer.resolve(writerType)
        if case .union(let writerBranches) = w {
            // Every branch the writer may have chosen must be readable.
            var out: [AvroIncompatibility] = []
            for branch in writerBranches { Self.append(check(r, branch, path: path), to: &out) }
            return out
        }
        if case .union(let readerBranches) = r { return readUnion(readerBranches, w, path: path) }

        switch (r, w) {
        case (.primitive(let rp, _), .primitive(let wp, _)):
            guard rp == wp || Self.promotes(from: wp, to: rp) else { return [mismatch(r, w, path)] }
            return []
        case (.record(let rr), .record(let wr)):
            guard Self.namesMatch(reader: rr.name, aliases: rr.aliases, writer: wr.name) else {
                return [AvroIncompatibility(kind: .nameMismatch, path: path + "/name",
                                            message: "reader record \(rr.name) does not match writer record \(wr.name) by name or alias")]
            }
            let key = rr.name.fullName + "\u{0}" + wr.name.fullName
            if let known = memo[key] { return known.map { $0.under(path) } }
            if inProgress.contains(key) { return [] }
            inProgress.insert(key)
            let found = compareFields(rr, wr)
            inProgress.remove(key)
            memo[key] = found
            return found.map { $0.under(path) }
        case (.enumeration(let re), .enumeration(let we)):
            guard Self.namesMatch(reader: re.name, aliases: re.aliases, writer: we.name) else {
                return [AvroIncompatibility(kind: .nameMismatch, path: path + "/name",
                                            message: "reader enum \(re.name) does not match writer enum \(we.name) by name or alias")]
            }
            let missing = we.symbols.filter { !re.symbols.contains($0) }
            guard missing.isEmpty || re.defaultSymbol != nil else {
                return [AvroIncompatibility(kind: .missingEnumSymbols, path: path + "/symbols",
                                            message: "reader enum \(re.name) lacks writer symbols [\(missing.joined(separator: ", "))] and has no default")]
            }
            return []
        case (.fixed(let rf), .fixed(let wf)):
            guard Self.namesMatch(reader: rf.name, aliases: rf.aliases, writer: wf.name) else {
                return [AvroIncompatibility(kind: .nameMismatch, path: path + "/name",
                                            message: "reader fixed \(rf.name) does not match writer fixed \(wf.name) by name or alias")]
            }
            guard rf.size == wf.size else {
                return [AvroIncompatibility(kind: .fixedSizeMismatch, path: path + "/size",
                                            message: "reader fixed \(rf.name) has size \(rf.size), writer's has size \(wf.size)")]
            }
            return []
        case (.array(let ri), .array(let wi)):
            return check(ri, wi, path: path + "/items")
        case (.map(let rv), .map(let wv)):
            return check(rv, wv, path: path + "/values")
        default:
            return [mismatch(r, w, path)]
        }
    }

    func mismatch(_ r: AvroType, _ w: AvroType, _ path: String) -> AvroIncompatibility {
        AvroIncompatibility(kind: .typeMismatch, path: path,
                            message: "reader type \(Self.describe(r)) cannot read writer type \(Self.describe(w))")
    }

    static func promotes(from writer: AvroPrimitive, to reader: AvroPrimitive) -> Bool {
        switch (writer, reader) {
        case (.int, .long), (.int, .float), (.int, .double), (.long, .float), (.long, .double), (.float, .double),
             (.string, .bytes), (.bytes, .string):
            true
        default:
            false
        }
    }

    /// Reader fields are found in the writer by name, then by the reader field's aliases; paths
    /// are relative to the record.
    mutating func compareFields(_ r: AvroRecord, _ w: AvroRecord) -> [AvroIncompatibility] {
        var out: [AvroIncompatibility] = []
        for (i, field) in r.fields.enumerated() {
            let match = w.fields.first { $0.name == field.name }
                ?? w.fields.first { field.aliases.contains($0.name) }
            if let match {
                Self.append(check(field.type, match.type, path: "/fields/\(i)/type"), to: &out)
            } else if field.defaultValue == nil {
                Self.append([AvroIncompatibility(kind: .readerFieldMissingDefaultValue, path: "/fields/\(i)",
                                                 message: "reader field '\(field.name)' of record \(r.name) has no default and is missing from the writer's record \(w.name)")],
                            to: &out)
            }
        }
        return out
    }

    /// A non-union writer type must be readable by some reader branch. When none reads it but one
    /// is plainly meant for it (same kind and name), its reasons are more useful than "no branch".
    mutating func readUnion(_ branches: [AvroType], _ w: AvroType, path: String) -> [AvroIncompatibility] {
        var candidate: (index: Int, reasons: [AvroIncompatibility])?
        var candidates = 0
        for (i, branch) in branches.enumerated() {
            let reasons = check(branch, w, path: "\(path)/\(i)")
            if reasons.isEmpty { return [] }
            if Self.sameKindAndName(reader.resolve(branch), w) {
                candidates += 1
                candidate = (i, reasons)
            }
        }
        if candidates == 1, let candidate { return candidate.reasons }
        return [AvroIncompatibility(kind: .missingUnionBranch, path: path,
                                    message: "no branch of the reader union can read the writer's \(Self.describe(w))")]
    }

    static func sameKindAndName(_ r: AvroType, _ w: AvroType) -> Bool {
        switch (r, w) {
        case (.record(let a), .record(let b)): namesMatch(reader: a.name, aliases: a.aliases, writer: b.name)
        case (.enumeration(let a), .enumeration(let b)): namesMatch(reader: a.name, aliases: a.aliases, writer: b.name)
        case (.fixed(let a), .fixed(let b)): namesMatch(reader: a.name, aliases: a.aliases, writer: b.name)
        case (.array, .array), (.map, .map): true
        default: false
        }
    }
}

/// One failed check of a new schema against an existing one.
public struct AvroCompatibilityFailure: Sendable, Hashable, CustomStringConvertible {
    /// Index into `existing` (oldest first).
    public let existingIndex: Int
    /// True when the new schema was the reader (backward), false when it was the writer (forward).
    public let newIsReader: Bool
    public let incompatibility: AvroIncompatibility

    public var description: String {
        let direction = newIsReader ? "new schema reading existing[\(existingIndex)]"
                                    : "existing[\(existingIndex)] reading new schema"
        return "\(incompatibility) (\(direction); path in the reader)"
    }
}

/// Subject-level compatibility: which reader/writer pairs a level requires.
public enum AvroCompatibility {
    /// Every failure of `new` against `existing` (ordered oldest to newest) under `level`.
    public static func failures(level: CompatibilityLevel, new: AvroSchema, existing: [AvroSchema]) -> [AvroCompatibilityFailure] {
        guard level != .none, !existing.isEmpty else { return [] }
        let indices = level.isTransitive ? Array(existing.indices) : [existing.count - 1]
        var out: [AvroCompatibilityFailure] = []
        for i in indices {
            if level.checksBackward {
                for reason in AvroResolution.incompatibilities(reader: new, writer: existing[i]) {
                    out.append(AvroCompatibilityFailure(existingIndex: i, newIsReader: true, incompatibility: reason))
                }
            }
            if level.checksForward {
                for reason in AvroResolution.incompatibilities(reader: existing[i], writer: new) {
                    out.append(AvroCompatibilityFailure(existingIndex: i, newIsReader: false, incompatibility: reason))
                }
            }
        }
        return out
    }

    /// Human-readable reasons `new` is not compatible; empty when it is.
    public static func check(level: CompatibilityLevel, new: AvroSchema, existing: [AvroSchema]) -> [String] {
        failures(level: level, new: new, existing: existing).map(\.description)
    }
}
