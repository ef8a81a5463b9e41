"""kafka-python 2.0.2 (the 2020 release) does not negotiate per API: it guesses a broker version
from ApiVersions and then uses fixed old versions (Metadata v1, Produce v7, Fetch v4, ListOffsets
v1). It must still produce, consume and look up offsets by time."""
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import unique
from test_sluice_cli import sluice

OLD = Path(__file__).resolve().parents[2] / ".pydeps/kafka-python-2.0.2"

SCRIPT = r"""
import sys, time
import kafka
assert kafka.__version__ == "2.0.2", kafka.__version__
from kafka import KafkaProducer, KafkaConsumer, TopicPartition
bootstrap, topic = sys.argv[1], sys.argv[2]
base = int(time.time() * 1000) - 10_000
for codec in (None, "gzip"):
    p = KafkaProducer(bootstrap_servers=bootstrap, compression_type=codec)
    for i in range(10):
        p.send(topic, key=b"k%d" % i, value=b"v%d" % i, timestamp_ms=base + i).get(10)
    p.close()
c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, consumer_timeout_ms=3000)
tp = TopicPartition(topic, 0)
c.assign([tp]); c.seek_to_beginning()
got = [(m.key, m.value) for m in c]
assert got == [(b"k%d" % i, b"v%d" % i) for i in range(10)] * 2, got
assert c.offsets_for_times({tp: base + 5})[tp].offset == 5
assert c.end_offsets([tp])[tp] == 20
print("ok")
"""


@pytest.mark.skipif(not OLD.exists(), reason="installed by `make test`")
def test_kafka_python_2_0_2(broker):
    topic = unique("kp20")
    sluice("topics", "create", "--topic", topic, "--bootstrap-server", broker.bootstrap)
    result = subprocess.run([sys.executable, "-c", SCRIPT, broker.bootstrap, topic], capture_output=True,
                            timeout=120, env={"PYTHONPATH": str(OLD)})
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    assert result.stdout.decode().strip() == "ok"
