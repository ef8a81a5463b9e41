import Glibc
import Synchronization

/// How much the broker says (`log.level`): each level includes the ones above it.
public enum LogLevel: UInt8, Sendable, Comparable, CaseIterable {
    case error = 0, warn = 1, info = 2, debug = 3

    public init?(name: String) {
        guard let level = Self.allCases.first(where: { $0.name == name.lowercased() }) else { return nil }
        self = level
    }

    /// The property value and the word in each line.
    public var name: String {
        switch self {
        case .error: "error"
        case .warn: "warn"
        case .info: "info"
        case .debug: "debug"
        }
    }

    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue < b.rawValue }
}

/// The broker's operator log: one line per event, `<UTC time> <LEVEL> [<area>] <text>`, written
/// to stderr with one write(2) so lines from different threads never interleave.
///
/// Cheap when quiet: the level is one relaxed atomic load, and the text is an autoclosure that is
/// only evaluated when the level lets the line through. What callers put in a line is their
/// responsibility: names, ids, counts and error codes only — never record contents, SASL tokens,
/// passwords or configuration values marked sensitive (docs/security.md).
public final class BrokerLog: Sendable {
    /// The process's log; `Broker.init` sets its level from `log.level`.
    public static let shared = BrokerLog(level: .info) { line in
        line.withCString { text in _ = Glibc.write(2, text, strlen(text)) }
    }

    private let threshold: Atomic<UInt8>
    private let sink: @Sendable (String) -> Void

    /// `sink` receives whole lines, newline included (tests capture them).
    public init(level: LogLevel, sink: @escaping @Sendable (String) -> Void) {
        threshold = Atomic(level.rawValue)
        self.sink = sink
    }

    public var level: LogLevel {
        get { LogLevel(rawValue: threshold.load(ordering: .relaxed)) ?? .info }
        set { threshold.store(newValue.rawValue, ordering: .relaxed) }
    }

    @inline(__always)
    public func isEnabled(_ level: LogLevel) -> Bool { level.rawValue <= threshold.load(ordering: .relaxed) }

    @inline(__always)
    public func log(_ level: LogLevel, _ area: StaticString, _ text: @autoclosure () -> String) {
        guard isEnabled(level) else { return }
        sink(Self.line(level, area: "\(area)", text: text(), nowMs: SystemClock.nowMs()))
    }

    public func error(_ area: StaticString, _ text: @autoclosure () -> String) { log(.error, area, text()) }
    public func warn(_ area: StaticString, _ text: @autoclosure () -> String) { log(.warn, area, text()) }
    public func info(_ area: StaticString, _ text: @autoclosure () -> String) { log(.info, area, text()) }
    public func debug(_ area: StaticString, _ text: @autoclosure () -> String) { log(.debug, area, text()) }

    /// `2026-12-07T23:59:01.123Z INFO  [groups] text\n`; line breaks inside `text` become spaces so
    /// that one event is always one line.
    static func line(_ level: LogLevel, area: String, text: String, nowMs: Int64) -> String {
        var seconds = time_t(nowMs / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let ms = Int(nowMs % 1000)
        let millis = ms < 10 ? "00\(ms)" : ms < 100 ? "0\(ms)" : "\(ms)"
        let stamp = "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T"
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(millis)Z"
        let word = level.name.uppercased()
        let padded = word.count < 5 ? word + String(repeating: " ", count: 5 - word.count) : word
        let flat = text.contains(where: \.isNewline) ? String(text.map { $0.isNewline ? " " : $0 }) : text
        return "\(stamp) \(padded) [\(area)] \(flat)\n"
    }
}
