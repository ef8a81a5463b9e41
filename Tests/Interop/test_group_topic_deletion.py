"""Consumer groups on Debian's librdkafka 2.0.2 (the one kcat uses) when a subscribed topic is
deleted under a stable group: (a) cooperative-sticky, then the consumer closes; (b) eager
assignment, waiting for the rebalance the deletion causes; (c) the topic deleted and created
again with fewer partitions. Each step is bounded: a hang fails the test instead of waiting for
the client to give up.

The member is a small C program (clients/rdkafka_group.c) built against the system librdkafka
into .build-interop/; the topics are created and deleted with confluent-kafka's admin client.
librdkafka 2.0.2 cannot finish rd_kafka_destroy() once an assigned partition disappeared from
the cluster (a reference cycle in the client, fixed upstream by librdkafka PR 4724): the tests
check that its consumer_close() returned and the broker saw it leave, then stop the process.
"""
import os
import queue
import re
import shutil
import struct
import subprocess
import threading
import time
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient, NewTopic

from conftest import BrokerProcess, unique
from kafka_wire import RawConnection, string16

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "Tests/Interop/clients/rdkafka_group.c"
BINARY = ROOT / ".build-interop/rdkafka_group"
HEADER = Path("/usr/include/librdkafka/rdkafka.h")

needs_rdkafka = pytest.mark.skipif(shutil.which("cc") is None or not HEADER.exists(),
                                   reason="librdkafka-dev and a C compiler are installed by `make test`")

GROUP_OVERRIDES = {
    "group.initial.rebalance.delay.ms": "0",
    "group.min.session.timeout.ms": "1000",
    "offsets.topic.num.partitions": "5",
}


@pytest.fixture(scope="module")
def member_binary():
    if not BINARY.exists() or BINARY.stat().st_mtime < SOURCE.stat().st_mtime:
        BINARY.parent.mkdir(exist_ok=True)
        subprocess.run(["cc", "-O1", "-Wall", "-o", str(BINARY), str(SOURCE), "-lrdkafka"], check=True)
    return BINARY


@pytest.fixture(scope="module")
def dbroker(tmp_path_factory):
    b = BrokerProcess(tmp_path_factory.mktemp("deletion") / "logs", GROUP_OVERRIDES).start()
    yield b
    b.stop()


