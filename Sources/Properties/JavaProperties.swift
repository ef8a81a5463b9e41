import Foundation

/// One `key=value` entry of a Java-properties text, with the line it starts on (1-based).
public struct JavaProperty: Equatable, Sendable {
    public let line: Int
    public let key: String
    public let value: String
}

/// Why a properties text was refused, with the line it happened on.
public struct JavaPropertiesError: Error, Equatable, Sendable, CustomStringConvertible {
    public let line: Int
    public let reason: String
    public var description: String { "line \(line): \(reason)" }

    /// "file:12: reason", the form both the broker and the clients report.
    public func located(in source: String) -> String { "\(source):\(line): \(reason)" }

    public init(line: Int, reason: String) {
        self.line = line
        self.reason = reason
    }
}

/// Java-properties reading, shared by the broker's `server.properties` and the clients'
/// `--command-config`: `key=value`, `key: value` or `key value`; `#`/`!` comments; backslash line
/// continuations (how `sasl.jaas.config` spans lines) and escapes.
public enum JavaProperties {
    public static func parse(_ text: String) throws(JavaPropertiesError) -> [JavaProperty] {
        var result: [JavaProperty] = []
        // "\r\n" is one Character in Swift, so CRLF files need it named as a separator.
        let lines = text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }.map {
            $0.hasSuffix("\r") ? String($0.dropLast()) : String($0)
        }
        var index = 0
        while index < lines.count {
            let startLine = index + 1
            var logical = lines[index].trimmingCharacters(in: .whitespaces)
            index += 1
            if logical.isEmpty || logical.hasPrefix("#") || logical.hasPrefix("!") { continue }
            while endsWithContinuation(logical) && index < lines.count {
                logical.removeLast()
                logical += lines[index].trimmingCharacters(in: .whitespaces)
                index += 1
            }
            // Split at the first unescaped '=', ':' or whitespace.
            var key = ""
            var chars = Array(logical)
            var i = 0
            var escaped = false
            while i < chars.count {
                let c = chars[i]
                if escaped {
                    key.append(c)
                    escaped = false
                } else if c == "\\" {
                    escaped = true
                } else if c == "=" || c == ":" || c == " " || c == "\t" {
                    break
                } else {
                    key.append(c)
                }
                i += 1
            }
            if i >= chars.count { throw JavaPropertiesError(line: startLine, reason: "expected key=value, got '\(logical)'") }
            // Skip whitespace, then at most one separator, then whitespace.
            while i < chars.count && (chars[i] == " " || chars[i] == "\t") { i += 1 }
            if i < chars.count && (chars[i] == "=" || chars[i] == ":") { i += 1 }
            while i < chars.count && (chars[i] == " " || chars[i] == "\t") { i += 1 }
            chars = Array(chars[i...])
            var value = ""
            var j = 0
            while j < chars.count {
                if chars[j] == "\\" && j + 1 < chars.count {
                    switch chars[j + 1] {
                    case "t": value.append("\t")
                    case "n": value.append("\n")
                    case "r": value.append("\r")
                    default: value.append(chars[j + 1])
                    }
                    j += 2
                } else {
                    value.append(chars[j])
                    j += 1
                }
            }
            if key.isEmpty { throw JavaPropertiesError(line: startLine, reason: "empty property name") }
            result.append(JavaProperty(line: startLine, key: key, value: value))
        }
        return result
    }

    static func endsWithContinuation(_ s: String) -> Bool {
        var count = 0
        for c in s.reversed() {
            if c == "\\" { count += 1 } else { break }
        }
        return count % 2 == 1
    }
}
