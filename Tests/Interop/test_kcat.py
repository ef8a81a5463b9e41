"""kcat (Debian's package, on Debian's librdkafka 2.0.2) against a real sluice process.
Debian's old librdkafka mis-reads ApiVersions tagged fields, so this also checks we send none."""
import shutil
import subprocess

import pytest

from conftest import unique

pytestmark = pytest.mark.skipif(shutil.which("kcat") is None, reason="kcat is installed by `make test`")


def kcat(broker, *args, input=None, timeout=30):
    result = subprocess.run(["kcat", "-b", broker.bootstrap, *args], input=input, capture_output=True,
                            timeout=timeout)
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode()


def test_metadata_listing(broker):
    out = kcat(broker, "-L")
    assert "1 brokers:" in out and f"broker 1 at 127.0.0.1:{broker.port}" in out


@pytest.mark.parametrize("codec", ["none", "gzip", "snappy", "lz4", "zstd"])
def test_produce_consume(broker, codec):
    topic = unique(f"kcat-{codec}")
    kcat(broker, "-X", "allow.auto.create.topics=false", "-L")  # connection sanity
    subprocess.run(["kcat", "-b", broker.bootstrap, "-L", "-t", topic], capture_output=True, timeout=30)
    lines = "".join(f"key{i}:value{i}\n" for i in range(200))
    # Topics must exist (auto-creation is off by default): create through the admin path of our CLI.
    from test_sluice_cli import sluice
    sluice("topics", "create", "--topic", topic, "--partitions", "1", "--bootstrap-server", broker.bootstrap)
    kcat(broker, "-P", "-t", topic, "-K", ":", "-z", codec, "-H", "source=kcat", input=lines.encode())
    out = kcat(broker, "-C", "-t", topic, "-e", "-o", "beginning", "-f", "%k=%s|%h\n")
    got = out.strip().split("\n")
    assert got == [f"key{i}=value{i}|source=kcat" for i in range(200)]
