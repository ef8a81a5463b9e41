"""librdkafka (confluent-kafka) against a real sluice process: produce/consume with every codec,
keys, headers, null values, large batches, offsets by timestamp and the admin API."""
import time

import pytest
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import (AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, NewPartitions,
                                   NewTopic)

from conftest import unique


def admin(broker):
    return AdminClient({"bootstrap.servers": broker.bootstrap})


def create(broker, name, partitions=1, config=None):
    client = admin(broker)  # keep the handle alive until the future resolves
    futures = client.create_topics([NewTopic(name, partitions, 1, config=config or {})])
    futures[name].result(10)


def consume_all(broker, topic, count, partitions=(0,), timeout=20):
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": unique("g"), "enable.auto.commit": False})
    c.assign([TopicPartition(topic, p, 0) for p in partitions])
    out = []
    deadline = time.time() + timeout
    while len(out) < count and time.time() < deadline:
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            raise KafkaException(m.error())
        out.append(m)
    c.close()
    return out


@pytest.mark.parametrize("codec", ["none", "gzip", "snappy", "lz4", "zstd"])
def test_produce_consume_each_codec(broker, codec):
    topic = unique(f"cfk-{codec}")
    create(broker, topic, partitions=2)
    p = Producer({"bootstrap.servers": broker.bootstrap, "compression.codec": codec, "linger.ms": 5,
                  "acks": "all"})
    sent = []
    for i in range(500):
        key = f"k{i}".encode()
        value = (f"value-{i}-" + "x" * (i % 50)).encode()
        p.produce(topic, key=key, value=value, partition=i % 2, headers=[("h", f"{i}".encode())])
        sent.append((key, value))
    assert p.flush(20) == 0
    got = consume_all(broker, topic, 500, partitions=(0, 1))
    assert len(got) == 500
    assert sorted((m.key(), m.value()) for m in got) == sorted(sent)
    by_key = {m.key(): m for m in got}
    assert by_key[b"k7"].headers() == [("h", b"7")]
    for part in (0, 1):
        offsets = [m.offset() for m in got if m.partition() == part]
        assert offsets == list(range(len(offsets)))


def test_null_values_and_keys(broker):
    topic = unique("cfk-null")
    create(broker, topic)
    p = Producer({"bootstrap.servers": broker.bootstrap})
    p.produce(topic, key=None, value=b"no key")
    p.produce(topic, key=b"tombstone", value=None)
    p.produce(topic, key=b"", value=b"")
    assert p.flush(10) == 0
    got = consume_all(broker, topic, 3)
    assert [(m.key(), m.value()) for m in got] == [(None, b"no key"), (b"tombstone", None), (b"", b"")]


def test_large_batch_up_to_max_message_bytes(broker):
    topic = unique("cfk-large")
    create(broker, topic, config={"max.message.bytes": "2000000"})
    p = Producer({"bootstrap.servers": broker.bootstrap, "message.max.bytes": 1900000, "batch.size": 1900000,
                  "linger.ms": 50})
    big = b"y" * 1_800_000
    p.produce(topic, value=big)
    assert p.flush(20) == 0
    got = consume_all(broker, topic, 1)
    assert got[0].value() == big

    # Over the topic limit: MESSAGE_TOO_LARGE reaches the delivery report.
    errors = []
    p2 = Producer({"bootstrap.servers": broker.bootstrap, "message.max.bytes": 3_000_000})
    p2.produce(topic, value=b"z" * 2_500_000, on_delivery=lambda err, msg: errors.append(err))
    p2.flush(20)
    assert errors and errors[0] is not None
    assert errors[0].name() == "MSG_SIZE_TOO_LARGE"


def test_offsets_for_times(broker):
    topic = unique("cfk-times")
    create(broker, topic)
    p = Producer({"bootstrap.servers": broker.bootstrap})
    base = int(time.time() * 1000) - 100_000
    for i in range(10):
        p.produce(topic, value=f"{i}".encode(), timestamp=base + i * 1000)
        p.flush(10)
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": unique("g"), "enable.auto.commit": False})
    found = c.offsets_for_times([TopicPartition(topic, 0, base + 4500)], timeout=10)
    assert found[0].offset == 5
    later = c.offsets_for_times([TopicPartition(topic, 0, base + 999_999)], timeout=10)
    assert later[0].offset == -1
    low, high = c.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
    assert (low, high) == (0, 10)
    c.close()


