// The key set behind `sasl.oauthbearer.jwks.endpoint.url` when it is a `file://` URL: loaded at
// start, reloaded when the file changes (device, inode, size or modification time differ), checked
// when asked and at most every `checkIntervalMs`. No thread of its own: the broker calls
// `keys(nowMs:)` when an OAUTHBEARER exchange starts. A new file that does not parse leaves the
// previous keys in force; `status` says why.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

public final class JwksStore: Sendable {
    /// What the store serves and the outcome of the last reload attempt.
    public struct Status: Sendable, Equatable {
        /// Key ids (or `(no kid)`) of the keys in force.
        public var keyIds: [String]
        /// Keys of the file in force that were skipped, and why.
        public var skipped: [String]
        /// When the keys in force were loaded (ms since the epoch, as passed in).
        public var loadedAtMs: Int64
        /// Why the newest version of the file is not in force (nil when it is).
        public var lastError: String?
    }

    private struct FileIdentity: Equatable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var modifiedNs: Int64
    }

    private struct State {
        var keys: JsonWebKeySet
        var identity: FileIdentity?
        var lastCheckMs: Int64
        var status: Status
    }

    public let path: String
    public let checkIntervalMs: Int64
    private let state: Mutex<State>

    /// The path of a `file://` URL (or a plain absolute path); other schemes are refused.
    public static func path(fromURL url: String) throws(JwksError) -> String {
        if url.hasPrefix("/") { return url }
        guard url.hasPrefix("file://") else {
            throw JwksError("sasl.oauthbearer.jwks.endpoint.url must be a file:// URL here (got scheme \(Json.quote(String(url.prefix { $0 != ":" }))))")
        }
        var rest = url.dropFirst("file://".count)
        if rest.hasPrefix("localhost/") { rest = rest.dropFirst("localhost".count) }
        guard rest.hasPrefix("/") else { throw JwksError("file URL must name an absolute path (file:///path)") }
        guard let decoded = percentDecode(rest) else { throw JwksError("file URL has a bad %-escape") }
        return decoded
    }

    private static func percentDecode(_ text: Substring) -> String? {
        var out: [UInt8] = []
        var bytes = Array(text.utf8)[...]
        while let byte = bytes.popFirst() {
            if byte != UInt8(ascii: "%") { out.append(byte); continue }
            guard bytes.count >= 2, let value = UInt8(String(decoding: bytes.prefix(2), as: UTF8.self), radix: 16) else { return nil }
            out.append(value)
            bytes = bytes.dropFirst(2)
        }
        return String(validating: out, as: UTF8.self)
    }

    /// Loads the key set; the first load must succeed.
    /// - Parameter url: `file:///path/to/jwks.json` or an absolute path.
    public init(url: String, nowMs: Int64, checkIntervalMs: Int64 = 1000) throws(JwksError) {
        let path = try Self.path(fromURL: url)
        self.path = path
        self.checkIntervalMs = checkIntervalMs
        let identity = Self.identity(path)
        let keys = try Self.load(path)
        state = Mutex(State(keys: keys, identity: identity, lastCheckMs: nowMs,
                            status: Self.status(keys, loadedAtMs: nowMs, error: nil)))
    }

    /// The keys in force, after reloading the file if it changed and the check interval passed.
    public func keys(nowMs: Int64) -> JsonWebKeySet {
        state.withLock { state in
            if nowMs - state.lastCheckMs >= checkIntervalMs || nowMs < state.lastCheckMs {
                reloadIfChanged(&state, nowMs: nowMs)
            }
            return state.keys
        }
    }

    /// Checks the file now, whatever the interval. Returns the status afterwards.
    @discardableResult
    public func refresh(nowMs: Int64) -> Status {
        state.withLock { state in
            reloadIfChanged(&state, nowMs: nowMs)
            return state.status
        }
    }

    public var status: Status { state.withLock { $0.status } }

    private func reloadIfChanged(_ state: inout State, nowMs: Int64) {
        state.lastCheckMs = nowMs
        let identity = Self.identity(path)
        guard identity != state.identity else { return }
        state.identity = identity
        do {
            let keys = try Self.load(path)
            state.keys = keys
            state.status = Self.status(keys, loadedAtMs: nowMs, error: nil)
        } catch {
            state.status.lastError = "\(path): \(error.message); the previous keys stay in force"
        }
    }

    private static func status(_ keys: JsonWebKeySet, loadedAtMs: Int64, error: String?) -> Status {
        Status(keyIds: keys.keys.map { $0.keyId ?? "(no kid)" }, skipped: keys.skipped, loadedAtMs: loadedAtMs, lastError: error)
    }

    private static func load(_ path: String) throws(JwksError) -> JsonWebKeySet {
        let bytes: [UInt8]?
        do { bytes = try SecurityFiles.read(path) } catch { throw JwksError(error.description) }
        guard let bytes else { throw JwksError("\(path): no such file") }
        return try JsonWebKeySet.parse(bytes)
    }

    private static func identity(_ path: String) -> FileIdentity? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
                            modifiedNs: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec))
    }
}
