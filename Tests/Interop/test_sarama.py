"""Debian's Go client, sarama 1.22 (golang-github-shopify-sarama-dev): the protocol versions
Kafka 3.9 still served and Kafka 4 dropped (KIP-896). Its consumer group joins with JoinGroup v1
and commits with OffsetCommit v1; its offset lookups use ListOffsets v1, or v0 at older version
settings; it produces record batches whose header maxTimestamp it leaves unset.

The driver (Tests/Interop/sarama/main.go) is built offline in GOPATH mode against
/usr/share/gocode (`make apt-deps` installs golang-go and the sarama package) and cached under
.build/interop-go, which git ignores."""
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from conftest import BrokerProcess, unique

SOURCE = Path(__file__).parent / "sarama"
CACHE = Path(__file__).resolve().parents[2] / ".build" / "interop-go"
GOCODE = Path("/usr/share/gocode")
BASE_TS = 1_700_000_000_000


def build_sarama_driver() -> str:
    """The driver binary, rebuilt when its source is newer (also used by scripts/capture-golden.py)."""
    if not (GOCODE / "src/github.com/Shopify/sarama").is_dir():
        raise RuntimeError("Debian's sarama is missing: run `make interop-apt-deps` "
                           "(golang-go, golang-github-shopify-sarama-dev)")
    binary = CACHE / "sarama-interop"
    sources = list(SOURCE.glob("*.go"))
    if not binary.exists() or any(s.stat().st_mtime > binary.stat().st_mtime for s in sources):
        CACHE.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, GO111MODULE="off", GOPATH=f"{GOCODE}:{CACHE / 'gopath'}",
                   GOCACHE=str(CACHE / "cache"), GOFLAGS="", GOPROXY="off")
        built = subprocess.run(["go", "build", "-o", str(binary), "."], cwd=SOURCE, env=env,
                               capture_output=True, text=True, timeout=300)
        if built.returncode != 0:
            raise RuntimeError("go build failed:\n" + built.stderr)
    return str(binary)


@pytest.fixture(scope="module")
def sarama_bin():
    return build_sarama_driver()


@pytest.fixture(scope="module")
def sbroker(tmp_path_factory):
    b = BrokerProcess(tmp_path_factory.mktemp("sarama") / "logs",
                      {"group.initial.rebalance.delay.ms": "200", "group.min.session.timeout.ms": "1000",
                       "offsets.topic.num.partitions": "3"}).start()
    yield b
    b.stop()


def run(binary, *args):
    done = subprocess.run([binary, *map(str, args)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.split("\n")


def create_topic(bootstrap, topic, partitions):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, partitions, 1)])[topic].result(10)


class Member:
    """One `sarama-interop member` process; its output lines are collected as they come."""

    def __init__(self, binary, bootstrap, group, topic, name):
        self.name = name
        self.lines = []
        self.proc = subprocess.Popen([binary, "member", bootstrap, group, topic, name],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.split())

    def assignment(self):
        """(generation, partitions) of the latest ASSIGNED line, or None."""
        latest = [words for words in self.lines if words[0] == "ASSIGNED"]
        if not latest:
            return None
        words = latest[-1]
        return int(words[2]), sorted(int(tp.split("/")[1]) for tp in (words[3:] or [""])[0].split(",") if tp)

    def consumed(self):
        return [(int(w[2]), int(w[3])) for w in self.lines if w[0] == "CONSUMED"]

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(30) == 0, self.proc.stderr.read()
        self.reader.join(5)
        assert ["CLOSED", self.name] in self.lines
        assert not [w for w in self.lines if w[0] == "ERROR"], self.lines


def wait_for(condition, what, timeout=45):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail("timed out waiting for " + what)


def committed(bootstrap, group, topic, partitions):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        return [tp.offset for tp in c.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=10)]
    finally:
        c.close()


def test_two_member_group_commits_and_a_restart_resumes(sbroker, sarama_bin):
    topic, group = unique("sarama"), unique("sarama-group")
    create_topic(sbroker.bootstrap, topic, 2)
    run(sarama_bin, "produce", sbroker.bootstrap, topic, 2, 20, BASE_TS)

    a = Member(sarama_bin, sbroker.bootstrap, group, topic, "a")
    b = None
    try:
        wait_for(lambda: a.assignment() is not None and a.assignment()[1] == [0, 1], "member a to own both partitions")
        b = Member(sarama_bin, sbroker.bootstrap, group, topic, "b")

        def split():
            sa, sb = a.assignment(), b.assignment()
            return sa and sb and sa[0] == sb[0] and sorted(sa[1] + sb[1]) == [0, 1] and sa[1] and sb[1]
        wait_for(split, "a rebalance that gives each member one partition")
        wait_for(lambda: {o for o in a.consumed() + b.consumed()} == {(p, o) for p in (0, 1) for o in range(10)},
                 "all 20 records consumed by the two members")
    finally:
        for m in (a, b):
            if m is not None:
                m.stop()
    assert committed(sbroker.bootstrap, group, topic, 2) == [10, 10]

    # A restarted member resumes from the committed offsets: only the new records come.
    run(sarama_bin, "produce", sbroker.bootstrap, topic, 2, 6, BASE_TS + 1000)
    c = Member(sarama_bin, sbroker.bootstrap, group, topic, "c")
    try:
        wait_for(lambda: len(c.consumed()) >= 6, "the restarted member to consume the new records")
        time.sleep(0.5)
        assert sorted(c.consumed()) == [(p, o) for p in (0, 1) for o in (10, 11, 12)]
    finally:
        c.stop()
    assert committed(sbroker.bootstrap, group, topic, 2) == [13, 13]


def test_list_offsets_by_timestamp_after_a_sarama_produce(sbroker, sarama_bin):
    """sarama's batches say maxTimestamp -1; the broker stores the records' largest timestamp, so
    lookups by time find them (ListOffsets v1 from sarama, as for any client)."""
    topic = unique("sarama-ts")
    create_topic(sbroker.bootstrap, topic, 1)
    produced = run(sarama_bin, "produce", sbroker.bootstrap, topic, 1, 5, BASE_TS)
    assert produced[:5] == [f"PRODUCED 0 {i}" for i in range(5)]

    def lookup(ts, version="2.1.0"):
        return run(sarama_bin, "offset", sbroker.bootstrap, topic, 0, ts, version)[0]
    assert lookup(BASE_TS) == "OFFSET 0"
    assert lookup(BASE_TS + 15) == "OFFSET 2"  # records at +0, +10, +20, ...
    assert lookup(BASE_TS + 40) == "OFFSET 4"
    assert lookup(BASE_TS + 41) == "OFFSET -1"
    # Version 0.10.0 makes sarama send ListOffsets v0 (old_style_offsets, max_num_offsets 1).
    assert lookup(-1, "0.10.0.0") == "OFFSET 5"
    assert lookup(-2, "0.10.0.0") == "OFFSET 0"
