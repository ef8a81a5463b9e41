"""Nothing acknowledged is lost: producers with acks=all on a flush-every-message topic while the
broker is killed with SIGKILL at random moments; after each restart every acknowledged record is
present exactly once, in order, and every batch reads back intact. Plus torn-tail recovery."""
import os
import random
import threading
import time
from pathlib import Path

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from conftest import unique


def read_partition(bootstrap, topic, partition, expected_min, timeout=30):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("g"), "enable.auto.commit": False,
                  "check.crcs": True})
    c.assign([TopicPartition(topic, partition, 0)])
    out = []
    deadline = time.time() + timeout
    idle_since = time.time()
    while time.time() < deadline:
        m = c.poll(0.3)
        if m is None:
            if len(out) >= expected_min and time.time() - idle_since > 1.5:
                break
            continue
        idle_since = time.time()
        assert not m.error(), m.error()
        out.append((m.offset(), m.value()))
    c.close()
    return out


def test_kill9_loses_no_acknowledged_record(fresh_broker):
    broker = fresh_broker()
    topic = unique("crash")
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics(
        [NewTopic(topic, 2, 1, config={"flush.messages": "1"})])[topic].result(10)
    acked = {0: [], 1: []}
    lock = threading.Lock()
    stop = threading.Event()
    rng = random.Random(1234)

    def produce_loop(partition):
        seq = 0
        while not stop.is_set():
            p = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all", "linger.ms": 1,
                          "message.timeout.ms": 3000, "retries": 0, "enable.idempotence": False,
                          "reconnect.backoff.max.ms": 200})

            def report(err, msg, value):
                if err is None:
                    with lock:
                        acked[partition].append(value)

            deadline = time.time() + 1.0
            while time.time() < deadline and not stop.is_set():
                value = f"p{partition}-{seq:08d}".encode()
                seq += 1
                try:
                    p.produce(topic, value=value, partition=partition,
                              on_delivery=lambda err, msg, v=value: report(err, msg, v))
                except BufferError:
                    pass
                p.poll(0.001)
            p.flush(5)

    threads = [threading.Thread(target=produce_loop, args=(i,)) for i in (0, 1)]
    for t in threads:
        t.start()
    for _ in range(4):
        time.sleep(rng.uniform(0.5, 1.5))
        broker.kill9()
        time.sleep(rng.uniform(0.05, 0.3))
        broker.start()
    time.sleep(1.0)
    stop.set()
    for t in threads:
        t.join(30)
    # One more crash with nothing in flight: what was acknowledged must be readable right after
    # the restart, before any new write moves the high watermark.
    broker.kill9()
    broker.start()

    for partition in (0, 1):
        with lock:
            want = list(acked[partition])
        assert want, "producers got no acknowledgement at all"
        got = read_partition(broker.bootstrap, topic, partition, len(want))
        offsets = [o for o, _ in got]
        assert offsets == list(range(len(offsets))), "offsets must be dense and ordered"
        values = [v for _, v in got]
        # Every acknowledged record exactly once, and in the order of acknowledgement.
        positions = {}
        for i, v in enumerate(values):
            assert v not in positions, f"duplicate {v}"
            positions[v] = i
        missing = [v for v in want if v not in positions]
        assert not missing, f"{len(missing)} acknowledged records lost, e.g. {missing[:3]}"
        order = [positions[v] for v in want]
        assert order == sorted(order)


def test_torn_tail_recovers_valid_prefix(fresh_broker):
    broker = fresh_broker()
    topic = unique("torn")
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(10)
    p = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 0})
    for i in range(100):
        p.produce(topic, value=f"r{i:03d}".encode())
        p.flush(10)  # one batch per record
    broker.stop()
    segment = sorted((broker.data_dir / f"{topic}-0").glob("*.log"))[-1]
    size = segment.stat().st_size
    # Tear the last batch: cut it in half, then garble what remains of it.
    with open(segment, "r+b") as f:
        f.truncate(size - 20)
        f.seek(size - 40)
        f.write(b"\xff" * 10)
    for index in segment.parent.glob("*.index"):
        index.write_bytes(b"\x01\x02\x03")  # a corrupt index must be rebuilt
    broker.start()
    got = read_partition(broker.bootstrap, topic, 0, 99)
    assert [v for _, v in got] == [f"r{i:03d}".encode() for i in range(99)]
    # Appends continue right after the recovered prefix.
    p = Producer({"bootstrap.servers": broker.bootstrap})
    p.produce(topic, value=b"after")
    assert p.flush(10) == 0
    got = read_partition(broker.bootstrap, topic, 0, 100)
    assert got[-1] == (99, b"after")
