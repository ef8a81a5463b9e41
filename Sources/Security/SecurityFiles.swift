// The few file operations this module needs (credential file, API ACL file, policy directory):
// read a small file, list a directory, and replace a file atomically. Everything else in the
// module is pure; callers choose when to touch the disk.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed file operation: the operation, the path and the errno value.
public struct SecurityFileError: Error, Equatable, Sendable, CustomStringConvertible {
    public let operation: String
    public let path: String
    public let code: Int32

    public var description: String {
        let reason = String(cString: strerror(code))
        return "\(operation) \(path): \(reason)"
    }
}

/// Small-file I/O with explicit errors. Files handled here are at most `maxFileBytes` long, so a
/// corrupt or hostile file cannot make the broker allocate without bound.
public enum SecurityFiles {
    /// Upper bound for any file this module reads (policies, credentials, API ACLs).
    public static let maxFileBytes = 64 << 20

    private static func fail(_ operation: String, _ path: String, _ code: Int32 = errno) -> SecurityFileError {
        SecurityFileError(operation: operation, path: path, code: code)
    }

    /// The contents of `path`, or nil when it does not exist.
    public static func read(_ path: String) throws(SecurityFileError) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw fail("open", path)
        }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw fail("read", path)
            }
            if count == 0 { break }
            out.append(contentsOf: chunk[0..<count])
            if out.count > maxFileBytes { throw fail("read", path, EFBIG) }
        }
        return out
    }

    /// Names of the entries of `directory` (no "." or ".."), sorted bytewise.
    public static func list(_ directory: String) throws(SecurityFileError) -> [String] {
        guard let handle = opendir(directory) else { throw fail("opendir", directory) }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    /// Replaces `path` with `bytes`: temp file, fsync, rename, fsync of the directory. A crash
    /// leaves the old or the new contents, never a mix. Mode 0600: these files hold key material.
    /// `mode` defaults to 0600; public material (certificates) may use 0644.
    public static func writeAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o600) throws(SecurityFileError) {
        let temp = path + ".tmp"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw fail("open", temp) }
        // A temp file left by a crash keeps its old mode through O_TRUNC: set it explicitly.
        guard fchmod(fd, mode) == 0 else {
            let code = errno
            close(fd)
            throw fail("chmod", temp, code)
        }
        var failure: Int32 = 0
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { raw in
                Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                failure = errno
                break
            }
            offset += written
        }
        if failure == 0 && fsync(fd) != 0 { failure = errno }
        close(fd)
        if failure != 0 {
            unlink(temp)
            throw fail("write", temp, failure)
        }
        guard rename(temp, path) == 0 else {
            let code = errno
            unlink(temp)
            throw fail("rename", path, code)
        }
        let directory = parentDirectory(of: path)
        let directoryFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 {
            _ = fsync(directoryFD)
            close(directoryFD)
        }
    }

    /// Creates `directory` (mode 0755) and missing parents; an existing directory is fine.
    public static func makeDirectory(_ directory: String) throws(SecurityFileError) {
        var prefix = directory.hasPrefix("/") ? "/" : ""
        for component in directory.split(separator: "/") {
            prefix += component
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST { throw fail("mkdir", prefix) }
            prefix += "/"
        }
    }

    static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let parent = String(path[..<slash])
        return parent.isEmpty ? "/" : parent
    }
}

/// The fingerprint of a set of policy files as loaded (`*.acl`, `*.tenants`): SHA-256 over each
/// file's name and text in load order, in hex. Operators deploy the same files to every node;
/// nodes whose fingerprints differ loaded different files (metrics, `sluice cluster status`).
public enum PolicyFingerprint {
    public static func of(_ files: [(name: String, text: String)]) -> String {
        var bytes: [UInt8] = []
        for file in files {
            bytes += Array(file.name.utf8) + [0] + Array(file.text.utf8) + [0]
        }
        return Crypto.sha256(bytes).map { String($0, radix: 16).leftPadded(to: 2) }.joined()
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
