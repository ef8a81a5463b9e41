"""Tenant quotas with real clients (confluent-kafka / librdkafka, which honours throttle_time_ms):
byte-rate quotas hold a greedy producer and consumer near their tenant's quota while another
tenant is not slowed; topic, partition and storage limits refuse with POLICY_VIOLATION and a
message naming the limit, and recover when usage drops; a quota changed in the tenants file takes
effect without a restart; DescribeClientQuotas/AlterClientQuotas; the Prometheus endpoint.

Rates are measured after a warm-up: Kafka's sampled window lets a fresh client burst for about
one window before throttling starts, so the steady state is what the quota promises."""
import re
import struct
import threading
import time
import urllib.request

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewPartitions, NewTopic

from conftest import BrokerProcess, free_port, sluice
from kafka_wire import RawConnection, string16

USERS = ["admin", "noisy", "steady", "reader", "other-reader", "small"]
KB = 1000
PRODUCE_QUOTA = 300 * KB      # noisy
STEADY_QUOTA = 200 * KB       # steady
FETCH_QUOTA = 300 * KB        # reader

TENANTS = """\
tenant noisy
  member User:noisy
  quota produce-byte-rate {noisy_rate}

tenant steady
  member User:steady
  quota produce-byte-rate {steady_rate}

tenant reader
  member User:reader
  quota fetch-byte-rate {fetch_rate}

tenant other
  member User:other-reader

tenant small
  member User:small
  quota topics {topics}
  quota partitions 3
  quota storage-bytes 150000
"""


def tenants_text(topics=2):
    return TENANTS.format(noisy_rate=PRODUCE_QUOTA, steady_rate=STEADY_QUOTA, fetch_rate=FETCH_QUOTA, topics=topics)


def password(user):
    return f"{user}-secret"


@pytest.fixture(scope="module")
def qb(tmp_path_factory):
    root = tmp_path_factory.mktemp("quotas")
    data, policies = root / "logs", root / "policies"
    policies.mkdir()
    (policies / "quota.tenants").write_text(tenants_text())
    for user in USERS:
        sluice("users", "add", "--user", user, "--password", password(user), "--data-dir", str(data))
    metrics_port = free_port()
    broker = BrokerProcess(data, listeners=["SASL_PLAINTEXT"], overrides={
        "acls.policy.dir": str(policies),
        "super.users": "User:admin",
        "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-256",
        "metrics.listeners": f"http://127.0.0.1:{metrics_port}",
        "log.flush.scheduler.interval.ms": "200",
        "group.initial.rebalance.delay.ms": "0",
    }).start()
    broker.policies = policies
    broker.metrics_port = metrics_port
    yield broker
    broker.stop()


def conf(broker, user, **extra):
    settings = {"bootstrap.servers": broker.endpoint("SASL_PLAINTEXT"), "security.protocol": "SASL_PLAINTEXT",
                "sasl.mechanism": "PLAIN", "sasl.username": user, "sasl.password": password(user)}
    settings.update(extra)
    return settings


def create_topic(broker, user, topic, partitions=1):
    """Creates `topic` as `user`; returns None or the KafkaError."""
    admin = AdminClient(conf(broker, user))
    future = admin.create_topics([NewTopic(topic, partitions, 1)])[topic]
    try:
        future.result(timeout=30)
        return None
    except KafkaException as e:
        return e.args[0]


def metrics(broker):
    with urllib.request.urlopen(f"http://127.0.0.1:{broker.metrics_port}/metrics", timeout=10) as r:
        assert r.headers["Content-Type"].startswith("text/plain")
        return r.read().decode()


def metric(text, name, tenant):
    m = re.search(rf'^{name}{{tenant="{tenant}"}} (\S+)$', text, re.M)
    return float(m.group(1)) if m else None


class Delivered:
    """Delivery reports with their arrival time: (time, bytes)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.events = []
        self.errors = []

    def __call__(self, err, msg):
        with self.lock:
            if err:
                # Messages still queued when the greedy producer stops are purged on purpose.
                if err.code() not in (KafkaError._PURGE_QUEUE, KafkaError._PURGE_INFLIGHT):
                    self.errors.append(err)
            else:
                self.events.append((time.monotonic(), len(msg.value())))

    def rate(self, start, end):
        with self.lock:
            total = sum(n for t, n in self.events if start <= t < end)
        return total / (end - start)


def greedy_producer(broker, user, topic, until, delivered, size=10 * KB):
    """Offers far more than any quota here: librdkafka's queue is kept full until `until`."""
    p = Producer(conf(broker, user, **{"linger.ms": 5, "batch.size": 64 * 1024, "queue.buffering.max.messages": 400,
                                       "acks": "all"}))
    value = b"x" * size
    while time.monotonic() < until:
        try:
            p.produce(topic, value=value, on_delivery=delivered)
        except BufferError:
            p.poll(0.02)
            continue
        p.poll(0)
    p.purge()
    p.flush(10)


