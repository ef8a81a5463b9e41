#!/usr/bin/env python3
"""Captures golden request/response frames from real Kafka clients talking to sluice.

Starts `sluice serve` (SLUICE_BIN, default .build-golden/debug/sluice) on a free loopback port
with a temporary data directory, puts an asyncio TCP proxy in front of it (the broker advertises
the proxy, so every connection goes through it), drives confluent-kafka, kafka-python, kcat and
Debian's sarama 1.22 (Tests/Interop/sarama, built as the interop test builds it) through the proxy, and writes a few distinct frames per (API, version, direction, client) to
Tests/KafkaProtocolTests/Golden/<api>_<request|response>_v<N>_<client>_<k>.hex.

A frame is the bytes after the 4-byte size. Clients are told apart by their header client id
(each is given its own), so lingering background connections are still labelled right.

Usage: .venv/bin/python scripts/capture-golden.py [--out DIR] [--per-key N] [--clients a,b]
(--clients replaces only those clients' vectors, e.g. --clients sarama.)
"""
import argparse
import warnings
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPECS = Path(os.environ.get("KAFKA_SPECS", ROOT.parent / "shared/reference/kafka-protocol/messages"))
MAX_FRAME = 64 * 1024  # bigger produce/fetch frames are skipped, not truncated
API_VERSIONS = 18
UNSUPPORTED_VERSION = 35
CLIENT_PREFIX = "golden-"


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def load_api_names():
    """API key -> snake-case name, from the request specs (the same names the Swift test derives)."""
    names = {}
    for path in SPECS.glob("*Request.json"):
        text = "\n".join(l for l in path.read_text().splitlines() if not l.strip().startswith("//"))
        spec = json.loads(text)
        if spec.get("type") == "request":
            names[spec["apiKey"]] = snake(spec["name"][: -len("Request")])
    return names


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------------------
# Proxy

class Recorder:
    """Collects (client, api key, version, direction, frame) from every proxied connection."""

    def __init__(self):
        self.lock = threading.Lock()
        self.frames = []  # (client, key, version, direction, bytes)

    def add(self, *item):
        with self.lock:
            self.frames.append(item)


def client_label(frame: bytes) -> str:
    """The header client id (header v1+, int16 length), minus our prefix; 'unknown' otherwise."""
    if len(frame) < 10:
        return "unknown"
    (n,) = struct.unpack(">h", frame[8:10])
    if n < 0 or len(frame) < 10 + n:
        return "unknown"
    cid = frame[10:10 + n].decode("utf-8", "replace")
    return cid[len(CLIENT_PREFIX):] if cid.startswith(CLIENT_PREFIX) else "unknown"


async def read_frame(reader):
    size = struct.unpack(">i", await reader.readexactly(4))[0]
    return await reader.readexactly(size)


async def pipe_requests(reader, writer, pending, recorder):
    try:
        while True:
            frame = await read_frame(reader)
            key, version, corr = struct.unpack(">hhi", frame[:8])
            label = client_label(frame)
            pending[corr] = (label, key, version)
            recorder.add(label, key, version, "request", frame)
            writer.write(struct.pack(">i", len(frame)) + frame)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def pipe_responses(reader, writer, pending, recorder):
    try:
        while True:
            frame = await read_frame(reader)
            (corr,) = struct.unpack(">i", frame[:4])
            if corr in pending:
                label, key, version = pending.pop(corr)
                # A broker that does not know the requested ApiVersions version answers v0.
                if key == API_VERSIONS and len(frame) >= 6 and struct.unpack(">h", frame[4:6])[0] == UNSUPPORTED_VERSION:
                    version = 0
                recorder.add(label, key, version, "response", frame)
            writer.write(struct.pack(">i", len(frame)) + frame)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


def start_proxy(listen_port, broker_port, recorder):
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    async def handle(client_reader, client_writer):
        try:
            broker_reader, broker_writer = await asyncio.open_connection("127.0.0.1", broker_port)
        except OSError:
            client_writer.close()
            return
        pending = {}
        await asyncio.gather(pipe_requests(client_reader, broker_writer, pending, recorder),
                             pipe_responses(broker_reader, client_writer, pending, recorder))

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", listen_port)
        ready.set()
        async with server:
            await server.serve_forever()

    thread = threading.Thread(target=lambda: loop.run_until_complete(main()), daemon=True)
    thread.start()
    ready.wait(10)
    return loop


