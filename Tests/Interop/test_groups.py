"""Consumer groups against a real broker: rebalances with confluent-kafka and kafka-python,
static membership, committed offsets across kill -9, a restart mid-rebalance, the groups CLI.

Consumers run in one polling thread each (as applications do: a synchronous commit or an
incremental-rebalance callback of one member must not stall the others), except where a test
drives them round robin from one thread to decide who polls when. A record counts as consumed only once its offset commit succeeded: that is the exactly-once
the group protocol promises (an uncommitted record is redelivered to the partition's next owner).
"""
import subprocess
import threading
import time

import pytest
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from conftest import SLUICE_BIN, BrokerProcess, unique

# Short timeouts so that rebalances take a fraction of a second, not Kafka's defaults.
GROUP_OVERRIDES = {
    "group.initial.rebalance.delay.ms": "200",
    "group.min.session.timeout.ms": "1000",
    "offsets.topic.num.partitions": "5",
}


@pytest.fixture(scope="module")
def gbroker(tmp_path_factory):
    b = BrokerProcess(tmp_path_factory.mktemp("groups") / "logs", GROUP_OVERRIDES).start()
    yield b
    b.stop()


def create_topic(bootstrap, topic, partitions):
    admin = AdminClient({"bootstrap.servers": bootstrap})  # must outlive the future
    admin.create_topics([NewTopic(topic, partitions, 1)])[topic].result(10)


def produce(bootstrap, topic, start, count, partitions):
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    for i in range(start, start + count):
        p.produce(topic, value=str(i).encode(), partition=i % partitions)
    assert p.flush(15) == 0


class TrackedConsumer(Consumer):
    """A consumer that remembers its assignment and how often it was assigned partitions."""
    assigned: list
    assign_calls: int


def ck_consumer(bootstrap, group, topic, strategy="range", ledger=None, **extra):
    conf = {"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False,
            "auto.offset.reset": "earliest", "session.timeout.ms": 6000, "heartbeat.interval.ms": 200,
            "partition.assignment.strategy": strategy, "topic.metadata.refresh.interval.ms": 1000}
    conf.update(extra)
    c = TrackedConsumer(conf)
    c.assigned = []
    c.assign_calls = 0

    def on_assign(consumer, partitions):
        if ledger is not None:
            ledger.forget(c, partitions)
        c.assign_calls += 1
        c.assigned = sorted(p.partition for p in partitions) if strategy == "range" else \
            sorted(set(c.assigned) | {p.partition for p in partitions})

    def on_revoke(consumer, partitions):
        c.assigned = [] if strategy == "range" else sorted(set(c.assigned) - {p.partition for p in partitions})

    c.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke)
    return c


class Ledger:
    """Records processed with a successful commit; duplicates are kept to be reported.

    After a failed commit the consumer seeks back to the record, but librdkafka may already hold
    later records of that partition in its queue; they are skipped until the record comes again,
    so a later commit can never jump over a record the ledger did not count.
    """

    def __init__(self):
        self.seen = []
        self.failed_commits = 0
        self.rewound = {}  # (consumer id, topic, partition) -> offset that must come next

    def ck_poll(self, consumer, timeout=0.05):
        m = consumer.poll(timeout)
        if m is None or m.error():
            return
        key = (id(consumer), m.topic(), m.partition())
        want = self.rewound.get(key)
        if want is not None:
            if m.offset() != want:
                return
            del self.rewound[key]
        try:
            consumer.commit(message=m, asynchronous=False)
        except KafkaException:
            # Not committed (rebalancing): read it again, here or at the partition's next owner.
            self.failed_commits += 1
            try:
                consumer.seek(TopicPartition(m.topic(), m.partition(), m.offset()))
                self.rewound[key] = m.offset()
            except KafkaException:
                pass  # no longer ours: the next owner starts from the last committed offset
            return
        self.seen.append(int(m.value()))

    def forget(self, consumer, partitions):
        """A (re)assigned partition starts from its committed offset: no rewind applies."""
        for p in partitions:
            self.rewound.pop((id(consumer), p.topic, p.partition), None)

    def check(self, expected):
        dupes = len(self.seen) - len(set(self.seen))
        missing = set(range(expected)) - set(self.seen)
        assert dupes == 0 and not missing, f"{dupes} duplicates, missing {sorted(missing)[:20]}"


