import CShims
import Foundation

/// Process-wide allocator policy for a broker process.
public enum ProcessMemory {
    /// glibc gives large freed blocks back to the kernel (munmap, or trimming the heap top once
    /// twice the last large block is free), so every fetch response and produce frame of a
    /// megabyte or more was built in freshly faulted, zeroed pages: most of the broker's CPU in a
    /// fetch-heavy run (docs/BENCHMARKS.md). Blocks up to `blocksUpTo` stay in the heap and up to
    /// `freeTopUpTo` bytes of free heap top are kept for reuse. An operator's `GLIBC_TUNABLES` wins.
    /// Returns whether the policy was applied.
    @discardableResult
    public static func keepFreedMemoryMapped(blocksUpTo: Int32 = 32 << 20, freeTopUpTo: Int32 = 128 << 20) -> Bool {
        guard ProcessInfo.processInfo.environment["GLIBC_TUNABLES"] == nil else { return false }
        return sluice_malloc_keep_freed(blocksUpTo, freeTopUpTo) == 1
    }
}
