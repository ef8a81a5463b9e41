"""A minimal hand-written Kafka wire encoder for malformed-input tests (independent of our Swift codec)."""
import socket
import struct
import zlib  # noqa: F401  (kept for callers building gzip payloads)


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def varint(n: int) -> bytes:
    z = (n << 1) ^ (n >> 63)
    out = bytearray()
    while z >= 0x80:
        out.append((z & 0x7F) | 0x80)
        z >>= 7
    out.append(z)
    return bytes(out)


def record_batch(values, base_timestamp=0, timestamp_deltas=None, max_timestamp=None, attributes=0,
                 producer_id=-1, producer_epoch=-1, base_sequence=-1) -> bytes:
    """One uncompressed v2 batch. The header's maxTimestamp is `max_timestamp` as given (default
    the base timestamp), whatever the records hold, as a careless client may write it.
    `attributes` 0x10 makes it transactional (with a producer id, epoch and base sequence)."""
    deltas = timestamp_deltas or [0] * len(values)
    records = b""
    for i, v in enumerate(values):
        body = b"\x00" + varint(deltas[i]) + varint(i) + varint(-1) + varint(len(v)) + v + varint(0)
        records += varint(len(body)) + body
    header_max = base_timestamp if max_timestamp is None else max_timestamp
    after_crc = struct.pack(">hiqqqhii", attributes, len(values) - 1, base_timestamp, header_max, producer_id,
                            producer_epoch, base_sequence, len(values)) + records
    crc = crc32c(after_crc)
    after_length = struct.pack(">ibI", -1, 2, crc) + after_crc
    return struct.pack(">qi", 0, len(after_length)) + after_length


def string16(s):
    if s is None:
        return struct.pack(">h", -1)
    b = s.encode()
    return struct.pack(">h", len(b)) + b


def produce_v7(topic: str, partition: int, records: bytes, acks=-1, correlation_id=7, transactional_id=None) -> bytes:
    """A Produce v7 request frame (non-flexible), the version librdkafka 2.0 sends."""
    header = struct.pack(">hhi", 0, 7, correlation_id) + string16("raw-test")
    body = string16(transactional_id) + struct.pack(">hi", acks, 30000) + struct.pack(">i", 1) + string16(topic)
    body += struct.pack(">i", 1) + struct.pack(">i", partition) + struct.pack(">i", len(records)) + records
    payload = header + body
    return struct.pack(">i", len(payload)) + payload


def api_versions(version=0, correlation_id=1) -> bytes:
    header = struct.pack(">hhi", 18, version, correlation_id) + string16("raw-test")
    body = b""
    if version >= 3:
        header += b"\x00"  # request header v2: empty tagged-field section
        body = bytes([len(b"sluice") + 1]) + b"sluice" + bytes([len(b"t1") + 1]) + b"t1" + b"\x00"
    payload = header + body
    return struct.pack(">i", len(payload)) + payload


