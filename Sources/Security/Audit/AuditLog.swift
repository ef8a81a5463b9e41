// The audit log: one JSON object per line for every authentication outcome, every authorization
// denial, the allows an operator asks for, and every ACL or credential change. Each line carries
// `prev`, the hex SHA-256 of the previous line (its bytes without the newline); the first line
// ever chains from `AuditLog.genesis`, the first line of a new file after rotation from the last
// line of the file before. Editing, removing, inserting or reordering lines breaks the chain at
// the first line after the change (`AuditVerifier`).
//
// Durability: `record` writes the whole line with write(2) (O_APPEND) before it returns, so a
// recorded line survives a crash of the process. It reaches the disk (fdatasync) within
// `syncIntervalMs` when further lines are recorded or `sync(nowMs:)` is called (the broker's
// maintenance thread calls it every second), at rotation and at `close`. `syncIntervalMs = 0`
// syncs every line before `record` returns.
//
// Credentials: `AuditEvent` has no field for one; `detail` must come from texts made to be shown
// (`SaslFailure.message`, `TokenError.message`). Every field is capped at `maxFieldBytes`.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// One audited event.
public struct AuditEvent: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        case authentication
        case authorization
        case aclChange = "acl-change"
        case credentialChange = "credential-change"
        case policyReload = "policy-reload"
        /// Written by the log itself after it cut an incomplete last line at start.
        case auditRecovery = "audit-recovery"
    }

    public enum Decision: String, Sendable, Equatable {
        case allow, deny, success, failure
    }

    public var kind: Kind
    /// `User:alice` (nil before authentication).
    public var principal: String?
    /// Client address, `ip:port`.
    public var client: String?
    /// Listener name (`SASL_SSL`, ...).
    public var listener: String?
    /// API name (`Produce`, `SaslAuthenticate`, `CreateAcls`, ...).
    public var api: String?
    /// `topic:orders`, `group:billing`, `cluster`, `user:alice` ...
    public var resource: String?
    /// `write`, `read`, `authenticate`, `create-acl` ...
    public var operation: String?
    public var decision: Decision?
    /// What decided: `policies/teams.acl:12`, `api:7`, `super.users`, `default-deny`, a mechanism.
    public var rule: String?
    /// Free text safe to show (never a credential).
    public var detail: String?

    public init(kind: Kind, principal: String? = nil, client: String? = nil, listener: String? = nil, api: String? = nil,
                resource: String? = nil, operation: String? = nil, decision: Decision? = nil, rule: String? = nil,
                detail: String? = nil) {
        self.kind = kind
        self.principal = principal
        self.client = client
        self.listener = listener
        self.api = api
        self.resource = resource
        self.operation = operation
        self.decision = decision
        self.rule = rule
        self.detail = detail
    }
}

/// Settings; the property names in comments are the broker's.
public struct AuditLogConfig: Sendable, Equatable {
    /// Directory of the log (usually the data directory).
    public var directory: String
    /// `audit.log.file.name` (default `audit.log`); rotated files get `.1`, `.2`, ...
    public var fileName: String
    /// `audit.log.max.bytes` (default 100 MiB): a file is rotated before it would exceed this.
    public var maxBytes: Int
    /// `audit.log.max.files` (default 10): files kept, the current one included.
    public var maxFiles: Int
    /// `audit.log.sync.interval.ms` (default 1000).
    public var syncIntervalMs: Int64

    public init(directory: String, fileName: String = "audit.log", maxBytes: Int = 100 << 20, maxFiles: Int = 10,
                syncIntervalMs: Int64 = 1000) {
        self.directory = directory
        self.fileName = fileName
        self.maxBytes = maxBytes
        self.maxFiles = maxFiles
        self.syncIntervalMs = syncIntervalMs
    }

    var path: String { directory + "/" + fileName }
    func rotatedPath(_ index: Int) -> String { index == 0 ? path : path + ".\(index)" }
}

public struct AuditError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The audit log writer. Safe to call from many threads (one Mutex around the file).
public final class AuditLog: Sendable {
    /// `prev` of the very first line.
    public static let genesis = String(repeating: "0", count: 64)
    /// Longest value of any field, in bytes (longer ones are cut and marked with `...`).
    public static let maxFieldBytes = 1024

    private struct State {
        var fd: Int32
        var size: Int
        var lastHash: String
        var lastSyncMs: Int64
        var dirty: Bool
    }

    public let config: AuditLogConfig
    private let state: Mutex<State>