def drive(poll, consumers, until, timeout=30):
    deadline = time.time() + timeout
    while not until():
        assert time.time() < deadline, "timed out: " + ", ".join(
            str(getattr(c, "assigned", None)) for c in consumers)
        for c in consumers:
            poll(c)


class PollThreads:
    """One polling thread per consumer, as applications run them. A synchronous commit or a
    rebalance callback of one member then never stalls another member's poll loop (librdkafka
    holds a cooperative member's commits until its incremental rebalance is served)."""

    def __init__(self, poll):
        self.poll = poll
        self.threads = {}

    def start(self, consumer):
        stop = threading.Event()

        def run():
            while not stop.is_set():
                self.poll(consumer)

        t = threading.Thread(target=run, daemon=True)
        t.start()
        self.threads[id(consumer)] = (t, stop)

    def stop(self, consumer):
        t, stop = self.threads.pop(id(consumer))
        stop.set()
        t.join(30)

    def wait(self, until, consumers, timeout=40):
        deadline = time.time() + timeout
        while not until():
            assert time.time() < deadline, "timed out: " + ", ".join(
                str(getattr(c, "assigned", None)) for c in consumers)
            time.sleep(0.02)


def describe(bootstrap, group):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    return admin.describe_consumer_groups([group])[group].result(10)


@pytest.mark.parametrize("strategy", ["range", "cooperative-sticky"])
def test_confluent_group_rebalances_exactly_once(gbroker, strategy):
    topic, group = unique("grp"), unique("g")
    bs = gbroker.bootstrap
    create_topic(bs, topic, 6)
    produce(bs, topic, 0, 300, 6)
    ledger = Ledger()
    lock = threading.Lock()

    def poll(consumer):
        m = consumer.poll(0.05)
        if m is None or m.error():
            return
        # The ledger is shared by the polling threads; commits stay outside the lock.
        key = (id(consumer), m.topic(), m.partition())
        with lock:
            want = ledger.rewound.get(key)
            if want is not None and m.offset() != want:
                return
            ledger.rewound.pop(key, None)
        try:
            consumer.commit(message=m, asynchronous=False)
        except KafkaException:
            with lock:
                ledger.failed_commits += 1
            try:
                consumer.seek(TopicPartition(m.topic(), m.partition(), m.offset()))
                with lock:
                    ledger.rewound[key] = m.offset()
            except KafkaException:
                pass
            return
        with lock:
            ledger.seen.append(int(m.value()))

    threads = PollThreads(poll)
    seen = lambda: len(ledger.seen)  # noqa: E731
    a = ck_consumer(bs, group, topic, strategy, ledger=ledger)
    threads.start(a)
    threads.wait(lambda: seen() >= 60, [a])
    b = ck_consumer(bs, group, topic, strategy, ledger=ledger)
    threads.start(b)
    threads.wait(lambda: b.assigned and seen() >= 120, [a, b])
    c = ck_consumer(bs, group, topic, strategy, ledger=ledger)
    threads.start(c)
    threads.wait(lambda: c.assigned and seen() >= 180, [a, b, c])
    produce(bs, topic, 300, 300, 6)
    threads.wait(lambda: len(a.assigned) + len(b.assigned) + len(c.assigned) == 6 and seen() >= 400, [a, b, c])
    desc = describe(bs, group)
    assert len(desc.members) == 3 and str(desc.state).endswith("STABLE")
    threads.stop(b)
    b.close()  # LeaveGroup: a and c take over b's partitions
    threads.wait(lambda: seen() >= 600 and len(a.assigned) + len(c.assigned) == 6, [a, c])
    for x in (a, c):
        threads.stop(x)
    ledger.check(600)
    for x in (a, c):
        x.close()
    assert str(describe(bs, group).state).endswith("EMPTY")


