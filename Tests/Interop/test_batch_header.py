"""The broker computes a batch's maxTimestamp from its records, as Kafka's LogValidator does: a
batch whose header says 0 (sarama 1.22 sends -1, as bad) is still found by ListOffsets by timestamp."""
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from conftest import unique
from kafka_wire import RawConnection, produce_v7, produce_v7_error, record_batch


def test_list_offsets_by_timestamp_ignores_a_zero_max_timestamp_header(broker):
    topic = unique("maxts")
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(10)
    base = 1_700_000_000_000
    c = RawConnection(broker.port)
    for batch in range(2):
        c.send(produce_v7(topic, 0, record_batch([b"a", b"b", b"c"], base_timestamp=base + 1000 * batch,
                                                 timestamp_deltas=[0, 50, 20], max_timestamp=0)))
        assert produce_v7_error(c.read_frame()) == 0
    c.close()

    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": unique("g")})
    try:
        def lookup(ts):
            [tp] = consumer.offsets_for_times([TopicPartition(topic, 0, ts)], timeout=10)
            return tp.offset
        assert lookup(base) == 0
        assert lookup(base + 1) == 1  # record-exact: the record at +50
        assert lookup(base + 51) == 3  # past the first batch's largest record
        assert lookup(base + 1030) == 4
        assert lookup(base + 1051) == -1  # past the end: Kafka answers -1
        # The fetched header carries the computed value, with a CRC the client accepts.
        consumer.assign([TopicPartition(topic, 0, 0)])
        seen = []
        while len(seen) < 6:
            m = consumer.poll(10)
            assert m is not None and m.error() is None
            seen.append(m.timestamp()[1])
        assert seen == [base, base + 50, base + 20, base + 1000, base + 1050, base + 1020]
    finally:
        consumer.close()
