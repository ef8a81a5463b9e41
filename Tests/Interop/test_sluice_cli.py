"""The sluice CLI (our own client on the shared codec) against a real broker."""
import os
from pathlib import Path
import subprocess

from conftest import SLUICE_BIN, unique


def sluice(*args, input=None, check=True):
    result = subprocess.run([SLUICE_BIN, *args], input=input, capture_output=True, timeout=60)
    if check:
        assert result.returncode == 0, result.stderr.decode() + result.stdout.decode()
    return result


def test_topics_lifecycle(broker):
    topic = unique("cli")
    b = ["--bootstrap-server", broker.bootstrap]
    sluice("topics", "create", "--topic", topic, "--partitions", "2", "--config", "retention.ms=60000", *b)
    assert topic in sluice("topics", "list", *b).stdout.decode().split()
    described = sluice("topics", "describe", "--topic", topic, *b).stdout.decode()
    assert "PartitionCount: 2" in described and "retention.ms=60000" in described
    sluice("topics", "alter", "--topic", topic, "--partitions", "3", "--add-config", "retention.ms=1000", *b)
    described = sluice("topics", "describe", "--topic", topic, *b).stdout.decode()
    assert "PartitionCount: 3" in described and "retention.ms=1000" in described
    bad = sluice("topics", "create", "--topic", topic, *b, check=False)
    assert bad.returncode != 0 and b"TOPIC_ALREADY_EXISTS" in bad.stderr
    sluice("topics", "delete", "--topic", topic, *b)
    assert topic not in sluice("topics", "list", *b).stdout.decode().split()


def test_console_produce_consume(broker):
    topic = unique("cli-pc")
    b = ["--bootstrap-server", broker.bootstrap]
    sluice("topics", "create", "--topic", topic, *b)
    lines = "".join(f"k{i}:v{i}\n" for i in range(50)).encode()
    sluice("produce", "--topic", topic, "--key-separator", ":", "--header", "a=b", "--compression", "zstd", *b,
           input=lines)
    out = sluice("consume", "--topic", topic, "--from-beginning", "--max-messages", "50", "--print-key",
                 "--print-headers", *b).stdout.decode().strip().split("\n")
    assert out == [f"a:b\tk{i}\tv{i}" for i in range(50)]


def test_serve_rejects_bad_config(tmp_path):
    bad = tmp_path / "server.properties"
    bad.write_text("# comment\nnum.partitions=3\nno.such.property=1\n")
    r = sluice("serve", "--config", str(bad), check=False)
    assert r.returncode != 0
    assert f"{bad}:3: unknown property 'no.such.property'" in r.stderr.decode()
    bad.write_text("num.partitions=zero\n")
    r = sluice("serve", "--config", str(bad), check=False)
    assert f"{bad}:1:" in r.stderr.decode() and "num.partitions" in r.stderr.decode()


def test_bench_produce_and_consume_report_figures(broker):
    topic = unique("cli-bench")
    b = ["--bootstrap-server", broker.bootstrap]
    out = sluice("bench", "produce", "--topic", topic, "--num-records", "20000", "--record-size", "200",
                 "--partitions", "3", "--acks", "all", *b).stdout.decode()
    line = [l for l in out.splitlines() if l.startswith("RESULT mode=produce")][0]
    fields = dict(kv.split("=", 1) for kv in line.split()[1:])
    assert fields["records"] == "20000" and float(fields["records_per_s"]) > 0
    assert float(fields["latency_p99_ms"]) >= float(fields["latency_p50_ms"]) > 0
    out = sluice("bench", "consume", "--topic", topic, "--num-records", "20000", *b).stdout.decode()
    line = [l for l in out.splitlines() if l.startswith("RESULT mode=consume")][0]
    assert "records=20000 " in line


def test_users_and_acls_offline_tools(tmp_path):
    d = str(tmp_path / "data")
    sluice("users", "add", "--user", "alice", "--password", "s3cret", "--data-dir", d)
    sluice("users", "add", "--user", "bob", "--data-dir", d, input=b"from-stdin\n")
    listed = sluice("users", "list", "--data-dir", d).stdout.decode()
    assert "alice\tSCRAM-SHA-256" in listed and "bob\t" in listed
    stored = (tmp_path / "data" / "scram-credentials").read_text()
    assert "s3cret" not in stored and "from-stdin" not in stored  # only salted keys at rest
    assert sluice("users", "add", "--user", "alice", "--password", "x", "--data-dir", d, check=False).returncode != 0
    sluice("users", "delete", "--user", "bob", "--data-dir", d)
    assert "bob" not in sluice("users", "list", "--data-dir", d).stdout.decode()

    policies = str(Path(__file__).resolve().parents[2] / "policies")
    assert "0 findings" in sluice("acls", "lint", "--policies", policies).stdout.decode()
    allowed = sluice("acls", "explain", "--policies", policies, "--principal", "User:team-a-app",
                     "--operation", "write", "--resource", "topic:team-a.orders").stdout.decode()
    assert "decision: ALLOWED by (teams.acl:" in allowed
    denied = sluice("acls", "explain", "--policies", policies, "--principal", "User:team-b-app",
                    "--operation", "read", "--resource", "topic:team-a.orders").stdout.decode()
    assert "decision: DENIED" in denied

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "bad.acl").write_text("# ok\nallow User:x fly topic:t\n")
    r = sluice("acls", "lint", "--policies", str(broken), check=False)
    assert r.returncode != 0 and "bad.acl:2:" in r.stderr.decode()