def paced_producer(broker, user, topic, rate, until, delivered, size=5 * KB):
    """Produces `rate` bytes per second, evenly, until `until`."""
    p = Producer(conf(broker, user, **{"linger.ms": 5, "acks": "all"}))
    value = b"y" * size
    start = time.monotonic()
    sent = 0
    while time.monotonic() < until:
        due = (time.monotonic() - start) * rate
        while sent + size <= due:
            p.produce(topic, value=value, on_delivery=delivered)
            sent += size
        p.poll(0.01)
    p.flush(10)


def test_produce_quota_holds_the_greedy_tenant_and_spares_the_other(qb):
    assert create_topic(qb, "noisy", "load") is None
    assert create_topic(qb, "steady", "load") is None  # the same local name in another namespace
    noisy, steady = Delivered(), Delivered()
    start = time.monotonic()
    warmup, end = start + 6, start + 16
    steady_rate = 0.7 * STEADY_QUOTA  # headroom: a paced client delayed by a busy machine catches up in bursts
    threads = [threading.Thread(target=greedy_producer, args=(qb, "noisy", "load", end, noisy)),
               threading.Thread(target=paced_producer, args=(qb, "steady", "load", steady_rate, end, steady))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not noisy.errors and not steady.errors
    held = noisy.rate(warmup, end)
    print(f"greedy producer {held:.0f} B/s (quota {PRODUCE_QUOTA}), paced {steady.rate(warmup, end):.0f}")
    assert abs(held - PRODUCE_QUOTA) / PRODUCE_QUOTA <= 0.15, f"greedy tenant at {held:.0f} B/s, quota {PRODUCE_QUOTA}"
    spared = steady.rate(warmup, end)
    assert spared >= 0.9 * steady_rate, f"steady tenant slowed to {spared:.0f} B/s from {steady_rate:.0f}"
    text = metrics(qb)
    assert metric(text, "sluice_tenant_bytes_in_total", "noisy") >= 16 * PRODUCE_QUOTA * 0.8
    assert metric(text, "sluice_tenant_throttle_time_ms_total", "noisy") > 0
    assert metric(text, "sluice_tenant_throttle_time_ms_total", "steady") == 0
    assert metric(text, "sluice_tenant_quota_producer_byte_rate", "noisy") == PRODUCE_QUOTA


def fill(broker, user, topic, total, size=10 * KB):
    p = Producer(conf(broker, user, **{"linger.ms": 10}))
    for _ in range(total // size):
        while True:
            try:
                p.produce(topic, value=b"z" * size)
                break
            except BufferError:
                p.poll(0.05)
    assert p.flush(60) == 0


def greedy_consumer(broker, user, topic, until, got):
    c = Consumer(conf(broker, user, **{"group.id": f"g-{user}", "auto.offset.reset": "earliest",
                                       "max.partition.fetch.bytes": 64 * 1024}))
    c.assign([TopicPartition(topic, 0, 0)])
    try:
        while time.monotonic() < until:
            msg = c.poll(0.2)
            if msg is not None and not msg.error():
                got(None, msg)
    finally:
        c.close()


def test_fetch_quota_holds_the_greedy_consumer_and_spares_the_other(qb):
    for user in ["reader", "other-reader"]:
        assert create_topic(qb, user, "history") is None
    fill(qb, "reader", "history", 6_000 * KB)
    fill(qb, "other-reader", "history", 3_000 * KB)
    held_events, free_events = Delivered(), Delivered()
    start = time.monotonic()
    warmup, end = start + 5, start + 15
    threads = [threading.Thread(target=greedy_consumer, args=(qb, "reader", "history", end, held_events)),
               threading.Thread(target=greedy_consumer, args=(qb, "other-reader", "history", end, free_events))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    held = held_events.rate(warmup, end)
    print(f"greedy consumer {held:.0f} B/s (quota {FETCH_QUOTA})")
    assert abs(held - FETCH_QUOTA) / FETCH_QUOTA <= 0.15, f"consumer at {held:.0f} B/s, quota {FETCH_QUOTA}"
    # The unthrottled tenant read everything it had, at full speed, while the other was held.
    with free_events.lock:
        free_bytes = sum(n for _, n in free_events.events)
        free_last = max(t for t, _ in free_events.events)
    assert free_bytes == 3_000 * KB
    assert free_last - start < 5
    text = metrics(qb)
    assert metric(text, "sluice_tenant_bytes_out_total", "reader") >= 10 * FETCH_QUOTA * 0.8
    assert metric(text, "sluice_tenant_throttle_time_ms_total", "reader") > 0


def test_topic_and_partition_limits_refuse_and_recover(qb):
    assert create_topic(qb, "small", "one", partitions=2) is None
    err = create_topic(qb, "small", "two", partitions=2)
    assert err is not None and err.code() == KafkaError.POLICY_VIOLATION
    assert "partition limit (partitions=3)" in err.str()
    assert create_topic(qb, "small", "two", partitions=1) is None
    err = create_topic(qb, "small", "three")
    assert err is not None and err.code() == KafkaError.POLICY_VIOLATION
    assert "topic limit (topics=2)" in err.str()
    admin = AdminClient(conf(qb, "small"))
    with pytest.raises(KafkaException) as raised:
        admin.create_partitions([NewPartitions("two", 2)])["two"].result(timeout=30)
    assert raised.value.args[0].code() == KafkaError.POLICY_VIOLATION
    # Deleting a topic lowers usage: creation works again; what exists was never touched.
    admin.delete_topics(["two"])["two"].result(timeout=30)
    assert create_topic(qb, "small", "three") is None
    md = admin.list_topics(timeout=10).topics
    assert len(md["one"].partitions) == 2


def test_storage_limit_refuses_produce_and_recovers(qb):
    err = create_topic(qb, "small", "three")  # exists already after the test above
    assert err is None or err.code() == KafkaError.TOPIC_ALREADY_EXISTS
    errors = []
    p = Producer(conf(qb, "small", **{"linger.ms": 0, "retries": 0, "acks": "all"}))
    deadline = time.time() + 20
    while time.time() < deadline and not errors:
        p.produce("three", value=b"s" * 20 * KB,
                  on_delivery=lambda err, msg: errors.append(err) if err else None)
        p.flush(10)
        time.sleep(0.05)
    assert errors, "the storage limit never refused a produce"
    # librdkafka reports only the code; the answer's message names the limit ("Tenant small has
    # reached its storage limit (storage-bytes=150000).", docs/quotas.md).
    assert errors[0].code() == KafkaError.POLICY_VIOLATION
    # Dropping the data (deleting the topic) lowers the usage; produce works again.
    admin = AdminClient(conf(qb, "small"))
    admin.delete_topics(["three"])["three"].result(timeout=30)
    assert create_topic(qb, "small", "four") is None
    ok = []
    deadline = time.time() + 10
    while time.time() < deadline and not ok:
        p.produce("four", value=b"ok", on_delivery=lambda err, msg: ok.append(err))
        p.flush(10)
        if ok and ok[-1] is not None:
            ok.clear()
            time.sleep(0.3)
    assert ok == [None]


def test_changed_quota_file_takes_effect_without_restart(qb):
    admin = AdminClient(conf(qb, "small"))
    existing = [t for t in admin.list_topics(timeout=10).topics if not t.startswith("__")]
    for t in existing:
        admin.delete_topics([t])[t].result(timeout=30)
    assert create_topic(qb, "small", "a") is None
    assert create_topic(qb, "small", "b") is None
    err = create_topic(qb, "small", "c")
    assert err is not None and err.code() == KafkaError.POLICY_VIOLATION
    (qb.policies / "quota.tenants").write_text(tenants_text(topics=3))
    deadline = time.time() + 10
    while time.time() < deadline:
        err = create_topic(qb, "small", "c")
        if err is None:
            break
        time.sleep(0.3)
    assert err is None, f"the raised limit did not take effect: {err}"
    assert metric(metrics(qb), "sluice_tenant_quota_topics", "small") == 3


def describe_client_quotas(port, tenant):
    body = struct.pack(">i", 1) + string16("user") + struct.pack(">b", 0) + string16(tenant) + b"\x00"
    header = struct.pack(">hhi", 48, 0, 11) + string16("quota-test")
    conn = RawConnection(port)
    conn.send(struct.pack(">i", len(header + body)) + header + body)
    frame = conn.read_frame()
    conn.close()
    off = 4 + 4
    error, = struct.unpack(">h", frame[off:off + 2])
    off += 2
    n, = struct.unpack(">h", frame[off:off + 2])
    off += 2 + max(0, n)
    count, = struct.unpack(">i", frame[off:off + 4])
    off += 4
    result = {}
    for _ in range(max(0, count)):
        entities, = struct.unpack(">i", frame[off:off + 4])
        off += 4
        name = None
        for _ in range(entities):
            n, = struct.unpack(">h", frame[off:off + 2])
            off += 2 + n
            n, = struct.unpack(">h", frame[off:off + 2])
            name = frame[off + 2:off + 2 + n].decode()
            off += 2 + max(0, n)
        values, = struct.unpack(">i", frame[off:off + 4])
        off += 4
        for _ in range(values):
            n, = struct.unpack(">h", frame[off:off + 2])
            key = frame[off + 2:off + 2 + n].decode()
            off += 2 + n
            value, = struct.unpack(">d", frame[off:off + 8])
            off += 8
            result[(name, key)] = value
    return error, result


def alter_client_quota(port, tenant, key, value, remove=False):
    body = (struct.pack(">i", 1) + struct.pack(">i", 1) + string16("user") + string16(tenant)
            + struct.pack(">i", 1) + string16(key) + struct.pack(">d", value) + (b"\x01" if remove else b"\x00")
            + b"\x00")
    header = struct.pack(">hhi", 49, 0, 12) + string16("quota-test")
    conn = RawConnection(port)
    conn.send(struct.pack(">i", len(header + body)) + header + body)
    frame = conn.read_frame()
    conn.close()
    count, = struct.unpack(">i", frame[8:12])
    assert count == 1
    error, = struct.unpack(">h", frame[12:14])
    return error


def test_describe_and_alter_client_quotas_map_to_tenants(qb):
    # The PLAINTEXT listener's ANONYMOUS principal belongs to no tenant: an operator here.
    error, values = describe_client_quotas(qb.port, "noisy")
    assert error == 0
    assert values == {("noisy", "producer_byte_rate"): PRODUCE_QUOTA}
    assert alter_client_quota(qb.port, "noisy", "producer_byte_rate", 123456) == 0
    assert describe_client_quotas(qb.port, "noisy")[1] == {("noisy", "producer_byte_rate"): 123456}
    assert metric(metrics(qb), "sluice_tenant_quota_producer_byte_rate", "noisy") == 123456
    assert alter_client_quota(qb.port, "nobody", "producer_byte_rate", 1) == 42  # INVALID_REQUEST
    assert alter_client_quota(qb.port, "noisy", "producer_byte_rate", 0, remove=True) == 0
    assert describe_client_quotas(qb.port, "noisy")[1] == {("noisy", "producer_byte_rate"): PRODUCE_QUOTA}


def test_metrics_endpoint_reports_broker_totals_and_connections(qb):
    for user in ["noisy", "steady"]:
        create_topic(qb, user, "load")  # exists already when the rate tests ran
    p = Producer(conf(qb, "noisy"))
    p.produce("load", value=b"m")
    p.flush(10)
    p = Producer(conf(qb, "steady"))
    p.produce("load", value=b"m")
    p.flush(10)
    text = metrics(qb)
    assert re.search(r"^sluice_requests_total \d+$", text, re.M)
    assert re.search(r"^sluice_bytes_in_total \d+$", text, re.M)
    assert metric(text, "sluice_tenant_connections", "steady") >= 1
    assert metric(text, "sluice_tenant_partitions", "noisy") == 1
    assert metric(text, "sluice_tenant_storage_bytes", "noisy") > 0
    usage = sluice("tenants", "usage", "--metrics", f"http://127.0.0.1:{qb.metrics_port}").stdout
    lines = {line.split()[0]: line for line in usage.splitlines()[1:]}
    assert set(lines) >= {"noisy", "steady", "reader", "other", "small"}
    assert "/293.0KiB" in lines["noisy"]  # the produce quota (300 000 B/s)