    /// Opens (or creates) the log and finds the hash to chain from. An incomplete last line (a
    /// crash in the middle of a write) is cut off and an `audit-recovery` line says so.
    public init(config: AuditLogConfig, nowMs: Int64) throws(AuditError) {
        precondition(config.maxFiles >= 1 && config.maxBytes >= 4096, "audit log limits out of range")
        self.config = config
        let path = config.path
        let fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw AuditError("open \(path): \(String(cString: strerror(errno)))") }
        var cut = 0
        var tail: AuditTail
        do throws(AuditError) {
            tail = try AuditTail.read(fd: fd, path: path)
            if tail.incompleteBytes > 0 {
                guard ftruncate(fd, off_t(tail.size - tail.incompleteBytes)) == 0 else {
                    throw AuditError("truncate \(path): \(String(cString: strerror(errno)))")
                }
                cut = tail.incompleteBytes
                tail = try AuditTail.read(fd: fd, path: path)
            }
            if tail.lastLine == nil {
                let previous = open(config.rotatedPath(1), O_RDONLY | O_CLOEXEC)
                if previous >= 0 {
                    defer { Glibc.close(previous) }
                    if let line = try AuditTail.read(fd: previous, path: config.rotatedPath(1)).lastLine {
                        tail.lastLine = line
                    }
                }
            }
        } catch {
            Glibc.close(fd)
            throw error
        }
        let lastHash = tail.lastLine.map { Self.hash($0) } ?? Self.genesis
        state = Mutex(State(fd: fd, size: tail.size - cut, lastHash: lastHash, lastSyncMs: nowMs, dirty: false))
        if cut > 0 {
            try record(AuditEvent(kind: .auditRecovery, detail: "cut \(cut) bytes of an incomplete last line at start"), nowMs: nowMs)
        }
    }

    deinit {
        state.withLock { state in
            if state.fd >= 0 {
                _ = fdatasync(state.fd)
                Glibc.close(state.fd)
            }
        }
    }

    static func hash(_ line: [UInt8]) -> String {
        Crypto.sha256(line).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// The JSON line (without newline) for `event` at `nowMs` chained from `prev`.
    static func line(_ event: AuditEvent, nowMs: Int64, prev: String) -> [UInt8] {
        func field(_ name: String, _ value: String?) -> String {
            guard var value else { return "\"\(name)\":null" }
            if value.utf8.count > maxFieldBytes {
                var cut = value.utf8.prefix(maxFieldBytes - 3)
                while String(validating: cut, as: UTF8.self) == nil { cut = cut.dropLast() }
                value = String(decoding: cut, as: UTF8.self) + "..."
            }
            return "\"\(name)\":" + Json.quote(value)
        }
        let members = [
            field("time", rfc3339(nowMs)), field("event", event.kind.rawValue), field("principal", event.principal),
            field("client", event.client), field("listener", event.listener), field("api", event.api),
            field("resource", event.resource), field("operation", event.operation),
            field("decision", event.decision?.rawValue), field("rule", event.rule), field("detail", event.detail),
            field("prev", prev),
        ]
        return Array(("{" + members.joined(separator: ",") + "}").utf8)
    }

    /// `2026-11-25T16:57:00.123Z`.
    static func rfc3339(_ ms: Int64) -> String {
        var seconds = time_t(ms >= 0 ? ms / 1000 : (ms - 999) / 1000)
        let millis = Int(ms - Int64(seconds) * 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(millis), 3))Z"
    }

    /// Appends one line (rotating first when the file would grow past `maxBytes`).
    public func record(_ event: AuditEvent, nowMs: Int64) throws(AuditError) {
        try state.withLock { (state: inout State) throws(AuditError) in
            guard state.fd >= 0 else { throw AuditError("audit log is closed") }
            var bytes = Self.line(event, nowMs: nowMs, prev: state.lastHash)
            let hash = Self.hash(bytes)
            bytes.append(0x0A)
            if state.size > 0 && state.size + bytes.count > config.maxBytes {
                try rotate(&state)
            }
            try Self.writeAll(state.fd, bytes, path: config.path)
            state.size += bytes.count
            state.lastHash = hash
            state.dirty = true
            if nowMs - state.lastSyncMs >= config.syncIntervalMs || nowMs < state.lastSyncMs {
                try sync(&state, nowMs: nowMs)
            }
        }
    }

    /// fdatasync if lines were written since the last sync and the interval passed.
    public func sync(nowMs: Int64) throws(AuditError) {
        try state.withLock { (state: inout State) throws(AuditError) in
            guard state.fd >= 0, nowMs - state.lastSyncMs >= config.syncIntervalMs || nowMs < state.lastSyncMs else { return }
            try sync(&state, nowMs: nowMs)
        }
    }

    /// Syncs and closes; later `record` calls fail.
    public func close() throws(AuditError) {
        try state.withLock { (state: inout State) throws(AuditError) in
            guard state.fd >= 0 else { return }
            state.dirty = true
            try sync(&state, nowMs: state.lastSyncMs)
            Glibc.close(state.fd)
            state.fd = -1
        }
    }

    private func sync(_ state: inout State, nowMs: Int64) throws(AuditError) {
        state.lastSyncMs = nowMs
        guard state.dirty else { return }
        guard fdatasync(state.fd) == 0 else { throw AuditError("fdatasync \(config.path): \(String(cString: strerror(errno)))") }
        state.dirty = false
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(AuditError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { raw in write(fd, raw.baseAddress! + offset, raw.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                throw AuditError("write \(path): \(String(cString: strerror(errno)))")
            }
            offset += written
        }
    }

    /// audit.log → audit.log.1 → ... ; the oldest beyond `maxFiles` is removed.
    private func rotate(_ state: inout State) throws(AuditError) {
        guard fdatasync(state.fd) == 0 else { throw AuditError("fdatasync \(config.path): \(String(cString: strerror(errno)))") }
        Glibc.close(state.fd)
        state.fd = -1
        if config.maxFiles == 1 {
            unlink(config.path)
        } else {
            unlink(config.rotatedPath(config.maxFiles - 1))
            for index in stride(from: config.maxFiles - 2, through: 0, by: -1) {
                if rename(config.rotatedPath(index), config.rotatedPath(index + 1)) != 0 && errno != ENOENT {
                    throw AuditError("rename \(config.rotatedPath(index)): \(String(cString: strerror(errno)))")
                }
            }
        }
        let fd = open(config.path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw AuditError("open \(config.path): \(String(cString: strerror(errno)))") }
        let directory = open(config.directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directory >= 0 {
            _ = fsync(directory)
            Glibc.close(directory)
        }
        state.fd = fd
        state.size = 0
        state.dirty = false
    }
}

/// The end of an audit file: its size, its last complete line and how many bytes follow it.
struct AuditTail {
    var size: Int
    var lastLine: [UInt8]?
    var incompleteBytes: Int

    /// Lines are short (fields are capped), so the last 64 KiB always hold the last line.
    static func read(fd: Int32, path: String) throws(AuditError) -> AuditTail {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw AuditError("stat \(path): \(String(cString: strerror(errno)))") }
        let size = Int(info.st_size)
        let window = min(size, 64 << 10)
        var buffer = [UInt8](repeating: 0, count: window)
        var got = 0
        while got < window {
            let count = buffer.withUnsafeMutableBytes { raw in
                pread(fd, raw.baseAddress! + got, window - got, off_t(size - window + got))
            }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw AuditError("read \(path): \(String(cString: strerror(errno)))") }
            got += count
        }
        guard let lastNewline = buffer.lastIndex(of: 0x0A) else {
            return AuditTail(size: size, lastLine: nil, incompleteBytes: size)
        }
        let start = buffer[..<lastNewline].lastIndex(of: 0x0A).map { $0 + 1 } ?? 0
        return AuditTail(size: size, lastLine: Array(buffer[start..<lastNewline]), incompleteBytes: window - lastNewline - 1)
    }
}

