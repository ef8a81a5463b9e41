"""Log compaction with real clients: a compacted topic keeps the last value per key, drops
tombstones once delete.retention.ms has passed, and refuses records without a key."""
import time

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from conftest import unique


def read_all(bootstrap, topic):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("g"), "enable.auto.commit": False})
    c.assign([TopicPartition(topic, 0, 0)])
    out, idle = [], 0
    while idle < 4:
        m = c.poll(0.5)
        if m is None:
            idle += 1
            continue
        assert not m.error(), m.error()
        out.append((m.offset(), m.key(), m.value()))
    c.close()
    return out


def test_compacted_topic_keeps_last_value_and_drops_tombstones(fresh_broker):
    b = fresh_broker(**{"log.cleaner.backoff.ms": "200"})
    topic = unique("compact")
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    admin.create_topics([NewTopic(topic, 1, 1, config={
        "cleanup.policy": "compact", "segment.ms": "100", "min.cleanable.dirty.ratio": "0.01",
        "delete.retention.ms": "1500"})])[topic].result(10)
    p = Producer({"bootstrap.servers": b.bootstrap, "linger.ms": 0})
    for round in range(5):
        for k in range(10):
            value = None if (k == 3 and round == 4) else f"v{round}".encode()
            p.produce(topic, key=f"k{k}".encode(), value=value)
        p.flush(10)
        time.sleep(0.15)  # the next round rolls a new segment (segment.ms)

    def filler(n):
        for _ in range(n):
            p.produce(topic, key=b"filler", value=b"x")
            p.flush(10)
            time.sleep(0.15)

    filler(3)
    deadline = time.time() + 20
    while time.time() < deadline:
        records = read_all(b.bootstrap, topic)
        keys = [k for _, k, _ in records if k != b"filler"]
        if len(keys) == len(set(keys)):
            break
        time.sleep(0.5)
    assert len(keys) == len(set(keys)), "every key once after compaction"
    latest = {k: v for _, k, v in records}
    for k in range(10):
        if k != 3:
            assert latest[f"k{k}".encode()] == b"v4"
    assert latest.get(b"k3", "absent") is None  # the tombstone is still there (young)
    offsets = [o for o, _, _ in records]
    assert offsets == sorted(offsets) and offsets[-1] > 40  # offsets never move

    # Once delete.retention.ms has passed, a later clean removes the tombstone itself.
    time.sleep(1.6)
    filler(4)
    deadline = time.time() + 20
    while time.time() < deadline and b"k3" in {k for _, k, _ in read_all(b.bootstrap, topic)}:
        filler(1)
    assert b"k3" not in {k for _, k, _ in read_all(b.bootstrap, topic)}

    # Records without a key are refused on a compacted topic.
    errors = []
    p.produce(topic, value=b"no key", on_delivery=lambda e, m: errors.append(e))
    p.flush(10)
    assert errors and errors[0] is not None and errors[0].name() == "INVALID_RECORD"
