import Synchronization

/// Hands out producer ids. Blocks of ids are reserved durably in the metadata store before any id
/// of the block is used, so a restart never reissues an id (it skips the rest of the block).
final class ProducerIdAllocator: Sendable {
    static let blockSize: Int64 = 1000
    private let metadata: MetadataStore
    private let range = Mutex<(next: Int64, end: Int64)>((0, 0))

    init(metadata: MetadataStore) {
        self.metadata = metadata
    }

    func next() throws -> Int64 {
        try range.withLock { r in
            if r.next >= r.end {
                let start = try metadata.reserveProducerIds(Self.blockSize)
                r = (start, start + Self.blockSize)
            }
            defer { r.next += 1 }
            return r.next
        }
    }
}
