// RFC 3986 reference resolution, written out because Foundation's URL rejects or rewrites some
// identifiers schemas use (`urn:` bases with fragment-only references, empty authorities).

/// A URI split into its RFC 3986 components.
struct SchemaURI: Equatable, Sendable {
    var scheme: String?
    var authority: String?
    var path: String
    var query: String?
    var fragment: String?

    init(scheme: String?, authority: String?, path: String, query: String?, fragment: String?) {
        self.scheme = scheme
        self.authority = authority
        self.path = path
        self.query = query
        self.fragment = fragment
    }

    init(_ text: String) {
        var rest = Substring(text)
        fragment = nil
        query = nil
        if let hash = rest.firstIndex(of: "#") {
            fragment = String(rest[rest.index(after: hash)...])
            rest = rest[..<hash]
        }
        if let q = rest.firstIndex(of: "?") {
            query = String(rest[rest.index(after: q)...])
            rest = rest[..<q]
        }
        scheme = nil
        // A scheme is letters/digits/+-. before the first ':' that precedes any '/'.
        if let colon = rest.firstIndex(of: ":") {
            let candidate = rest[..<colon]
            if let first = candidate.first, first.isLetter,
               candidate.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == "." }) {
                scheme = String(candidate)
                rest = rest[rest.index(after: colon)...]
            }
        }
        authority = nil
        if rest.hasPrefix("//") {
            rest = rest.dropFirst(2)
            let end = rest.firstIndex(of: "/") ?? rest.endIndex
            authority = String(rest[..<end])
            rest = rest[end...]
        }
        path = String(rest)
    }

    var isAbsolute: Bool { scheme != nil }

    /// The URI without its fragment (the key of a schema resource).
    var withoutFragment: SchemaURI {
        var u = self
        u.fragment = nil
        return u
    }

    var text: String {
        var out = ""
        if let scheme { out += scheme + ":" }
        if let authority { out += "//" + authority }
        out += path
        if let query { out += "?" + query }
        if let fragment { out += "#" + fragment }
        return out
    }

    /// Resolves `reference` against `self` (RFC 3986 §5.2.2).
    func resolve(_ reference: SchemaURI) -> SchemaURI {
        var t = SchemaURI(scheme: nil, authority: nil, path: "", query: nil, fragment: reference.fragment)
        if reference.scheme != nil {
            t.scheme = reference.scheme
            t.authority = reference.authority
            t.path = Self.removeDotSegments(reference.path)
            t.query = reference.query
        } else {
            if reference.authority != nil {
                t.authority = reference.authority
                t.path = Self.removeDotSegments(reference.path)
                t.query = reference.query
            } else {
                if reference.path.isEmpty {
                    t.path = path
                    t.query = reference.query ?? query
                } else {
                    if reference.path.hasPrefix("/") {
                        t.path = Self.removeDotSegments(reference.path)
                    } else {
                        t.path = Self.removeDotSegments(merge(reference.path))
                    }
                    t.query = reference.query
                }
                t.authority = authority
            }
            t.scheme = scheme
        }
        return t
    }

    private func merge(_ relative: String) -> String {
        if authority != nil && path.isEmpty { return "/" + relative }
        guard let slash = path.lastIndex(of: "/") else { return relative }
        return String(path[...slash]) + relative
    }

    static func removeDotSegments(_ input: String) -> String {
        guard input.contains(".") else { return input }
        var inp = Substring(input)
        var output: [Substring] = []
        var out = ""
        while !inp.isEmpty {
            if inp.hasPrefix("../") { inp = inp.dropFirst(3) }
            else if inp.hasPrefix("./") { inp = inp.dropFirst(2) }
            else if inp.hasPrefix("/./") { inp = inp.dropFirst(2) }
            else if inp == "/." { inp = "/" }
            else if inp.hasPrefix("/../") {
                inp = inp.dropFirst(3)
                if !output.isEmpty { output.removeLast() }
            } else if inp == "/.." {
                inp = "/"
                if !output.isEmpty { output.removeLast() }
            } else if inp == "." || inp == ".." {
                inp = ""
            } else {
                // Move the first segment (with its leading '/', if any) to the output.
                let start = inp.startIndex
                let searchFrom = inp.hasPrefix("/") ? inp.index(after: start) : start
                let end = inp[searchFrom...].firstIndex(of: "/") ?? inp.endIndex
                output.append(inp[start..<end])
                inp = inp[end...]
            }
        }
        for s in output { out += s }
        return out
    }
}

extension String {
    /// Resolves this reference against `base`, both as URI text.
    func resolvedURI(against base: String) -> String {
        SchemaURI(base).resolve(SchemaURI(self)).text
    }

    /// The URI text without a fragment, and the fragment (nil when absent; "" for a bare `#`).
    var splitFragment: (String, String?) {
        guard let hash = firstIndex(of: "#") else { return (self, nil) }
        return (String(self[..<hash]), String(self[index(after: hash)...]))
    }
}
