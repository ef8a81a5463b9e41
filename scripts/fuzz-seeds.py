#!/usr/bin/env python3
"""Seeds the fuzz corpora (Fuzz/.corpus/<target>/) from the golden vectors, once.

FuzzRequestDecode takes 4 bytes (API key, version) plus a request frame; a captured request
frame starts with exactly those 4 bytes, so a seed is frame[:4] + frame. FuzzRecordBatches
takes a flags byte plus a `records` field: the record batches are cut out of captured
Produce v3+ requests. FuzzDecompress gets the compressed payloads of those batches.
"""
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "Tests/KafkaProtocolTests/Golden"


def batches(records: bytes):
    pos = 0
    while pos + 61 <= len(records):
        (length,) = struct.unpack(">i", records[pos + 8:pos + 12])
        end = pos + 12 + length
        if length < 49 or end > len(records):
            return
        yield records[pos:end]
        pos = end


def produce_records(frame: bytes):
    """Record-batch blobs of a non-flexible Produce v3-v8 request (enough for seeds)."""
    key, version = struct.unpack(">hh", frame[:4])
    if key != 0 or not 3 <= version <= 8:
        return
    pos = 8
    (n,) = struct.unpack(">h", frame[pos:pos + 2]); pos += 2 + max(n, 0)  # client id
    (n,) = struct.unpack(">h", frame[pos:pos + 2]); pos += 2 + max(n, 0)  # transactional id
    pos += 6  # acks, timeout
    (topics,) = struct.unpack(">i", frame[pos:pos + 4]); pos += 4
    for _ in range(topics):
        (n,) = struct.unpack(">h", frame[pos:pos + 2]); pos += 2 + n
        (parts,) = struct.unpack(">i", frame[pos:pos + 4]); pos += 4
        for _ in range(parts):
            pos += 4
            (n,) = struct.unpack(">i", frame[pos:pos + 4]); pos += 4
            if n > 0:
                yield frame[pos:pos + n]
                pos += n


def main():
    corpus = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "Fuzz/.corpus")
    dirs = {t: corpus / t for t in ["FuzzRequestDecode", "FuzzRecordBatches", "FuzzDecompress"]}
    if all(d.is_dir() and any(d.iterdir()) for d in dirs.values()):
        return
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
    count = 0
    for path in sorted(GOLDEN.glob("*_request_*.hex")):
        frame = bytes.fromhex(path.read_text().strip())
        (dirs["FuzzRequestDecode"] / path.stem).write_bytes(frame[:4] + frame)
        count += 1
        for i, records in enumerate(produce_records(frame)):
            (dirs["FuzzRecordBatches"] / f"{path.stem}_{i}").write_bytes(b"\x01" + records)
            for j, batch in enumerate(batches(records)):
                codec = struct.unpack(">h", batch[21:23])[0] & 7
                if codec:
                    (dirs["FuzzDecompress"] / f"{path.stem}_{i}_{j}").write_bytes(bytes([codec, 255]) + batch[61:])
            count += 1
    print(f"fuzz-seeds: {count} seeds from {GOLDEN}")


if __name__ == "__main__":
    main()