# ---------------------------------------------------------------------------------------------
# Broker

def start_broker(binary, data_dir, port, advertised_port):
    args = [binary, "serve",
            "--override", f"listeners=PLAINTEXT://127.0.0.1:{port}",
            "--override", f"advertised.listeners=PLAINTEXT://127.0.0.1:{advertised_port}",
            "--override", f"log.dirs={data_dir}"]
    log = open(Path(data_dir).parent / "broker.log", "ab")
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 30
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"broker exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    sys.exit("broker did not start listening")


# ---------------------------------------------------------------------------------------------
# Client drivers. Each step is allowed to fail (an API the broker does not serve closes the
# connection); what was captured up to then is kept.

def step(name, fn):
    try:
        fn()
        print(f"  ok   {name}")
    except Exception as e:  # noqa: BLE001 - a failed step only means fewer vectors
        print(f"  fail {name}: {type(e).__name__}: {e}")


def drive_confluent(bootstrap):
    from confluent_kafka import Consumer, Producer, TopicPartition, OFFSET_BEGINNING
    from confluent_kafka.admin import (AdminClient, ConfigResource, NewPartitions, NewTopic,
                                       OffsetSpec, ResourceType)
    common = {"bootstrap.servers": bootstrap, "client.id": CLIENT_PREFIX + "librdkafka"}
    admin = AdminClient(common)
    topic = "golden-confluent"

    def create():
        fs = admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1,
                                           config={"retention.ms": "3600000"}),
                                  NewTopic(topic + "-tmp", num_partitions=1, replication_factor=1)])
        for f in fs.values():
            f.result(20)
    step("create_topics", create)
    step("list_topics", lambda: admin.list_topics(timeout=10))
    step("describe_cluster", lambda: admin.describe_cluster(request_timeout=10).result(20))
    step("describe_topics", lambda: [f.result(20) for f in admin.describe_topics(
        __import__("confluent_kafka").TopicCollection([topic]), request_timeout=10).values()])

    def describe_configs():
        for f in admin.describe_configs([ConfigResource(ResourceType.TOPIC, topic),
                                         ConfigResource(ResourceType.BROKER, "1")]).values():
            f.result(20)
    step("describe_configs", describe_configs)

    def alter_configs():
        for f in admin.alter_configs([ConfigResource(ResourceType.TOPIC, topic,
                                                     set_config={"retention.ms": "7200000"})]).values():
            f.result(20)
    step("alter_configs", alter_configs)

    def create_partitions():
        for f in admin.create_partitions([NewPartitions(topic, 3)]).values():
            f.result(20)
    step("create_partitions", create_partitions)

    for codec in ["none", "gzip", "snappy", "lz4", "zstd"]:
        def produce(codec=codec):
            p = Producer({**common, "compression.type": codec, "linger.ms": 5, "acks": "all",
                          "enable.idempotence": False})
            for i in range(20):
                p.produce(topic, key=f"k{i}".encode(), value=f"{codec}-value-{i}".encode() * 3,
                          partition=i % 3, headers=[("h", b"v")] if i % 2 else None)
            p.produce(topic, key=None, value=None, partition=0)
            if p.flush(20) != 0:
                raise RuntimeError("unflushed messages")
        step(f"produce {codec}", produce)

    def produce_acks0():
        p = Producer({**common, "acks": 0, "enable.idempotence": False})
        p.produce(topic, value=b"fire-and-forget", partition=1)
        p.flush(10)
    step("produce acks=0", produce_acks0)

    def consume():
        c = Consumer({**common, "group.id": "golden-unused", "enable.auto.commit": False,
                      "enable.auto.offset.store": False})
        c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(3)])
        got, deadline = 0, time.time() + 20
        while got < 60 and time.time() < deadline:
            m = c.poll(0.5)
            if m is not None and not m.error():
                got += 1
        c.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
        c.offsets_for_times([TopicPartition(topic, 0, int(time.time() * 1000) - 60_000)], timeout=10)
        c.close()
    step("consume (assign) + watermarks + offsets_for_times", consume)

    def list_offsets():
        # One spec per call: librdkafka refuses a mix it cannot send in one request.
        for spec in [OffsetSpec.earliest(), OffsetSpec.latest(), OffsetSpec.max_timestamp()]:
            for f in admin.list_offsets({TopicPartition(topic, 0): spec}).values():
                f.result(20)
    step("list_offsets", list_offsets)

    def delete_records():
        for f in admin.delete_records([TopicPartition(topic, 0, 2)]).values():
            f.result(20)
    step("delete_records", delete_records)

    def delete_topics():
        for f in admin.delete_topics([topic + "-tmp"], operation_timeout=10).values():
            f.result(20)
    step("delete_topics", delete_topics)


