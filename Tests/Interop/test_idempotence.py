"""Idempotent producers: resent batches are answered with their original offsets and never
written twice — within a run, across kill -9 and across a clean restart. Driven by our Swift
client (`sluice produce --idempotent --send-each-batch`), plus librdkafka's own idempotent producer."""
import re

from confluent_kafka import Consumer, Producer, TopicPartition

from conftest import unique
from test_sluice_cli import sluice


def count_records(bootstrap, topic):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("g"), "enable.auto.commit": False})
    low, high = c.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
    c.close()
    return high - low


def produce(b, topic, lines, *extra):
    r = sluice("produce", "--topic", topic, "--bootstrap-server", b.bootstrap, "--idempotent",
               "--batch-records", "10", *extra, input="".join(f"r{i}\n" for i in lines).encode())
    return r.stderr.decode()


def test_resent_batches_are_not_duplicated_across_restarts(fresh_broker):
    b = fresh_broker()
    topic = unique("idem")
    sluice("topics", "create", "--topic", topic, "--bootstrap-server", b.bootstrap)
    out = produce(b, topic, range(50), "--send-each-batch", "3")
    assert "produced 50 records in 5 batches" in out and "10 resent batches answered" in out
    producer_id = re.search(r"as producer (\d+) epoch (\d+)", out).group(1)
    assert count_records(b.bootstrap, topic) == 50

    same = ("--producer-id", producer_id, "--producer-epoch", "0", "--sequence", "0")
    # The same five batches again (a producer retrying everything): all answered, none written.
    produce(b, topic, range(50), *same)
    assert count_records(b.bootstrap, topic) == 50

    b.kill9()
    b.start()
    produce(b, topic, range(50), *same)
    assert count_records(b.bootstrap, topic) == 50

    b.stop()
    b.start()
    produce(b, topic, range(50), *same)
    assert count_records(b.bootstrap, topic) == 50

    # The next sequence is accepted; a gap is refused with OUT_OF_ORDER_SEQUENCE_NUMBER.
    produce(b, topic, range(10), "--producer-id", producer_id, "--producer-epoch", "0", "--sequence", "50")
    assert count_records(b.bootstrap, topic) == 60
    gap = sluice("produce", "--topic", topic, "--bootstrap-server", b.bootstrap, "--idempotent",
                 "--producer-id", producer_id, "--producer-epoch", "0", "--sequence", "99", input=b"x\n", check=False)
    assert gap.returncode != 0 and b"OUT_OF_ORDER_SEQUENCE_NUMBER" in gap.stderr
    # An older epoch of a producer that moved on is fenced.
    produce(b, topic, range(1), "--producer-id", producer_id, "--producer-epoch", "1", "--sequence", "0")
    old = sluice("produce", "--topic", topic, "--bootstrap-server", b.bootstrap, "--idempotent",
                 "--producer-id", producer_id, "--producer-epoch", "0", "--sequence", "60", input=b"x\n", check=False)
    assert old.returncode != 0 and b"INVALID_PRODUCER_EPOCH" in old.stderr


def test_librdkafka_idempotent_producer(broker):
    topic = unique("idem-rdk")
    sluice("topics", "create", "--topic", topic, "--partitions", "2", "--bootstrap-server", broker.bootstrap)
    p = Producer({"bootstrap.servers": broker.bootstrap, "enable.idempotence": True, "linger.ms": 2})
    for i in range(2000):
        p.produce(topic, value=f"{i}".encode(), partition=i % 2)
    assert p.flush(20) == 0
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": unique("g"), "enable.auto.commit": False})
    total = sum(c.get_watermark_offsets(TopicPartition(topic, part), timeout=10)[1] for part in (0, 1))
    c.close()
    assert total == 2000
