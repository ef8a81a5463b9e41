// The operator log: level filtering (and no formatting below the level), the line format, and
// the `log.level` / `log.slow.request.threshold.ms` properties.
import Synchronization
import Testing
@testable import Broker

private final class Lines: Sendable {
    private let captured = Mutex<[String]>([])
    var all: [String] { captured.withLock { $0 } }
    func append(_ line: String) { captured.withLock { $0.append(line) } }
}

@Suite struct BrokerLogTests {
    @Test func linesBelowTheLevelAreDroppedWithoutBeingFormatted() {
        let lines = Lines()
        let log = BrokerLog(level: .info) { lines.append($0) }
        let formatted = Atomic<Int>(0)
        func text(_ s: String) -> String {
            formatted.add(1, ordering: .relaxed)
            return s
        }
        log.error("test", text("e"))
        log.warn("test", text("w"))
        log.info("test", text("i"))
        log.debug("test", text("d"))
        #expect(lines.all.count == 3)
        #expect(formatted.load(ordering: .relaxed) == 3)  // the debug text was never built
        log.level = .error
        log.warn("test", text("w2"))
        #expect(lines.all.count == 3)
        log.level = .debug
        log.debug("test", text("d2"))
        #expect(lines.all.last?.hasSuffix("[test] d2\n") == true)
        #expect(log.isEnabled(.debug) && log.isEnabled(.error))
    }

    @Test func oneEventIsOneTimestampedLine() {
        // 2026-12-07T23:59:01.007Z
        let line = BrokerLog.line(.warn, area: "groups", text: "two\nlines", nowMs: 1_796_687_941_007)
        #expect(line == "2026-12-07T23:59:01.007Z WARN  [groups] two lines\n")
        #expect(BrokerLog.line(.error, area: "net", text: "x", nowMs: 0) == "1970-01-01T00:00:00.000Z ERROR [net] x\n")
    }

    @Test func levelNamesAreKafkasPropertyValues() {
        #expect(LogLevel(name: "info") == .info)
        #expect(LogLevel(name: "DEBUG") == .debug)
        #expect(LogLevel(name: "trace") == nil)
        #expect(LogLevel.allCases.map(\.name) == ["error", "warn", "info", "debug"])
    }

    @Test func theLogPropertiesAreValidated() throws {
        let config = try BrokerConfig.parse(properties: "log.level=debug\nlog.slow.request.threshold.ms=250\n")
        #expect(config.string("log.level") == "debug")
        #expect(config.int64("log.slow.request.threshold.ms") == 250)
        #expect(BrokerConfig().string("log.level") == "info")
        #expect(throws: ConfigError.self) { try BrokerConfig.parse(properties: "log.level=verbose\n", source: "s.properties") }
        #expect(throws: ConfigError.self) { try BrokerConfig.parse(properties: "log.slow.request.threshold.ms=-1\n") }
    }
}
