// The few file operations the quorum's own files need, with the durability each promises:
// whole-file reads, atomic replacement (temp file, fsync, rename, fsync of the directory), and
// directory listing. Errors carry the path and errno.
import Glibc

public struct QuorumStorageError: Error, Equatable, Sendable, CustomStringConvertible {
    public var path: String
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    static func errno(_ path: String, _ operation: String) -> QuorumStorageError {
        QuorumStorageError(path: path, reason: "\(operation): \(String(cString: strerror(Glibc.errno)))")
    }

    public var description: String { "\(path): \(reason)" }
}

enum DurableFiles {
    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    static func makeDirectory(_ path: String) throws(QuorumStorageError) {
        if mkdir(path, 0o755) != 0 && Glibc.errno != EEXIST { throw .errno(path, "mkdir") }
    }

    /// The whole file, or nil when it does not exist.
    static func read(_ path: String) throws(QuorumStorageError) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if Glibc.errno == ENOENT { return nil }
            throw .errno(path, "open")
        }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if Glibc.errno == EINTR { continue }
                throw .errno(path, "read")
            }
            if n == 0 { return out }
            out += chunk[0..<n]
        }
    }

    /// Writes `bytes` to `temporaryPath`, fsyncs it, renames it over `path` and fsyncs the
    /// directory: afterwards `path` holds either the old content or all of the new, never a mix.
    static func replace(_ path: String, with bytes: [UInt8], temporaryPath: String) throws(QuorumStorageError) {
        let fd = open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 { throw .errno(temporaryPath, "open") }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 {
                if Glibc.errno == EINTR { continue }
                close(fd)
                throw .errno(temporaryPath, "write")
            }
            written += n
        }
        if fsync(fd) != 0 {
            close(fd)
            throw .errno(temporaryPath, "fsync")
        }
        close(fd)
        if rename(temporaryPath, path) != 0 { throw .errno(path, "rename") }
        try syncDirectory(parent(of: path))
    }

    static func syncDirectory(_ path: String) throws(QuorumStorageError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { throw .errno(path, "open directory") }
        defer { close(fd) }
        if fsync(fd) != 0 { throw .errno(path, "fsync directory") }
    }

    static func remove(_ path: String) throws(QuorumStorageError) {
        if unlink(path) != 0 && Glibc.errno != ENOENT { throw .errno(path, "unlink") }
    }

    static func list(_ directory: String) throws(QuorumStorageError) -> [String] {
        guard let dir = opendir(directory) else { throw .errno(directory, "opendir") }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
