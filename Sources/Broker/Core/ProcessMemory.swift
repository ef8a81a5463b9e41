import CShims
import Foundation

/// Process-wide allocator policy for `sluice` processes.
public enum ProcessMemory {
    /// glibc gives large freed blocks back to the kernel (munmap, or trimming the heap top once
    /// twice the last large block is free), so every fetch response and produce frame of a
    /// megabyte or more was built in freshly faulted, zeroed pages: most of the broker's CPU in a
    /// fetch-heavy run (docs/BENCHMARKS.md). Blocks up to 32 MiB stay in the heap and up to
    /// 128 MiB of free heap top is kept for reuse between requests; the broker's maintenance
    /// thread hands free memory back once a second (`releaseFreeMemory`), so an idle broker's
    /// resident size does not keep its peak. An operator's `GLIBC_TUNABLES` wins.
    /// Returns whether the policy was applied.
    @discardableResult
    public static func keepFreedMemoryMapped() -> Bool {
        guard ProcessInfo.processInfo.environment["GLIBC_TUNABLES"] == nil else { return false }
        return sluice_malloc_keep_freed(32 << 20, 128 << 20) == 1
    }

    /// Returns free heap pages to the kernel (malloc_trim). Once a second under load this costs a
    /// few milliseconds of page faults afterwards, instead of faults on every request; without
    /// the policy above it only repeats what glibc does anyway.
    public static func releaseFreeMemory() { sluice_malloc_trim() }
}
