"""kafka-python against a real sluice process: codecs, keys, headers, null values, offsets by
timestamp and the admin client."""
import time

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, NewPartitions, NewTopic
from kafka.errors import InvalidConfigurationError, TopicAlreadyExistsError

from conftest import unique


def consumer(broker, topic, partitions=(0,)):
    c = KafkaConsumer(bootstrap_servers=broker.bootstrap, enable_auto_commit=False, group_id=None,
                      consumer_timeout_ms=5000, auto_offset_reset="earliest")
    c.assign([TopicPartition(topic, p) for p in partitions])
    c.seek_to_beginning()
    return c


def admin(broker):
    return KafkaAdminClient(bootstrap_servers=broker.bootstrap)


@pytest.mark.parametrize("codec", [None, "gzip", "snappy", "lz4", "zstd"])
def test_produce_consume_each_codec(broker, codec):
    topic = unique(f"kp-{codec}")
    admin(broker).create_topics([NewTopic(topic, 2, 1)])
    p = KafkaProducer(bootstrap_servers=broker.bootstrap, compression_type=codec, linger_ms=5, acks="all")
    sent = []
    for i in range(300):
        key = f"k{i}".encode()
        value = f"v{i}".encode() * (1 + i % 7)
        p.send(topic, key=key, value=value, partition=i % 2, headers=[("hdr", str(i).encode())])
        sent.append((key, value))
    p.flush(20)
    p.close()
    c = consumer(broker, topic, (0, 1))
    got = [m for m in c]
    c.close()
    assert sorted((m.key, m.value) for m in got) == sorted(sent)
    assert {m.key: m.headers for m in got}[b"k5"] == [("hdr", b"5")]


def test_null_values_and_timestamps(broker):
    topic = unique("kp-null")
    admin(broker).create_topics([NewTopic(topic, 1, 1)])
    p = KafkaProducer(bootstrap_servers=broker.bootstrap)
    base = int(time.time() * 1000) - 50_000
    for i in range(5):
        p.send(topic, key=b"k", value=None if i == 2 else b"x", timestamp_ms=base + i * 1000).get(10)
    p.close()
    c = consumer(broker, topic)
    got = [m for m in c]
    assert [m.value for m in got] == [b"x", b"x", None, b"x", b"x"]
    assert [m.timestamp for m in got] == [base + i * 1000 for i in range(5)]
    tp = TopicPartition(topic, 0)
    found = c.offsets_for_times({tp: base + 2500})
    assert found[tp].offset == 3
    assert c.end_offsets([tp])[tp] == 5
    assert c.beginning_offsets([tp])[tp] == 0
    c.close()


def test_admin_client(broker):
    a = admin(broker)
    topic = unique("kp-admin")
    a.create_topics([NewTopic(topic, 1, 1, topic_configs={"cleanup.policy": "delete"})])
    with pytest.raises(TopicAlreadyExistsError):
        a.create_topics([NewTopic(topic, 1, 1)])
    with pytest.raises(InvalidConfigurationError):
        a.create_topics([NewTopic(unique("kp-bad"), 1, 1, topic_configs={"segment.bytes": "-5"})])
    assert topic in a.list_topics()
    a.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, configs={"retention.ms": "123456"})])
    described = a.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    entries = {}
    for response in described:
        for resource in response.resources:
            for entry in resource[4]:
                entries[entry[0]] = entry[1]
    assert entries["retention.ms"] == "123456"
    a.create_partitions({topic: NewPartitions(3)})
    assert len(a.describe_topics([topic])[0]["partitions"]) == 3
    a.delete_topics([topic])
    assert topic not in a.list_topics()
    a.close()