class RawConnection:
    def __init__(self, port, timeout=5, source="127.0.0.1"):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(source, 0))

    def send(self, data: bytes):
        self.sock.sendall(data)

    def read_frame(self):
        size = struct.unpack(">i", self._read(4))[0]
        return self._read(size)

    def _read(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("closed")
            buf += chunk
        return buf

    def is_closed(self, wait=5.0) -> bool:
        self.sock.settimeout(wait)
        try:
            return self.sock.recv(1) == b""
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()


def produce_v7_error(frame: bytes) -> int:
    """Error code of the single partition in a Produce v7 response frame."""
    # correlation id, topics[1], topic name, partitions[1], index, error
    pos = 4 + 4
    name_len = struct.unpack(">h", frame[pos:pos + 2])[0]
    pos += 2 + name_len + 4 + 4
    return struct.unpack(">h", frame[pos:pos + 2])[0]


def write_txn_markers_v0(producer_id, producer_epoch, commit, topic, partition, coordinator_epoch=0,
                         correlation_id=27) -> bytes:
    """A WriteTxnMarkers v0 request frame with one marker for one partition."""
    header = struct.pack(">hhi", 27, 0, correlation_id) + string16("raw-test")
    body = struct.pack(">i", 1) + struct.pack(">qhb", producer_id, producer_epoch, 1 if commit else 0)
    body += struct.pack(">i", 1) + string16(topic) + struct.pack(">ii", 1, partition)
    body += struct.pack(">i", coordinator_epoch)
    payload = header + body
    return struct.pack(">i", len(payload)) + payload


def write_txn_markers_v0_error(frame: bytes) -> int:
    """Error code of the single partition in a WriteTxnMarkers v0 response frame."""
    pos = 4 + 4 + 8 + 4  # correlation id, markers[1], producer id, topics[1]
    pos += 2 + struct.unpack(">h", frame[pos:pos + 2])[0] + 4 + 4  # name, partitions[1], index
    return struct.unpack(">h", frame[pos:pos + 2])[0]


def record_batch_nullable(values, base_timestamp=0) -> bytes:
    """Like record_batch, but a None value is a null (tombstone) record."""
    records = b""
    for i, v in enumerate(values):
        value = varint(-1) if v is None else varint(len(v)) + v
        body = b"\x00" + varint(0) + varint(i) + varint(-1) + value + varint(0)
        records += varint(len(body)) + body
    after_crc = struct.pack(">hiqqqhii", 0, len(values) - 1, base_timestamp, base_timestamp, -1, -1, -1,
                            len(values)) + records
    after_length = struct.pack(">ibI", -1, 2, crc32c(after_crc)) + after_crc
    return struct.pack(">qi", 0, len(after_length)) + after_length


def produce_v8_raw(port, topic, values):
    """Sends one Produce v8 (the first version with record_errors) with one batch of `values` to
    partition 0; returns (error_code, error_message, [(batch_index, message), ...])."""
    import time
    records = record_batch_nullable(values, int(time.time() * 1000))
    header = struct.pack(">hhi", 0, 8, 9) + string16("raw-test")
    body = string16(None) + struct.pack(">hi", -1, 30000) + struct.pack(">i", 1) + string16(topic)
    body += struct.pack(">i", 1) + struct.pack(">i", 0) + struct.pack(">i", len(records)) + records
    payload = header + body
    conn = RawConnection(port)
    try:
        conn.send(struct.pack(">i", len(payload)) + payload)
        frame = conn.read_frame()
    finally:
        conn.close()
    pos = 4 + 4  # correlation id, topic count
    pos += 2 + struct.unpack(">h", frame[pos:pos + 2])[0] + 4 + 4  # name, partition count, index
    code = struct.unpack(">h", frame[pos:pos + 2])[0]
    pos += 2 + 8 + 8 + 8
    count = struct.unpack(">i", frame[pos:pos + 4])[0]
    pos += 4

    def nullable_string(p):
        n = struct.unpack(">h", frame[p:p + 2])[0]
        return (None, p + 2) if n < 0 else (frame[p + 2:p + 2 + n].decode(), p + 2 + n)

    errors = []
    for _ in range(max(count, 0)):
        index = struct.unpack(">i", frame[pos:pos + 4])[0]
        message, pos = nullable_string(pos + 4)
        errors.append((index, message))
    message, pos = nullable_string(pos)
    return code, message, errors


def raw_plain_login(port, user, password, timeout=10):
    """SaslHandshake v1 + SaslAuthenticate v1 with PLAIN on a new connection; returns
    (error_code, error_message)."""
    conn = RawConnection(port, timeout=timeout)
    try:
        payload = struct.pack(">hhi", 17, 1, 1) + string16("raw-test") + string16("PLAIN")
        conn.send(struct.pack(">i", len(payload)) + payload)
        conn.read_frame()
        token = b"\x00" + user.encode() + b"\x00" + password.encode()
        payload = struct.pack(">hhi", 36, 1, 2) + string16("raw-test") + struct.pack(">i", len(token)) + token
        conn.send(struct.pack(">i", len(payload)) + payload)
        frame = conn.read_frame()
        error = struct.unpack(">h", frame[4:6])[0]
        n = struct.unpack(">h", frame[6:8])[0]
        return error, frame[8:8 + n].decode() if n >= 0 else None
    finally:
        conn.close()