def test_kafka_python_group_rebalances_exactly_once(gbroker):
    from kafka import KafkaConsumer
    from kafka.errors import KafkaError
    from kafka.structs import OffsetAndMetadata

    topic, group = unique("kpgrp"), unique("g")
    bs = gbroker.bootstrap
    create_topic(bs, topic, 6)
    produce(bs, topic, 0, 300, 6)
    ledger = Ledger()

    def make():
        return KafkaConsumer(topic, bootstrap_servers=bs, group_id=group, enable_auto_commit=False,
                             auto_offset_reset="earliest", session_timeout_ms=6000, heartbeat_interval_ms=200,
                             max_poll_records=20)

    def poll(consumer):
        for tp, messages in consumer.poll(timeout_ms=50).items():
            for m in messages:
                try:
                    consumer.commit({tp: OffsetAndMetadata(m.offset + 1, None, -1)})
                except KafkaError:
                    # Rebalancing: read the rest again, here or at the partition's next owner.
                    try:
                        consumer.seek(tp, m.offset)
                    except Exception:
                        pass
                    break
                ledger.seen.append(int(m.value))

    def owned(*consumers):
        return sum(len(c.assignment()) for c in consumers)

    a = make()
    drive(poll, [a], lambda: len(ledger.seen) >= 60)
    b = make()
    drive(poll, [a, b], lambda: b.assignment() and len(ledger.seen) >= 120)
    c = make()
    drive(poll, [a, b, c], lambda: c.assignment() and owned(a, b, c) == 6 and len(ledger.seen) >= 180)
    produce(bs, topic, 300, 300, 6)
    drive(poll, [a, b, c], lambda: len(ledger.seen) >= 400)
    b.close()
    drive(poll, [a, c], lambda: len(ledger.seen) >= 600 and owned(a, c) == 6)
    ledger.check(600)
    a.close()
    c.close()


def test_static_member_restart_without_rebalance(gbroker):
    topic, group = unique("static"), unique("g")
    bs = gbroker.bootstrap
    create_topic(bs, topic, 6)
    produce(bs, topic, 0, 60, 6)
    ledger = Ledger()
    members = {i: ck_consumer(bs, group, topic, **{"group.instance.id": f"inst-{i}"}) for i in range(3)}
    drive(ledger.ck_poll, members.values(),
          lambda: sum(len(c.assigned) for c in members.values()) == 6 and len(ledger.seen) >= 60)
    before = {i: (c.assigned, c.assign_calls) for i, c in members.items()}
    ids_before = {m.group_instance_id: m.member_id for m in describe(bs, group).members}

    members[1].close()  # static members send no LeaveGroup: the group keeps inst-1's place
    members[1] = ck_consumer(bs, group, topic, **{"group.instance.id": "inst-1"})
    produce(bs, topic, 60, 60, 6)
    drive(ledger.ck_poll, members.values(), lambda: members[1].assigned and len(ledger.seen) >= 120)
    time.sleep(1.0)  # several heartbeats: a rebalance would show up as new assign calls
    for _ in range(10):
        for c in members.values():
            ledger.ck_poll(c)
    assert members[1].assigned == before[1][0]
    for i in (0, 2):
        assert (members[i].assigned, members[i].assign_calls) == before[i], "the other members rebalanced"
    desc = describe(bs, group)
    ids_after = {m.group_instance_id: m.member_id for m in desc.members}
    assert ids_after["inst-0"] == ids_before["inst-0"] and ids_after["inst-2"] == ids_before["inst-2"]
    assert ids_after["inst-1"] != ids_before["inst-1"]
    assert str(desc.state).endswith("STABLE")
    ledger.check(120)
    for c in members.values():
        c.close()


def committed(bootstrap, group, topic, partitions):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        return {tp.partition: tp.offset for tp in c.committed([TopicPartition(topic, p) for p in partitions], 10)}
    finally:
        c.close()


def test_committed_offsets_survive_kill9(fresh_broker):
    b = fresh_broker(**GROUP_OVERRIDES)
    topic, group = unique("kill"), unique("g")
    create_topic(b.bootstrap, topic, 3)
    produce(b.bootstrap, topic, 0, 90, 3)
    ledger = Ledger()
    c = ck_consumer(b.bootstrap, group, topic)
    drive(ledger.ck_poll, [c], lambda: len(ledger.seen) >= 45)
    positions = committed(b.bootstrap, group, topic, range(3))
    assert sum(max(v, 0) for v in positions.values()) == len(ledger.seen)
    # A group without group management (assign + explicit commit) is stored too.
    simple = Consumer({"bootstrap.servers": b.bootstrap, "group.id": group + "-simple", "enable.auto.commit": False})
    simple.commit(offsets=[TopicPartition(topic, 0, 7), TopicPartition(topic, 2, 11)], asynchronous=False)
    simple.close()
    b.kill9()
    c.close()
    b.start()
    assert committed(b.bootstrap, group, topic, range(3)) == positions
    assert committed(b.bootstrap, group + "-simple", topic, [0, 1, 2]) == {0: 7, 1: -1001, 2: 11}
    # A new member resumes exactly where the group left off. (The new records also move the
    # data partitions' high watermarks past the last checkpoint before the crash.)
    produce(b.bootstrap, topic, 90, 30, 3)
    c = ck_consumer(b.bootstrap, group, topic)
    drive(ledger.ck_poll, [c], lambda: len(ledger.seen) >= 120)
    ledger.check(120)
    c.close()