def drive_kafka_python(bootstrap):
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
    from kafka.admin import ConfigResource, ConfigResourceType, NewPartitions, NewTopic
    cid = CLIENT_PREFIX + "kafka-python"
    topic = "golden-kafka-python"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id=cid, request_timeout_ms=10000)
    step("create_topics", lambda: admin.create_topics([NewTopic(topic, 2, 1), NewTopic(topic + "-tmp", 1, 1)]))
    step("list_topics", admin.list_topics)
    step("describe_topics", lambda: admin.describe_topics([topic]))
    step("describe_cluster", admin.describe_cluster)
    step("describe_configs", lambda: admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic),
                                                             ConfigResource(ConfigResourceType.BROKER, "1")]))
    step("alter_configs", lambda: admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic,
                                                                      configs={"retention.ms": "7200000"})]))
    step("create_partitions", lambda: admin.create_partitions({topic: NewPartitions(3)}))

    for codec in [None, "gzip", "snappy", "lz4", "zstd"]:
        def produce(codec=codec):
            p = KafkaProducer(bootstrap_servers=bootstrap, client_id=cid, compression_type=codec, acks="all",
                              linger_ms=5)
            for i in range(20):
                p.send(topic, key=f"k{i}".encode(), value=f"{codec}-value-{i}".encode() * 3, partition=i % 3,
                       headers=[("h", b"v")] if i % 2 else [])
            p.flush(20)
            p.close(5)
        step(f"produce {codec}", produce)

    def consume():
        c = KafkaConsumer(bootstrap_servers=bootstrap, client_id=cid, enable_auto_commit=False,
                          consumer_timeout_ms=3000)
        parts = [TopicPartition(topic, p) for p in range(3)]
        c.assign(parts)
        c.seek_to_beginning()
        got = 0
        for _ in c:
            got += 1
            if got >= 60:
                break
        c.beginning_offsets(parts)
        c.end_offsets(parts)
        c.offsets_for_times({parts[0]: int(time.time() * 1000) - 60_000})
        c.close()
    step("consume (assign) + offsets", consume)
    step("delete_records", lambda: admin.delete_records({TopicPartition(topic, 0): 2}))
    step("delete_topics", lambda: admin.delete_topics([topic + "-tmp"]))
    admin.close()


def drive_kcat(bootstrap):
    if shutil.which("kcat") is None:
        print("  skip kcat: not installed")
        return
    base = ["kcat", "-b", bootstrap, "-X", f"client.id={CLIENT_PREFIX}kcat"]
    topic = "golden-confluent"  # created by the confluent step, three partitions

    def run(*args, input=None):
        r = subprocess.run(base + list(args), input=input, capture_output=True, timeout=30)
        if r.returncode != 0:
            raise RuntimeError(r.stderr.decode()[-300:])
    step("-L", lambda: run("-L"))
    step("-L -t", lambda: run("-L", "-t", topic))
    for codec in ["none", "gzip", "snappy", "lz4", "zstd"]:
        lines = "".join(f"key{i}:{codec}-value{i}\n" for i in range(30)).encode()
        step(f"-P {codec}", lambda codec=codec, lines=lines: run("-P", "-t", topic, "-p", "1", "-K", ":", "-z", codec,
                                                                 "-H", "source=kcat", input=lines))
    step("-C", lambda: run("-C", "-t", topic, "-p", "1", "-o", "beginning", "-e", "-c", "50"))
    step("-C -o -5", lambda: run("-C", "-t", topic, "-p", "2", "-o", "-5", "-e"))


# ---------------------------------------------------------------------------------------------

