// `ssl.principal.mapping.rules` (KIP-371): turns the distinguished name of a client certificate
// (RFC 2253 text, e.g. `Certificate.subjectRFC2253`) into a principal name.
//
// Syntax, as Kafka's `SslPrincipalMapper` reads it: a comma-separated list of `DEFAULT` and
// `RULE:pattern/replacement/` with an optional `L` (lower-case) or `U` (upper-case) after the last
// slash. Inside pattern and replacement a backslash escapes the next character (`\/` for a slash),
// and commas need no escaping: a rule runs from `RULE:` through its third slash and flag. Blanks
// around rules and empty list entries are ignored. Rules are tried in order; a RULE applies when
// its pattern matches the whole DN, and then the DN becomes the pattern's replacement (Java's
// `replaceAll`: `$n` is group n; a `$n` beyond the pattern's groups stays literal, as in Kafka);
// DEFAULT gives the DN unchanged. Patterns are ICU regular expressions, whose syntax matches
// Java's for everything these rules use.
//
// Unlike Kafka, every error is found when the rules are read (not when a client connects), with
// the column of the rule in the property value.
import Foundation

public struct PrincipalMappingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// 1-based column (in characters) of the start of the offending rule in the property value.
    public let column: Int
    /// The rule as written.
    public let rule: String
    public let reason: String

    public var description: String { "ssl.principal.mapping.rules: column \(column): \(reason) in rule `\(rule)`" }
}

/// A DN no rule applied to (Kafka's `NoMatchingRule`).
public struct NoMatchingPrincipalRule: Error, Equatable, Sendable, CustomStringConvertible {
    public let distinguishedName: String
    public var description: String { "no ssl.principal.mapping.rules rule applies to \(distinguishedName)" }
}

public struct PrincipalMapper: Sendable {
    public enum Case: Sendable, Equatable { case unchanged, lower, upper }

    /// One parsed rule.
    public enum Rule: Sendable, CustomStringConvertible {
        case useDN
        case rule(pattern: String, replacement: String, caseChange: Case, compiled: CompiledPattern)

        public var description: String {
            switch self {
            case .useDN: return "DEFAULT"
            case let .rule(pattern, replacement, caseChange, _):
                return "RULE:\(pattern)/\(replacement)/" + (caseChange == .lower ? "L" : caseChange == .upper ? "U" : "")
            }
        }
    }

    /// A compiled pattern. NSRegularExpression is immutable and documented as thread-safe.
    public struct CompiledPattern: @unchecked Sendable {
        let whole: NSRegularExpression
        let find: NSRegularExpression
        var groups: Int { find.numberOfCaptureGroups }
    }

    public let rules: [Rule]

    /// Kafka's default: the DN as the principal name.
    public static let defaultRules = "DEFAULT"

    /// Parses the property value (nil: Kafka's default, `DEFAULT`).
    public init(rules text: String? = nil) throws(PrincipalMappingError) {
        rules = try Self.parse(text ?? Self.defaultRules)
    }

    /// The principal name for `distinguishedName`.
    public func map(_ distinguishedName: String) throws(NoMatchingPrincipalRule) -> String {
        for rule in rules {
            if let name = Self.apply(rule, to: distinguishedName) { return name }
        }
        throw NoMatchingPrincipalRule(distinguishedName: distinguishedName)
    }

    // MARK: Reading the rules

    private static func isSpace(_ c: Character) -> Bool { c == " " || c == "\t" || c == "\n" || c == "\u{0B}" || c == "\u{0C}" || c == "\r" }

    static func parse(_ text: String) throws(PrincipalMappingError) -> [Rule] {
        let chars = Array(text)
        // Java's trim(): characters up to U+0020.
        var start = 0
        var end = chars.count
        while start < end, chars[start].unicodeScalars.first!.value <= 0x20 { start += 1 }
        while end > start, chars[end - 1].unicodeScalars.first!.value <= 0x20 { end -= 1 }

        /// Whether blanks then a comma or the end follow `index`.
        func atSeparator(_ index: Int) -> Bool {
            var i = index
            while i < end, isSpace(chars[i]) { i += 1 }
            return i == end || chars[i] == ","
        }
        /// The first index ≥ `index` where a separator begins.
        func nextSeparator(_ index: Int) -> Int {
            var i = index
            while !atSeparator(i) { i += 1 }
            return i
        }
        /// A pattern or replacement: escaped characters or anything but `\` and `/`, up to a `/`.
        func field(_ index: Int) -> Int? {
            var i = index
            while i < end {
                if chars[i] == "/" { return i }
                if chars[i] == "\\" {
                    guard i + 1 < end else { return nil }
                    i += 2
                } else {
                    i += 1
                }
            }
            return nil
        }
        func has(_ word: String, at index: Int) -> Bool {
            let w = Array(word)
            return end - index >= w.count && Array(chars[index..<index + w.count]) == w
        }

        var rules: [Rule] = []
        var index = start
        while index < end {
            while index < end, isSpace(chars[index]) { index += 1 }
            let ruleStart = index
            var ruleEnd: Int
            var parsed: (pattern: String, replacement: String, flag: Character?, structureEnd: Int)?
            if has("DEFAULT", at: index) && atSeparator(index + 7) {
                ruleEnd = index + 7
            } else if has("RULE:", at: index), let patternEnd = field(index + 5), let replacementEnd = field(patternEnd + 1) {
                var afterFlag = replacementEnd + 1
                var flag: Character?
                if afterFlag < end, chars[afterFlag] == "L" || chars[afterFlag] == "U" {
                    flag = chars[afterFlag]
                    afterFlag += 1
                }
                parsed = (String(chars[(index + 5)..<patternEnd]), String(chars[(patternEnd + 1)..<replacementEnd]), flag, afterFlag)
                ruleEnd = nextSeparator(afterFlag)
            } else {
                ruleEnd = nextSeparator(index)
            }
            let ruleText = String(chars[ruleStart..<ruleEnd])
            let column = ruleStart + 1
            // Past the separator.
            index = ruleEnd
            while index < end, isSpace(chars[index]) { index += 1 }
            if index < end, chars[index] == "," { index += 1 }

            if ruleText.isEmpty { continue }
            if ruleText == "DEFAULT" {
                rules.append(.useDN)
                continue
            }
            guard let parsed else {
                throw PrincipalMappingError(column: column, rule: ruleText, reason: "invalid rule (expected DEFAULT or RULE:pattern/replacement/[L|U])")
            }
            guard parsed.structureEnd == ruleEnd else {
                throw PrincipalMappingError(column: column, rule: ruleText,
                                            reason: "unexpected `\(String(chars[parsed.structureEnd..<ruleEnd]))` after the rule's last '/' (only L or U may follow)")
            }
            rules.append(try compile(parsed.pattern, parsed.replacement, parsed.flag, column: column, ruleText: ruleText))
        }
        return rules
    }

