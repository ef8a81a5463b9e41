import Glibc
import Testing

@testable import Broker

@Suite struct ProcessMemoryTests {
    @Test func glibcAcceptsTheBrokerAllocatorPolicy() {
        // 32 MiB is glibc's ceiling for M_MMAP_THRESHOLD on 64-bit: a larger value is refused.
        // With an operator's GLIBC_TUNABLES the policy stands back and reports so.
        let applied = ProcessMemory.keepFreedMemoryMapped()
        #expect(applied == (getenv("GLIBC_TUNABLES") == nil))
        ProcessMemory.releaseFreeMemory()
    }
}