def drive_sarama(bootstrap):
    """sarama's consumer group (JoinGroup v1, OffsetCommit v1, OffsetFetch v1), its producer
    (Produce v3) and its offset lookups (ListOffsets v1, and v0 at version 0.10.0)."""
    sys.path.insert(0, str(ROOT / "Tests/Interop"))
    from test_sarama import build_sarama_driver
    binary = build_sarama_driver()
    env = dict(os.environ, SARAMA_CLIENT_ID=CLIENT_PREFIX + "sarama")
    topic = "golden-sarama"

    def run(*args):
        subprocess.run([binary, *map(str, args)], env=env, check=True, capture_output=True, timeout=60)

    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({"bootstrap.servers": bootstrap, "client.id": "setup"})
    step("create topic", lambda: admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(10))
    step("produce", lambda: run("produce", bootstrap, topic, 1, 4, 1_700_000_000_000))
    step("list offsets v1", lambda: run("offset", bootstrap, topic, 0, 1_700_000_000_010, "2.1.0"))
    step("list offsets v0", lambda: run("offset", bootstrap, topic, 0, -1, "0.10.0.0"))

    def group():
        member = subprocess.Popen([binary, "member", bootstrap, "golden-sarama-group", topic, "golden"],
                                  env=env, stdout=subprocess.PIPE, text=True)
        deadline = time.time() + 30
        consumed = 0
        for line in member.stdout:
            consumed += line.startswith("CONSUMED")
            if consumed == 4 or time.time() > deadline:
                break
        time.sleep(0.5)  # a commit interval
        member.send_signal(signal.SIGTERM)
        if member.wait(30) != 0 or consumed < 4:
            raise RuntimeError(f"member exited with {member.returncode} after {consumed} records")
    step("consumer group", group)


def write_vectors(recorder, out_dir: Path, per_key: int, clients=None):
    names = load_api_names()
    groups = defaultdict(list)
    skipped = 0
    for client, key, version, direction, frame in recorder.frames:
        if client == "unknown" or key not in names or (clients and client not in clients):
            continue
        if len(frame) > MAX_FRAME:
            skipped += 1
            continue
        group = groups[(names[key], direction, version, client)]
        if frame not in group:
            group.append(frame)
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("*.hex"):
        if not clients or any(f"_{client}_" in old.name for client in clients):
            old.unlink()
    total_files = total_bytes = 0
    for (api, direction, version, client), frames in sorted(groups.items()):
        # Spread the picks over sizes so small and large examples are both kept.
        frames = sorted(frames, key=len)
        if len(frames) > per_key:
            step_size = (len(frames) - 1) / (per_key - 1) if per_key > 1 else 0
            frames = [frames[round(i * step_size)] for i in range(per_key)]
        for k, frame in enumerate(frames):
            path = out_dir / f"{api}_{direction}_v{version}_{client}_{k}.hex"
            path.write_text(frame.hex() + "\n")
            total_files += 1
            total_bytes += len(frame)
    print(f"wrote {total_files} vectors ({total_bytes} frame bytes) to {out_dir}; skipped {skipped} frames over {MAX_FRAME} bytes")
    counts = defaultdict(int)
    for (api, direction, version, client), frames in groups.items():
        counts[client] += min(len(frames), per_key)
    for client, n in sorted(counts.items()):
        print(f"  {client}: {n}")


def main():
    warnings.filterwarnings("ignore", category=DeprecationWarning)  # alter_configs is old but still served
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(ROOT / "Tests/KafkaProtocolTests/Golden"))
    parser.add_argument("--per-key", type=int, default=3)
    parser.add_argument("--clients", help="comma-separated: librdkafka, kafka-python, kcat, sarama (default all)")
    args = parser.parse_args()
    binary = os.environ.get("SLUICE_BIN", str(ROOT / ".build-golden/debug/sluice"))
    if not Path(binary).exists():
        sys.exit(f"no broker binary at {binary}: swift build --scratch-path .build-golden")

    clients = set(args.clients.split(",")) if args.clients else None
    recorder = Recorder()
    broker_port, proxy_port = free_port(), free_port()
    with tempfile.TemporaryDirectory(prefix="sluice-golden-") as tmp:
        data_dir = Path(tmp) / "logs"
        proc = start_broker(binary, data_dir, broker_port, proxy_port)
        try:
            start_proxy(proxy_port, broker_port, recorder)
            bootstrap = f"127.0.0.1:{proxy_port}"
            drivers = [("librdkafka", drive_confluent), ("kafka-python", drive_kafka_python),
                       ("kcat", drive_kcat), ("sarama", drive_sarama)]
            for client, drive in drivers:
                if not clients or client in clients:
                    print(client)
                    drive(bootstrap)
            time.sleep(0.5)  # let in-flight responses reach the recorder
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
    write_vectors(recorder, Path(args.out), args.per_key, clients)


if __name__ == "__main__":
    main()
