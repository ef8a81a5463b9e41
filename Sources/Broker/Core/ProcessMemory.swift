import CShims
import Foundation
import Synchronization

/// Process-wide allocator policy for a broker process.
public enum ProcessMemory {
    private static let keeping = Atomic<Bool>(false)

    /// glibc gives large freed blocks back to the kernel (munmap, or trimming the heap top once
    /// twice the last large block is free), so every fetch response and produce frame of a
    /// megabyte or more was built in freshly faulted, zeroed pages: most of the broker's CPU in a
    /// fetch-heavy run (docs/BENCHMARKS.md). Blocks up to `blocksUpTo` stay in the heap and up to
    /// `freeTopUpTo` bytes of free heap top are kept for reuse between requests; the maintenance
    /// thread hands free memory back once a second (`releaseFreeMemory`), so an idle broker's
    /// resident size does not keep its peak. An operator's `GLIBC_TUNABLES` wins.
    /// Returns whether the policy was applied.
    @discardableResult
    public static func keepFreedMemoryMapped(blocksUpTo: Int32 = 32 << 20, freeTopUpTo: Int32 = 128 << 20) -> Bool {
        guard ProcessInfo.processInfo.environment["GLIBC_TUNABLES"] == nil else { return false }
        let applied = sluice_malloc_keep_freed(blocksUpTo, freeTopUpTo) == 1
        keeping.store(applied, ordering: .releasing)
        return applied
    }

    /// Whether `keepFreedMemoryMapped` is in force in this process.
    public static var isKeepingFreedMemory: Bool { keeping.load(ordering: .acquiring) }

    /// Returns free heap pages to the kernel (malloc_trim). Once a second under load this costs a
    /// few milliseconds of page faults afterwards, instead of faults on every request.
    public static func releaseFreeMemory() { sluice_malloc_trim() }
}