def test_group_survives_restart_mid_rebalance(fresh_broker):
    b = fresh_broker(**GROUP_OVERRIDES)
    topic, group = unique("midreb"), unique("g")
    create_topic(b.bootstrap, topic, 6)
    produce(b.bootstrap, topic, 0, 120, 6)
    ledger = Ledger()
    a, c = ck_consumer(b.bootstrap, group, topic), ck_consumer(b.bootstrap, group, topic)
    drive(ledger.ck_poll, [a, c], lambda: len(a.assigned) + len(c.assigned) == 6 and len(ledger.seen) >= 60)
    # A third member starts a rebalance that the others have not joined yet (they are not polled).
    d = ck_consumer(b.bootstrap, group, topic)
    deadline = time.time() + 10
    while str(describe(b.bootstrap, group).state).endswith("STABLE"):
        assert time.time() < deadline
        d.poll(0.1)
    b.kill9()
    b.start()
    produce(b.bootstrap, topic, 120, 120, 6)
    drive(ledger.ck_poll, [a, c, d],
          lambda: len(ledger.seen) >= 240 and len(a.assigned) + len(c.assigned) + len(d.assigned) == 6
          and all(x.assigned for x in (a, c, d)), timeout=60)
    ledger.check(240)
    assert len(describe(b.bootstrap, group).members) == 3
    for x in (a, c, d):
        x.close()


def sluice(*args, check=True):
    result = subprocess.run([SLUICE_BIN, *args], capture_output=True, timeout=60)
    if check:
        assert result.returncode == 0, result.stderr.decode() + result.stdout.decode()
    return result


def test_groups_cli(gbroker):
    topic, group = unique("cli"), unique("g")
    bs = gbroker.bootstrap
    b = ["--bootstrap-server", bs]
    create_topic(bs, topic, 2)
    produce(bs, topic, 0, 20, 2)
    ledger = Ledger()
    c = ck_consumer(bs, group, topic)
    drive(ledger.ck_poll, [c], lambda: len(ledger.seen) >= 20)
    produce(bs, topic, 20, 10, 2)  # 5 more per partition: lag 5 each
    assert group in sluice("groups", "list", *b).stdout.decode().split()
    out = sluice("groups", "describe", "--group", group, *b).stdout.decode()
    rows = [line.split() for line in out.splitlines() if line.split()[:2] == [group, topic]]
    assert len(rows) == 2, out
    for row in rows:
        # GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID
        assert row[3:6] == ["10", "15", "5"], out
        assert row[6] != "-"
    bad = sluice("groups", "delete", "--group", group, *b, check=False)
    assert bad.returncode != 0 and b"NON_EMPTY_GROUP" in bad.stderr
    c.close()
    deadline = time.time() + 10
    while "Empty" not in sluice("groups", "describe", "--group", group, "--state", *b).stdout.decode():
        assert time.time() < deadline
        time.sleep(0.1)
    out = sluice("groups", "reset-offsets", "--group", group, "--topic", topic, "--to-earliest", *b).stdout.decode()
    assert "0" in out and committed(bs, group, topic, [0, 1]) == {0: 10, 1: 10}  # dry run by default
    sluice("groups", "reset-offsets", "--group", group, "--topic", topic, "--to-earliest", "--execute", *b)
    assert committed(bs, group, topic, [0, 1]) == {0: 0, 1: 0}
    sluice("groups", "reset-offsets", "--group", group, "--topic", topic, "--to-latest", "--execute", *b)
    assert committed(bs, group, topic, [0, 1]) == {0: 15, 1: 15}
    sluice("groups", "reset-offsets", "--group", group, "--topic", f"{topic}:1", "--to-offset", "3", "--execute", *b)
    assert committed(bs, group, topic, [0, 1]) == {0: 15, 1: 3}
    sluice("groups", "delete", "--group", group, *b)
    assert group not in sluice("groups", "list", *b).stdout.decode().split()
    assert committed(bs, group, topic, [0, 1]) == {0: -1001, 1: -1001}