/// Which allowed authorizations are worth a line (denials always are). Written as a
/// comma-separated list, e.g. `audit.log.allow.resources=topic:payments.*,cluster,group:*`:
/// `type:name` for one resource, `type:prefix*` for a prefix, `type:*` for a whole type, `cluster`,
/// and `*` for everything. Empty: no allow is recorded.
public struct AuditAllowFilter: Sendable, Equatable {
    private var everything = false
    private var exact: Set<String> = []
    private var prefixes: [String] = []

    public init(_ text: String = "") throws(AuditError) {
        for raw in text.split(separator: ",") {
            let item = String(raw.trimmingBlanks)
            if item.isEmpty { continue }
            if item == "*" { everything = true; continue }
            if item == "cluster" { exact.insert("cluster"); continue }
            guard let colon = item.firstIndex(of: ":"), colon != item.startIndex, item.index(after: colon) != item.endIndex else {
                throw AuditError("audit allow filter entry \(Json.quote(item)) must be type:name, type:prefix*, cluster or *")
            }
            if item.hasSuffix("*") {
                prefixes.append(String(item.dropLast()))
            } else {
                exact.insert(item)
            }
        }
    }

    /// Whether an allowed operation on `resource` (`topic:orders`, `cluster`, ...) is recorded.
    public func records(resource: String) -> Bool {
        everything || exact.contains(resource) || prefixes.contains { resource.hasPrefix($0) }
    }
}
