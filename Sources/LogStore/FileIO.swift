// Every syscall LogStore makes goes through this file, so EINTR handling, short reads/writes and
// errno-to-error mapping live in one place. Plain Glibc, no Foundation: this is the hot path.
import Glibc

/// An open file descriptor shared by a segment and any in-flight read of it; closed when the last
/// reference goes away. Holding one keeps the bytes readable even after the file is unlinked, which
/// is what lets a future sendfile path outlive retention deleting the segment.
public final class LogFile: Sendable {
    /// The raw descriptor, valid for the lifetime of this object.
    public let descriptor: Int32

    init(descriptor: Int32) {
        precondition(descriptor >= 0, "LogFile needs an open descriptor")
        self.descriptor = descriptor
    }

    deinit { _ = Glibc.close(descriptor) }
}

/// Thin wrappers over the file syscalls. Each throws `LogStoreError.io` with the operation, the
/// path and errno; the path is passed in only to make that error useful.
enum FileIO {
    static func fail(_ operation: String, _ path: String, _ code: Int32 = errno) -> LogStoreError {
        .io(operation: operation, path: path, errno: code)
    }

    /// Opens (and with `create`, creates) a file for reading and writing.
    static func open(_ path: String, create: Bool, exclusive: Bool = false) throws(LogStoreError) -> LogFile {
        var flags = O_RDWR | O_CLOEXEC
        if create { flags |= O_CREAT }
        if exclusive { flags |= O_EXCL }
        while true {
            let fd = Glibc.open(path, flags, 0o644)
            if fd >= 0 { return LogFile(descriptor: fd) }
            if errno != EINTR { throw fail("open", path) }
        }
    }

    /// Reads until `buffer` is full or end of file; returns the bytes read.
    static func read(
        _ file: LogFile, into buffer: UnsafeMutableRawBufferPointer, at offset: Int, path: String
    ) throws(LogStoreError) -> Int {
        var done = 0
        while done < buffer.count {
            let n = Glibc.pread(file.descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            if n > 0 {
                done += n
            } else if n == 0 {
                break
            } else if errno != EINTR {
                throw fail("pread", path)
            }
        }
        return done
    }

    /// Reads `count` bytes at `offset` into a new array, shorter if the file ends first.
    static func read(_ file: LogFile, count: Int, at offset: Int, path: String) throws(LogStoreError) -> [UInt8] {
        guard count > 0 else { return [] }
        var got = 0
        var failure: LogStoreError?
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            do throws(LogStoreError) {
                got = try read(file, into: UnsafeMutableRawBufferPointer(buffer), at: offset, path: path)
            } catch {
                failure = error
            }
            initialized = got
        }
        if let failure { throw failure }
        return bytes
    }

    /// Writes all of `bytes` at `offset`, looping over short writes.
    static func write(
        _ file: LogFile, _ bytes: UnsafeRawBufferPointer, at offset: Int, path: String
    ) throws(LogStoreError) {
        var done = 0
        while done < bytes.count {
            let n = Glibc.pwrite(file.descriptor, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if n > 0 {
                done += n
            } else if n < 0 && errno != EINTR {
                throw fail("pwrite", path)
            } else if n == 0 {
                throw fail("pwrite", path, EIO)
            }
        }
    }

    static func write(_ file: LogFile, _ bytes: [UInt8], at offset: Int, path: String) throws(LogStoreError) {
        var failure: LogStoreError?
        bytes.withUnsafeBytes { raw in
            do throws(LogStoreError) { try write(file, raw, at: offset, path: path) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// `fdatasync`: data plus the metadata needed to read it back (the size), which is all a log needs.
    static func syncData(_ file: LogFile, path: String) throws(LogStoreError) {
        while Glibc.fdatasync(file.descriptor) != 0 {
            if errno != EINTR { throw fail("fdatasync", path) }
        }
    }

    static func truncate(_ file: LogFile, to size: Int, path: String) throws(LogStoreError) {
        while Glibc.ftruncate(file.descriptor, off_t(size)) != 0 {
            if errno != EINTR { throw fail("ftruncate", path) }
        }
    }

    static func size(_ file: LogFile, path: String) throws(LogStoreError) -> Int {
        var info = stat()
        if Glibc.fstat(file.descriptor, &info) != 0 { throw fail("fstat", path) }
        return Int(info.st_size)
    }

    /// Last modification time in epoch milliseconds: retention's fallback for segments without timestamps.
    static func modifiedMs(_ file: LogFile, path: String) throws(LogStoreError) -> Int64 {
        var info = stat()
        if Glibc.fstat(file.descriptor, &info) != 0 { throw fail("fstat", path) }
        return Int64(info.st_mtim.tv_sec) * 1000 + Int64(info.st_mtim.tv_nsec) / 1_000_000
    }

    static func exists(_ path: String) -> Bool {
        Glibc.access(path, F_OK) == 0
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return Glibc.lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    static func rename(_ from: String, _ to: String) throws(LogStoreError) {
        if Glibc.rename(from, to) != 0 { throw fail("rename to \(to)", from) }
    }

    /// Removes a file; a file that is already gone is not an error.
    static func remove(_ path: String) throws(LogStoreError) {
        if Glibc.unlink(path) != 0 && errno != ENOENT { throw fail("unlink", path) }
    }

    /// Creates a directory; one that already exists is fine.
    static func makeDirectory(_ path: String) throws(LogStoreError) {
        if Glibc.mkdir(path, 0o755) != 0 && errno != EEXIST { throw fail("mkdir", path) }
    }

    /// Removes a directory and the plain files in it (partition directories hold no subdirectories).
    static func removeDirectory(_ path: String) throws(LogStoreError) {
        for name in try list(path) { try remove(path + "/" + name) }
        if Glibc.rmdir(path) != 0 && errno != ENOENT { throw fail("rmdir", path) }
    }

    /// Names in a directory, without "." and "..".
    static func list(_ path: String) throws(LogStoreError) -> [String] {
        guard let dir = Glibc.opendir(path) else { throw fail("opendir", path) }
        defer { Glibc.closedir(dir) }
        var names = [String]()
        while let entry = Glibc.readdir(dir) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) { tuple in
                tuple.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: tuple.pointee)) {
                    String(cString: $0)
                }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// fsync on a directory makes creations, renames and unlinks in it durable.
    static func syncDirectory(_ path: String) throws(LogStoreError) {
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { throw fail("open directory", path) }
        defer { _ = Glibc.close(fd) }
        while Glibc.fsync(fd) != 0 {
            if errno != EINTR { throw fail("fsync directory", path) }
        }
    }

    /// Whole small file, or nil when it does not exist.
    static func readSmallFile(_ path: String) throws(LogStoreError) -> [UInt8]? {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw fail("open", path)
        }
        let file = LogFile(descriptor: fd)
        return try read(file, count: try size(file, path: path), at: 0, path: path)
    }

    /// Replaces `path` atomically and durably: write a temp file, fsync it, rename it over the old
    /// one, fsync the directory. A crash leaves either the old or the new content, never a mix.
    static func replaceFile(_ path: String, with bytes: [UInt8], directory: String) throws(LogStoreError) {
        let temp = path + ".tmp"
        let file = try open(temp, create: true)
        try truncate(file, to: 0, path: temp)
        try write(file, bytes, at: 0, path: temp)
        while Glibc.fsync(file.descriptor) != 0 {
            if errno != EINTR { throw fail("fsync", temp) }
        }
        try rename(temp, path)
        try syncDirectory(directory)
    }
}