def test_admin_api(broker):
    a = admin(broker)
    topic = unique("cfk-admin")
    a.create_topics([NewTopic(topic, 2, 1, config={"retention.ms": "3600000"})])[topic].result(10)

    # Duplicate and invalid requests get Kafka's errors.
    with pytest.raises(KafkaException) as e:
        a.create_topics([NewTopic(topic, 1, 1)])[topic].result(10)
    assert e.value.args[0].name() == "TOPIC_ALREADY_EXISTS"
    bad = unique("bad")
    futures = a.create_topics([NewTopic(bad, 1, 1, config={"retention.ms": "soon"})])
    with pytest.raises(KafkaException) as e:
        futures[bad].result(10)
    assert e.value.args[0].name() == "INVALID_CONFIG"
    rf = unique("rf")
    futures = a.create_topics([NewTopic(rf, 1, 3)])
    with pytest.raises(KafkaException) as e:
        futures[rf].result(10)
    assert e.value.args[0].name() == "INVALID_REPLICATION_FACTOR"

    md = a.list_topics(timeout=10)
    assert topic in md.topics and len(md.topics[topic].partitions) == 2

    res = ConfigResource(ConfigResource.Type.TOPIC, topic)
    configs = a.describe_configs([res])[res].result(10)
    assert configs["retention.ms"].value == "3600000"
    assert configs["cleanup.policy"].value == "delete"

    res2 = ConfigResource(ConfigResource.Type.TOPIC, topic,
                          incremental_configs=[ConfigEntry("retention.ms", "7200000",
                                                           incremental_operation=AlterConfigOpType.SET)])
    a.incremental_alter_configs([res2])[res2].result(10)
    assert a.describe_configs([res])[res].result(10)["retention.ms"].value == "7200000"

    bad = ConfigResource(ConfigResource.Type.TOPIC, topic,
                         incremental_configs=[ConfigEntry("no.such.config", "1",
                                                          incremental_operation=AlterConfigOpType.SET)])
    with pytest.raises(KafkaException) as e:
        a.incremental_alter_configs([bad])[bad].result(10)
    assert e.value.args[0].name() == "INVALID_CONFIG"

    a.create_partitions([NewPartitions(topic, 4)])[topic].result(10)
    assert len(a.list_topics(topic, timeout=10).topics[topic].partitions) == 4

    broker_res = ConfigResource(ConfigResource.Type.BROKER, "1")
    broker_configs = a.describe_configs([broker_res])[broker_res].result(10)
    assert broker_configs["message.max.bytes"].value == "1048588"

    a.delete_topics([topic])[topic].result(10)
    assert topic not in a.list_topics(timeout=10).topics


def test_delete_records(broker):
    a = admin(broker)
    topic = unique("cfk-delrec")
    create(broker, topic)
    p = Producer({"bootstrap.servers": broker.bootstrap})
    for i in range(20):
        p.produce(topic, value=b"v")
    p.flush(10)
    result = a.delete_records([TopicPartition(topic, 0, 12)])
    tp_result = list(result.values())[0].result(10)
    assert tp_result.low_watermark == 12
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": unique("g"), "enable.auto.commit": False})
    assert c.get_watermark_offsets(TopicPartition(topic, 0), timeout=10) == (12, 20)
    c.close()


def test_auto_create_and_leader_epoch(fresh_broker):
    b = fresh_broker(**{"auto.create.topics.enable": "true", "num.partitions": "3"})
    p = Producer({"bootstrap.servers": b.bootstrap})
    p.produce("auto-created", value=b"v")
    assert p.flush(15) == 0
    md = AdminClient({"bootstrap.servers": b.bootstrap}).list_topics(timeout=10)
    assert len(md.topics["auto-created"].partitions) == 3
    # librdkafka validates positions with OffsetForLeaderEpoch when it knows the leader epoch.
    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": unique("g"), "enable.auto.commit": False})
    part = [pt for pt in range(3) if c.get_watermark_offsets(TopicPartition("auto-created", pt), timeout=10)[1] == 1]
    assert len(part) == 1
    c.assign([TopicPartition("auto-created", part[0], 0)])
    m = None
    deadline = time.time() + 15
    while m is None and time.time() < deadline:
        m = c.poll(0.5)
    assert m is not None and not m.error() and m.value() == b"v"
    assert m.leader_epoch() == 0
    c.close()


def test_auto_create_off_by_default(broker):
    p = Producer({"bootstrap.servers": broker.bootstrap, "message.timeout.ms": 3000})
    errors = []
    p.produce(unique("never-created"), value=b"v", on_delivery=lambda e, m: errors.append(e))
    p.flush(10)
    assert errors and errors[0] is not None
    assert unique("x") not in AdminClient({"bootstrap.servers": broker.bootstrap}).list_topics(timeout=10).topics
