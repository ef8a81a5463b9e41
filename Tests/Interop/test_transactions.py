"""Transactions on a data partition, seen by librdkafka: transactional batches and COMMIT/ABORT
markers written with raw wire requests (Produce v7 with a transactional id, WriteTxnMarkers v0,
as a transaction coordinator would send them), then read by confluent-kafka consumers. With
isolation.level=read_committed none of the aborted records appear and nothing at or after an
open transaction is returned; read_uncommitted sees everything. Survives a kill -9 (the
.txnindex and the open transaction are rebuilt from the log)."""
import re
import time
import urllib.request

from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from conftest import free_port, unique
from kafka_wire import (RawConnection, produce_v7, produce_v7_error, record_batch, write_txn_markers_v0,
                        write_txn_markers_v0_error)


def port_of(b):
    return int(b.bootstrap.rsplit(":", 1)[1])


def produce(b, topic, values, producer_id=-1, transactional=False, sequence=0):
    now = int(time.time() * 1000)
    if transactional:
        batch = record_batch(values, base_timestamp=now, max_timestamp=now, attributes=0x10,
                             producer_id=producer_id, producer_epoch=0, base_sequence=sequence)
    else:
        batch = record_batch(values, base_timestamp=now, max_timestamp=now)
    c = RawConnection(port_of(b))
    try:
        c.send(produce_v7(topic, 0, batch, transactional_id="txn-interop" if transactional else None))
        assert produce_v7_error(c.read_frame()) == 0
    finally:
        c.close()


def end_transaction(b, topic, producer_id, commit):
    c = RawConnection(port_of(b))
    try:
        c.send(write_txn_markers_v0(producer_id, 0, commit, topic, 0))
        assert write_txn_markers_v0_error(c.read_frame()) == 0
    finally:
        c.close()


def read_values(bootstrap, topic, isolation):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("g"), "enable.auto.commit": False,
                  "isolation.level": isolation})
    c.assign([TopicPartition(topic, 0, 0)])
    out, idle = [], 0
    while idle < 4:
        m = c.poll(0.5)
        if m is None:
            idle += 1
            continue
        if m.error():
            idle += 1  # partition EOF and the like
            continue
        out.append(m.value())
    c.close()
    return out


def metric(port, name):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        text = r.read().decode()
    return float(re.search(rf"^{name} (\S+)$", text, re.M).group(1))


def test_read_committed_skips_aborted_records_and_stops_at_open_transactions(fresh_broker):
    metrics_port = free_port()
    b = fresh_broker(**{"metrics.listeners": f"http://127.0.0.1:{metrics_port}"})
    topic = unique("txn")
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(10)

    produce(b, topic, [b"c1"])                                                   # 0
    produce(b, topic, [b"a1", b"a2"], producer_id=9000, transactional=True)      # 1-2
    produce(b, topic, [b"c2"])                                                   # 3
    produce(b, topic, [b"k1"], producer_id=9001, transactional=True)             # 4
    produce(b, topic, [b"a3"], producer_id=9000, transactional=True, sequence=2) # 5
    end_transaction(b, topic, 9000, commit=False)                                # 6
    end_transaction(b, topic, 9001, commit=True)                                 # 7
    produce(b, topic, [b"c3"])                                                   # 8

    committed = read_values(b.bootstrap, topic, "read_committed")
    uncommitted = read_values(b.bootstrap, topic, "read_uncommitted")
    assert committed == [b"c1", b"c2", b"k1", b"c3"]
    assert uncommitted == [b"c1", b"a1", b"a2", b"c2", b"k1", b"a3", b"c3"]

    # An open transaction holds read_committed readers back at its first offset.
    produce(b, topic, [b"open"], producer_id=9002, transactional=True)           # 9
    produce(b, topic, [b"c4"])                                                   # 10
    committed = read_values(b.bootstrap, topic, "read_committed")
    assert committed == [b"c1", b"c2", b"k1", b"c3"]
    uncommitted = read_values(b.bootstrap, topic, "read_uncommitted")
    assert uncommitted[-2:] == [b"open", b"c4"]
    assert metric(metrics_port, "sluice_transactions_ongoing") == 1
    assert metric(metrics_port, "sluice_last_stable_offset_lag") == 2   # offsets 9 and 10

    # A crash: the open transaction and the aborted one are recovered from the log.
    b.kill9()
    b.start()
    committed = read_values(b.bootstrap, topic, "read_committed")
    assert committed == [b"c1", b"c2", b"k1", b"c3"]
    end_transaction(b, topic, 9002, commit=False)
    committed = read_values(b.bootstrap, topic, "read_committed")
    assert committed == [b"c1", b"c2", b"k1", b"c3", b"c4"]
    assert metric(metrics_port, "sluice_transactions_ongoing") == 0
    assert metric(metrics_port, "sluice_last_stable_offset_lag") == 0