class Member:
    """One rdkafka_group process; its stdout lines are read by a thread into a queue."""

    def __init__(self, binary, bootstrap, group, strategy, topics, log_path):
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen([str(binary), bootstrap, group, strategy, *topics], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.log, text=True)
        self.lines = queue.Queue()
        self.seen = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.strip())

    def wait_for(self, predicate, timeout, what):
        """Waits for a line that satisfies `predicate`; returns it."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                line = self.lines.get(timeout=max(deadline - time.time(), 0.01))
            except queue.Empty:
                break
            self.seen.append(line)
            if predicate(line):
                return line
        raise AssertionError(f"no {what} within {timeout} s; member printed {self.seen}")

    def wait_assignment(self, expected, timeout=20):
        want = sorted(expected)
        return self.wait_for(lambda line: line.startswith("ASSIGNMENT") and sorted(line.split()[1:]) == want,
                             timeout, f"assignment {want}")

    def close(self, timeout=15):
        """Asks the member to close (LeaveGroup); returns how long rd_kafka_consumer_close took (ms)."""
        self.proc.stdin.write("close\n")
        self.proc.stdin.flush()
        line = self.wait_for(lambda line: line.startswith("CLOSED"), timeout, "close")
        return int(line.split()[1])

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.proc.wait(timeout=2)  # rd_kafka_destroy: see the module docstring
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


@pytest.fixture
def members(member_binary, dbroker, tmp_path):
    started = []

    def start(group, strategy, topics):
        m = Member(member_binary, dbroker.bootstrap, group, strategy, topics, tmp_path / f"member{len(started)}.log")
        started.append(m)
        return m

    yield start
    for m in started:
        m.stop()


def admin(broker):
    return AdminClient({"bootstrap.servers": broker.bootstrap})


def create(broker, topic, partitions):
    a = admin(broker)
    a.create_topics([NewTopic(topic, partitions, 1)])[topic].result(10)


def delete(broker, topic):
    a = admin(broker)
    a.delete_topics([topic])[topic].result(10)


def partitions(topic, count):
    return [f"{topic}:{p}" for p in range(count)]


def group_state(broker, group):
    a = admin(broker)  # must outlive the future
    return str(a.describe_consumer_groups([group])[group].result(10).state)


def wait_until(condition, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} not within {timeout} s")


def stable_member(dbroker, members, strategy, kept, other, other_partitions):
    group = unique("g")
    create(dbroker, kept, 2)
    create(dbroker, other, other_partitions)
    m = members(group, strategy, [kept, other])
    m.wait_assignment(partitions(kept, 2) + partitions(other, other_partitions))
    wait_until(lambda: group_state(dbroker, group).endswith("STABLE"), 10, "a stable group")
    time.sleep(1)  # fetching, with fetches parked on every partition
    return m, group


@needs_rdkafka
def test_cooperative_member_closes_after_topic_deletion(dbroker, members):
    kept, doomed = unique("keep"), unique("doomed")
    m, group = stable_member(dbroker, members, "cooperative-sticky", kept, doomed, 2)
    delete(dbroker, doomed)
    m.wait_assignment(partitions(kept, 2), timeout=15)  # the incremental revoke of the deleted partitions
    assert m.close() < 5000
    wait_until(lambda: group_state(dbroker, group).endswith("EMPTY"), 5, "the member's LeaveGroup")
    # New connections are answered at once (ApiVersions, Metadata).
    assert kept in admin(dbroker).list_topics(timeout=5).topics


@needs_rdkafka
def test_eager_member_rebalances_after_topic_deletion(dbroker, members):
    kept, doomed = unique("keep"), unique("doomed")
    m, group = stable_member(dbroker, members, "range", kept, doomed, 2)
    delete(dbroker, doomed)
    m.wait_assignment(partitions(kept, 2), timeout=15)
    wait_until(lambda: group_state(dbroker, group).endswith("STABLE"), 10, "a stable group after the rebalance")
    assert m.close() < 5000
    wait_until(lambda: group_state(dbroker, group).endswith("EMPTY"), 5, "the member's LeaveGroup")
    # The operator log (log.level=info, the default) says what happened and why.
    log = dbroker.log_path.read_text(errors="replace")
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
    assert re.search(rf"^{stamp} INFO  \[topics\] topic {doomed} deleted \(2 partition\(s\)\)$", log, re.M)
    assert re.search(rf"^{stamp} INFO  \[groups\] group {group} rebalancing \(generation \d+\): "
                     rf"topic metadata changed \({doomed} deleted\): member \S+ rejoined$", log, re.M)
    assert re.search(rf"INFO  \[groups\] group {group} rebalancing \(generation \d+\): member \S+ left the group$",
                     log, re.M)
    assert re.search(rf"INFO  \[net\] listening on PLAINTEXT://127.0.0.1:{dbroker.port} \(PLAINTEXT\)$", log, re.M)


@needs_rdkafka
def test_member_follows_topic_recreated_with_fewer_partitions(dbroker, members):
    kept, recreated = unique("keep"), unique("again")
    m, group = stable_member(dbroker, members, "range", kept, recreated, 4)
    delete(dbroker, recreated)
    create(dbroker, recreated, 2)
    m.wait_assignment(partitions(kept, 2) + partitions(recreated, 2), timeout=20)
    wait_until(lambda: group_state(dbroker, group).endswith("STABLE"), 10, "a stable group after the rebalance")
    assert m.close() < 5000
    wait_until(lambda: group_state(dbroker, group).endswith("EMPTY"), 5, "the member's LeaveGroup")


def fetch_v4(topic, partition, max_wait_ms, correlation_id=11):
    """A Fetch v4 request frame (non-flexible) for one partition from offset 0."""
    header = struct.pack(">hhi", 1, 4, correlation_id) + string16("raw-test")
    body = struct.pack(">iiiib", -1, max_wait_ms, 1, 1 << 20, 0) + struct.pack(">i", 1) + string16(topic)
    body += struct.pack(">i", 1) + struct.pack(">iqi", partition, 0, 1 << 20)
    payload = header + body
    return struct.pack(">i", len(payload)) + payload


def test_a_fetch_parked_on_a_deleted_partition_is_answered_at_once(dbroker):
    topic = unique("parked")
    create(dbroker, topic, 1)
    conn = RawConnection(dbroker.port, timeout=5)
    try:
        conn.send(fetch_v4(topic, 0, max_wait_ms=30000))  # empty partition: the fetch parks
        time.sleep(0.5)
        started = time.time()
        delete(dbroker, topic)
        frame = conn.read_frame()  # within the 5 s socket timeout, not the fetch's 30 s
        assert time.time() - started < 3
        # correlation id, throttle time, topics[1], name, partitions[1], index, error code
        pos = 4 + 4 + 4 + 2 + len(topic.encode()) + 4 + 4
        assert struct.unpack_from(">i", frame, 0)[0] == 11
        assert struct.unpack_from(">h", frame, pos)[0] == 3  # UNKNOWN_TOPIC_OR_PARTITION
    finally:
        conn.close()
