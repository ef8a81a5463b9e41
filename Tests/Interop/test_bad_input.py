"""Malformed input: each case gets Kafka's error code or a clean close, and the broker keeps
serving another client throughout."""
import struct

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from conftest import unique
from kafka_wire import RawConnection, api_versions, produce_v7, produce_v7_error, record_batch


@pytest.fixture(scope="module")
def topic(broker):
    name = unique("bad")
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic(name, 1, 1)])[name].result(10)
    return name


def healthy(broker):
    """A real client still works."""
    p = Producer({"bootstrap.servers": broker.bootstrap})
    errs = []
    p.produce("healthcheck-" + str(broker.port), value=b"x", on_delivery=lambda e, m: errs.append(e))
    p.flush(10)
    md = AdminClient({"bootstrap.servers": broker.bootstrap}).list_topics(timeout=10)
    return len(md.brokers) == 1


def test_garbage_frame_closes_connection(broker):
    c = RawConnection(broker.port)
    c.send(struct.pack(">i", 8) + b"\xde\xad\xbe\xef\x00\x01\x02\x03")
    assert c.is_closed()
    assert healthy(broker)


def test_unknown_api_key_closes_connection(broker):
    c = RawConnection(broker.port)
    payload = struct.pack(">hhi", 999, 0, 5) + struct.pack(">h", -1)
    c.send(struct.pack(">i", len(payload)) + payload)
    assert c.is_closed()
    assert healthy(broker)


def test_unsupported_version_closes_connection(broker):
    c = RawConnection(broker.port)
    payload = struct.pack(">hhi", 0, 1, 5) + struct.pack(">h", -1) + b"\x00" * 16  # Produce v1
    c.send(struct.pack(">i", len(payload)) + payload)
    assert c.is_closed()


def test_unsupported_api_versions_version_gets_v0_error(broker):
    c = RawConnection(broker.port)
    payload = struct.pack(">hhi", 18, 99, 42) + struct.pack(">h", -1) + b"\x00"
    c.send(struct.pack(">i", len(payload)) + payload)
    frame = c.read_frame()
    correlation, error = struct.unpack(">ih", frame[:6])
    assert (correlation, error) == (42, 35)
    count = struct.unpack(">i", frame[6:10])[0]
    keys = [struct.unpack(">hhh", frame[10 + 6 * i:16 + 6 * i]) for i in range(count)]
    assert (18, 0, 4) in keys


def test_api_versions_v0_and_v3(broker):
    for version in (0, 3):
        c = RawConnection(broker.port)
        c.send(api_versions(version))
        frame = c.read_frame()
        assert struct.unpack(">ih", frame[:6]) == (1, 0)


def test_oversized_frame_closes_before_reading(broker):
    c = RawConnection(broker.port)
    c.send(struct.pack(">i", 200 * 1024 * 1024))  # over socket.request.max.bytes
    assert c.is_closed()
    c2 = RawConnection(broker.port)
    c2.send(struct.pack(">i", -5))
    assert c2.is_closed()
    assert healthy(broker)


def test_bad_crc_is_corrupt_message(broker, topic):
    batch = bytearray(record_batch([b"a", b"b"]))
    batch[-1] ^= 0xFF
    c = RawConnection(broker.port)
    c.send(produce_v7(topic, 0, bytes(batch)))
    assert produce_v7_error(c.read_frame()) == 2  # CORRUPT_MESSAGE
    c.send(produce_v7(topic, 0, record_batch([b"good"])))
    assert produce_v7_error(c.read_frame()) == 0


def test_truncated_batch_is_corrupt_message(broker, topic):
    batch = record_batch([b"a" * 100])
    c = RawConnection(broker.port)
    c.send(produce_v7(topic, 0, batch[:-10]))
    assert produce_v7_error(c.read_frame()) == 2


def test_wrong_record_count_is_invalid_record(broker, topic):
    batch = bytearray(record_batch([b"a", b"b", b"c"]))
    # Claim 4 records: the CRC covers the count, so recompute it to reach the count check.
    struct.pack_into(">i", batch, 57, 4)
    from kafka_wire import crc32c
    struct.pack_into(">I", batch, 17, crc32c(bytes(batch[21:])))
    c = RawConnection(broker.port)
    c.send(produce_v7(topic, 0, bytes(batch)))
    assert produce_v7_error(c.read_frame()) == 87  # INVALID_RECORD


def test_unknown_topic_and_partition(broker, topic):
    c = RawConnection(broker.port)
    c.send(produce_v7("no-such-topic-" + unique("x"), 0, record_batch([b"a"])))
    assert produce_v7_error(c.read_frame()) == 3
    c.send(produce_v7(topic, 7, record_batch([b"a"])))
    assert produce_v7_error(c.read_frame()) == 3


def test_old_magic_rejected(broker, topic):
    batch = bytearray(record_batch([b"a"]))
    batch[16] = 1
    c = RawConnection(broker.port)
    c.send(produce_v7(topic, 0, bytes(batch)))
    assert produce_v7_error(c.read_frame()) == 87  # INVALID_RECORD, as Kafka 4 answers magic < 2


def test_acks_zero_gets_no_response(broker, topic):
    c = RawConnection(broker.port)
    c.send(produce_v7(topic, 0, record_batch([b"fire-and-forget"]), acks=0, correlation_id=1))
    c.send(api_versions(0, correlation_id=2))
    frame = c.read_frame()
    assert struct.unpack(">i", frame[:4])[0] == 2  # the ApiVersions answer comes first: no Produce answer
