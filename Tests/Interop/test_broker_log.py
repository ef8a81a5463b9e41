"""The operator log of a real `sluice serve` (stderr, captured in the broker's log file):
slow requests over log.slow.request.threshold.ms, and log.level filtering."""
import re

from confluent_kafka.admin import AdminClient, NewTopic

from conftest import unique

STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


def create(broker, topic, partitions, client_id):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap, "client.id": client_id})
    admin.create_topics([NewTopic(topic, partitions, 1)])[topic].result(30)


def test_slow_requests_name_api_and_client(fresh_broker):
    # Creating 300 partitions (directories, segment files, a metadata fsync) takes well over 1 ms.
    b = fresh_broker(**{"log.slow.request.threshold.ms": "1"})
    topic = unique("wide")
    create(b, topic, 300, "slow-admin")
    log = b.log_path.read_text(errors="replace")
    assert re.search(rf"^{STAMP} WARN  \[requests\] slow request: CreateTopics v\d+ from client id 'slow-admin' "
                     r"\(User:ANONYMOUS, 127\.0\.0\.1\) took \d+ ms \(log\.slow\.request\.threshold\.ms=1\)$", log, re.M)
    assert re.search(rf"INFO  \[topics\] topic {topic} created with 300 partition\(s\)$", log, re.M)


def test_log_level_error_keeps_info_and_warn_out(fresh_broker):
    b = fresh_broker(**{"log.level": "error", "log.slow.request.threshold.ms": "1"})
    create(b, unique("quiet"), 300, "quiet-admin")
    log = b.log_path.read_text(errors="replace")
    assert not re.search(rf"^{STAMP} (INFO |WARN |DEBUG)", log, re.M), log
    assert "sluice: serving" in log  # the CLI's own start-up line is not the broker's log