    private static func compile(_ pattern: String, _ replacement: String, _ flag: Character?, column: Int,
                                ruleText: String) throws(PrincipalMappingError) -> Rule {
        let whole: NSRegularExpression
        let find: NSRegularExpression
        do {
            // Wrapped in a non-capturing group (same group numbers) so an empty pattern compiles.
            find = try NSRegularExpression(pattern: "(?:" + pattern + ")")
            whole = try NSRegularExpression(pattern: "\\A(?:" + pattern + ")\\z")
        } catch {
            throw PrincipalMappingError(column: column, rule: ruleText, reason: "invalid regular expression")
        }
        let compiled = CompiledPattern(whole: whole, find: find)
        if let problem = checkReplacement(replacement, groups: compiled.groups) {
            throw PrincipalMappingError(column: column, rule: ruleText, reason: problem)
        }
        let caseChange: Case = flag == "L" ? .lower : flag == "U" ? .upper : .unchanged
        return .rule(pattern: pattern, replacement: replacement, caseChange: caseChange, compiled: compiled)
    }

    /// Replacement problems Java would only report when a DN is mapped.
    static func checkReplacement(_ replacement: String, groups: Int) -> String? {
        let chars = Array(replacement)
        var i = 0
        while i < chars.count {
            switch chars[i] {
            case "\\":
                guard i + 1 < chars.count else { return "replacement ends with a lone backslash" }
                i += 2
            case "$":
                guard i + 1 < chars.count, chars[i + 1].isASCII, chars[i + 1].isNumber else {
                    return "'$' in the replacement must be followed by a group number (write \\$ for a dollar sign)"
                }
                if groups == 0 && chars[i + 1] != "0" {
                    return "replacement refers to group \(chars[i + 1]) but the pattern has no groups"
                }
                i += 2
            default:
                i += 1
            }
        }
        return nil
    }

    // MARK: Applying

    static func apply(_ rule: Rule, to dn: String) -> String? {
        guard case let .rule(_, replacement, caseChange, compiled) = rule else { return dn }
        let text = dn as NSString
        let all = NSRange(location: 0, length: text.length)
        guard compiled.whole.firstMatch(in: dn, range: all) != nil else { return nil }
        // Java's replaceAll: every match of the pattern, left to right.
        var out = ""
        var last = 0
        for match in compiled.find.matches(in: dn, range: all) {
            out += text.substring(with: NSRange(location: last, length: match.range.location - last))
            out += expand(replacement, match: match, in: text, groups: compiled.groups)
            last = match.range.location + match.range.length
        }
        out += text.substring(from: last)
        switch caseChange {
        case .unchanged: return out
        case .lower: return out.lowercased()
        case .upper: return out.uppercased()
        }
    }

    /// Java's `appendReplacement` after Kafka's treatment of out-of-range group references.
    static func expand(_ replacement: String, match: NSTextCheckingResult, in text: NSString, groups: Int) -> String {
        let chars = Array(replacement)
        var out = ""
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == "\\", i + 1 < chars.count {
                out.append(chars[i + 1])
                i += 2
                continue
            }
            guard c == "$", i + 1 < chars.count, let first = chars[i + 1].wholeNumberValue, chars[i + 1].isASCII else {
                out.append(c)
                i += 1
                continue
            }
            // Kafka: a reference beyond the groups, after dropping trailing digits, is literal.
            if first > groups {
                out.append(c)
                i += 1
                continue
            }
            var number = first
            i += 2
            while i < chars.count, chars[i].isASCII, let digit = chars[i].wholeNumberValue, number * 10 + digit <= groups {
                number = number * 10 + digit
                i += 1
            }
            let range = match.range(at: number)
            if range.location != NSNotFound { out += text.substring(with: range) }
        }
        return out
    }
}
