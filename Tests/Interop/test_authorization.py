"""Authorization with real clients over SASL_PLAINTEXT (PLAIN and SCRAM): users made with
`sluice users add`, rules from a policy file, API-made ACLs through kafka-python's admin client,
SCRAM credentials through confluent-kafka's admin client. Each allow and deny must reach the
client as the error Kafka would give (TOPIC_AUTHORIZATION_FAILED, GROUP_AUTHORIZATION_FAILED,
CLUSTER_AUTHORIZATION_FAILED ...)."""
import struct
import time
import uuid

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer
from confluent_kafka.admin import (AdminClient, ConfigResource, NewTopic, ScramCredentialInfo, ScramMechanism,
                                   UserScramCredentialUpsertion)
from kafka.admin import (ACL, ACLFilter, ACLOperation, ACLPermissionType, ACLResourcePatternType,
                         KafkaAdminClient, ResourcePattern, ResourcePatternFilter, ResourceType)
from kafka.errors import ClusterAuthorizationFailedError, PolicyViolationError

from conftest import BrokerProcess, sluice
from kafka_wire import RawConnection, string16

USERS = ["admin", "alice", "bob", "carol"]

POLICY = """\
# test policy: alice owns the alice.* topics and groups, bob reads one shared topic,
# carol administers ACLs and credentials (Alter and Describe on the cluster)
allow User:alice read,write,create,delete,describe-configs topic:alice. prefixed
allow User:alice read group:alice. prefixed
allow User:bob   read topic:alice.shared
allow User:bob   read group:bob. prefixed
allow User:carol alter,describe cluster
"""


def password(user):
    return f"{user}-secret"


@pytest.fixture(scope="module")
def authz(tmp_path_factory):
    root = tmp_path_factory.mktemp("authz")
    data, policies = root / "logs", root / "policies"
    policies.mkdir()
    (policies / "main.acl").write_text(POLICY)
    for user in USERS:
        sluice("users", "add", "--user", user, "--password", password(user), "--data-dir", str(data))
    broker = BrokerProcess(data, listeners=["SASL_PLAINTEXT"], overrides={
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "acls.policy.dir": str(policies),
        "super.users": "User:admin",
        "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
        "group.initial.rebalance.delay.ms": "0",
    }).start()
    broker.policies = policies
    admin = AdminClient(conf(broker, "admin"))
    topics = ["alice.orders", "alice.shared", "admin.secret"]
    for topic, future in admin.create_topics([NewTopic(t, 1, 1) for t in topics]).items():
        future.result(timeout=30)
    yield broker
    broker.stop()


def conf(broker, user, mechanism="PLAIN", pw=None, **extra):
    settings = {"bootstrap.servers": broker.endpoint("SASL_PLAINTEXT"), "security.protocol": "SASL_PLAINTEXT",
                "sasl.mechanism": mechanism, "sasl.username": user,
                "sasl.password": pw if pw is not None else password(user)}
    settings.update(extra)
    return settings


def produce(broker, user, topic, count=3, **extra):
    """Produces `count` records; returns the delivery errors' codes (None for delivered ones)."""
    results = []
    producer = Producer(conf(broker, user, **extra))
    for i in range(count):
        producer.produce(topic, value=f"{user}-{i}".encode(),
                         on_delivery=lambda err, msg: results.append(err.code() if err else None))
    producer.flush(30)
    return results


def consume(broker, user, topic, group, expect=1, timeout=20):
    """Returns (values, error codes) seen by a consumer of `topic` in `group`."""
    consumer = Consumer(conf(broker, user, **{"group.id": group, "auto.offset.reset": "earliest"}))
    consumer.subscribe([topic])
    values, errors = [], []
    deadline = time.time() + timeout
    try:
        while time.time() < deadline and len(values) < expect and not errors:
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            if msg.error():
                errors.append(msg.error().code())
            else:
                values.append(msg.value())
    finally:
        consumer.close()
    return values, errors


def kafka_python_admin(broker, user):
    return KafkaAdminClient(bootstrap_servers=broker.endpoint("SASL_PLAINTEXT"), security_protocol="SASL_PLAINTEXT",
                            sasl_mechanism="PLAIN", sasl_plain_username=user, sasl_plain_password=password(user),
                            request_timeout_ms=20000)


def error_code(future):
    with pytest.raises(KafkaException) as raised:
        future.result(timeout=30)
    return raised.value.args[0].code()


def test_produce_allowed_and_denied(authz):
    assert produce(authz, "alice", "alice.orders") == [None] * 3
    assert produce(authz, "alice", "admin.secret") == [KafkaError.TOPIC_AUTHORIZATION_FAILED] * 3
    assert produce(authz, "bob", "alice.shared") == [KafkaError.TOPIC_AUTHORIZATION_FAILED] * 3


def test_idempotent_producer_needs_write_somewhere(authz):
    # KIP-679: InitProducerId passes with Write on any topic.
    assert produce(authz, "alice", "alice.orders", **{"enable.idempotence": True}) == [None] * 3
    # bob may write nowhere: InitProducerId fails with CLUSTER_AUTHORIZATION_FAILED (fatal for librdkafka).
    producer = Producer(conf(authz, "bob", **{"enable.idempotence": True}))
    producer.produce("alice.shared", value=b"x")
    with pytest.raises(KafkaException) as raised:
        producer.flush(10)
    assert raised.value.args[0].fatal() and raised.value.args[0].code() == KafkaError.CLUSTER_AUTHORIZATION_FAILED


def test_consume_allowed_and_denied(authz):
    produce(authz, "admin", "alice.shared", count=2)
    values, errors = consume(authz, "alice", "alice.shared", f"alice.{uuid.uuid4().hex[:6]}", expect=2)
    assert len(values) == 2 and errors == []
    # bob may read the topic, but not in alice's groups.
    _, errors = consume(authz, "bob", "alice.shared", f"alice.{uuid.uuid4().hex[:6]}")
    assert errors == [KafkaError.GROUP_AUTHORIZATION_FAILED]
    # In his own group he reads, and commits (Read on group and topic).
    values, errors = consume(authz, "bob", "alice.shared", f"bob.{uuid.uuid4().hex[:6]}", expect=2)
    assert len(values) == 2 and errors == []
    # A topic he may not read.
    _, errors = consume(authz, "bob", "alice.orders", f"bob.{uuid.uuid4().hex[:6]}")
    assert errors == [KafkaError.TOPIC_AUTHORIZATION_FAILED]


def test_metadata_lists_only_describable_topics(authz):
    assert sorted(AdminClient(conf(authz, "alice")).list_topics(timeout=20).topics) == ["alice.orders",
                                                                                      "alice.shared"]
    assert sorted(AdminClient(conf(authz, "bob")).list_topics(timeout=20).topics) == ["alice.shared"]
    assert "admin.secret" in AdminClient(conf(authz, "admin")).list_topics(timeout=20).topics


def test_admin_topics_and_configs_allowed_and_denied(authz):
    alice = AdminClient(conf(authz, "alice"))
    created = alice.create_topics([NewTopic("alice.new", 1, 1), NewTopic("other.new", 1, 1)])
    created["alice.new"].result(timeout=30)
    assert error_code(created["other.new"]) == KafkaError.TOPIC_AUTHORIZATION_FAILED
    configs = alice.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, "alice.new"),
                                      ConfigResource(ConfigResource.Type.TOPIC, "admin.secret"),
                                      ConfigResource(ConfigResource.Type.BROKER, "1")])
    futures = list(configs.values())
    assert "retention.ms" in futures[0].result(timeout=30)
    assert error_code(futures[1]) == KafkaError.TOPIC_AUTHORIZATION_FAILED
    assert error_code(futures[2]) == KafkaError.CLUSTER_AUTHORIZATION_FAILED
    deleted = alice.delete_topics(["alice.new", "admin.secret"])
    deleted["alice.new"].result(timeout=30)
    assert error_code(deleted["admin.secret"]) == KafkaError.TOPIC_AUTHORIZATION_FAILED
    assert "admin.secret" in AdminClient(conf(authz, "admin")).list_topics(timeout=20).topics


def test_acl_apis_with_kafka_python(authz):
    bob_reads_secret = ACL(principal="User:bob", host="*", operation=ACLOperation.READ,
                           permission_type=ACLPermissionType.ALLOW,
                           resource_pattern=ResourcePattern(ResourceType.TOPIC, "admin.secret"))
    # alice has no Alter on the cluster.
    alice = kafka_python_admin(authz, "alice")
    result = alice.create_acls([bob_reads_secret])
    assert result["succeeded"] == [] and result["failed"][0][1] is ClusterAuthorizationFailedError
    alice.close()

    produce(authz, "admin", "admin.secret", count=1)
    _, errors = consume(authz, "bob", "admin.secret", f"bob.{uuid.uuid4().hex[:6]}")
    assert errors == [KafkaError.TOPIC_AUTHORIZATION_FAILED]
    carol = kafka_python_admin(authz, "carol")
    result = carol.create_acls([bob_reads_secret])
    assert result["failed"] == [] and len(result["succeeded"]) == 1
    values, errors = consume(authz, "bob", "admin.secret", f"bob.{uuid.uuid4().hex[:6]}")
    assert len(values) == 1 and errors == []
    # `sluice acls explain --data-dir` names the API-made rule that decided.
    explained = sluice("acls", "explain", "--principal", "User:bob", "--operation", "read",
                       "--resource", "topic:admin.secret", "--policies", str(authz.policies),
                       "--data-dir", str(authz.data_dir)).stdout
    assert "ALLOWED" in explained.upper() and "api:" in explained, explained

    # DescribeAcls shows the policy-file rules and the API-made rule.
    acls, error = carol.describe_acls(ACLFilter(principal=None, host=None, operation=ACLOperation.ANY,
                                                permission_type=ACLPermissionType.ANY,
                                                resource_pattern=ResourcePatternFilter(
                                                    ResourceType.ANY, None, ACLResourcePatternType.ANY)))
    shown = {(a.principal, a.operation.name, a.resource_pattern.resource_name,
              a.resource_pattern.pattern_type.name) for a in acls}
    assert ("User:bob", "READ", "admin.secret", "LITERAL") in shown
    assert ("User:alice", "READ", "alice.", "PREFIXED") in shown
    assert ("User:carol", "ALTER", "kafka-cluster", "LITERAL") in shown

    # A filter reaching a policy-file rule is refused as a whole; an exact one deletes the API rule.
    every_read = ACLFilter(principal=None, host=None, operation=ACLOperation.READ,
                           permission_type=ACLPermissionType.ALLOW,
                           resource_pattern=ResourcePatternFilter(ResourceType.TOPIC, None, ACLResourcePatternType.ANY))
    [(_, matched, filter_error)] = carol.delete_acls([every_read])
    assert filter_error is PolicyViolationError and matched == []
    exact = ACLFilter(principal="User:bob", host="*", operation=ACLOperation.READ,
                      permission_type=ACLPermissionType.ALLOW,
                      resource_pattern=ResourcePatternFilter(ResourceType.TOPIC, "admin.secret",
                                                             ACLResourcePatternType.LITERAL))
    [(_, matched, filter_error)] = carol.delete_acls([exact])
    assert filter_error.errno == 0 and [acl.principal for acl, _ in matched] == ["User:bob"]
    carol.close()
    _, errors = consume(authz, "bob", "admin.secret", f"bob.{uuid.uuid4().hex[:6]}")
    assert errors == [KafkaError.TOPIC_AUTHORIZATION_FAILED]


def test_scram_credentials_with_confluent_admin(authz):
    carol = AdminClient(conf(authz, "carol"))
    described = carol.describe_user_scram_credentials(["alice", "nobody"])
    infos = described["alice"].result(timeout=30).scram_credential_infos
    assert sorted((info.mechanism, info.iterations) for info in infos) == [
        (ScramMechanism.SCRAM_SHA_256, 8192), (ScramMechanism.SCRAM_SHA_512, 8192)]
    assert error_code(described["nobody"]) == KafkaError.RESOURCE_NOT_FOUND

    upsert = UserScramCredentialUpsertion("dave", ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 4096),
                                          b"dave-pw", b"salt-for-dave")
    # bob has no Alter on the cluster.
    bob = AdminClient(conf(authz, "bob"))
    assert error_code(bob.alter_user_scram_credentials([upsert])["dave"]) == KafkaError.CLUSTER_AUTHORIZATION_FAILED
    carol.alter_user_scram_credentials([upsert])["dave"].result(timeout=30)
    # Effective for the next login at once, with the mechanism that was set.
    dave = AdminClient(conf(authz, "dave", mechanism="SCRAM-SHA-256", pw="dave-pw"))
    assert "alice.orders" not in dave.list_topics(timeout=20).topics
    bad = carol.alter_user_scram_credentials([UserScramCredentialUpsertion(
        "erin", ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 100), b"pw")])
    assert error_code(bad["erin"]) == KafkaError.UNACCEPTABLE_CREDENTIAL


def test_describe_scram_credentials_denied_at_top_level(authz):
    """Kafka answers an unauthorized DescribeUserScramCredentials with a top-level
    CLUSTER_AUTHORIZATION_FAILED. librdkafka (2.12.1) frees a stack or static string when it parses
    any top-level error of this API and aborts, so the check uses raw bytes, as User:ANONYMOUS on
    the PLAINTEXT listener."""
    header = struct.pack(">hhi", 50, 0, 9) + string16("raw-test") + b"\x00"
    body = b"\x00" + b"\x00"  # users: null (compact array), no tagged fields
    conn = RawConnection(authz.port)
    conn.send(struct.pack(">i", len(header + body)) + header + body)
    frame = conn.read_frame()
    conn.close()
    correlation_id, = struct.unpack(">i", frame[:4])
    throttle, error = struct.unpack(">ih", frame[5:11])  # after the empty tagged-field section
    assert (correlation_id, error) == (9, KafkaError.CLUSTER_AUTHORIZATION_FAILED)


def wait_for(condition, timeout=5.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def test_policy_hot_reload_and_broken_file(authz):
    assert produce(authz, "bob", "alice.shared", count=1) == [KafkaError.TOPIC_AUTHORIZATION_FAILED]
    try:
        (authz.policies / "main.acl").write_text(POLICY + "allow User:bob write topic:alice.shared\n")
        assert wait_for(lambda: produce(authz, "bob", "alice.shared", count=1) == [None])
        # A broken edit keeps that policy in force and is reported with its line.
        (authz.policies / "main.acl").write_text(POLICY + "allow User:bob wrtie topic:alice.shared\n")
        assert wait_for(lambda: "main.acl:8: unknown operation 'wrtie'" in authz.log_path.read_text())
        assert produce(authz, "bob", "alice.shared", count=1) == [None]
    finally:
        (authz.policies / "main.acl").write_text(POLICY)
    assert wait_for(lambda: produce(authz, "bob", "alice.shared", count=1) == [KafkaError.TOPIC_AUTHORIZATION_FAILED])


def test_users_added_offline_can_log_in(authz):
    sluice("users", "add", "--user", "frank", "--password", "frank-pw", "--data-dir", str(authz.data_dir))

    def logs_in():
        try:
            AdminClient(conf(authz, "frank", mechanism="SCRAM-SHA-512", pw="frank-pw")).list_topics(timeout=3)
            return True
        except KafkaException:
            return False

    assert wait_for(logs_in)


ROLLOUT_POLICY = """\
# a cluster halfway through turning authorization on: two topics have rules, the rest none yet
allow User:alice read,write,describe topic:rollout.owned
deny  User:*     write topic:rollout.frozen
"""


def test_allow_everyone_if_no_acl_found(tmp_path):
    """Kafka's allow.everyone.if.no.acl.found=true: a real client may use a topic (and group) that no
    rule mentions; a deny rule still denies, and any rule on a topic closes it to callers it does not
    allow. Each fallback allow is an audit line with its own rule name."""
    data, policies = tmp_path / "logs", tmp_path / "policies"
    policies.mkdir()
    (policies / "main.acl").write_text(ROLLOUT_POLICY)
    for user in ["admin", "alice", "bob"]:
        sluice("users", "add", "--user", user, "--password", password(user), "--data-dir", str(data))
    broker = BrokerProcess(data, listeners=["SASL_PLAINTEXT"], overrides={
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "acls.policy.dir": str(policies), "super.users": "User:admin",
        "allow.everyone.if.no.acl.found": "true",
        "group.initial.rebalance.delay.ms": "0", "audit.log.sync.interval.ms": "0",
    }).start()
    try:
        admin = AdminClient(conf(broker, "admin"))
        for future in admin.create_topics([NewTopic(t, 1, 1) for t in
                                           ["rollout.open", "rollout.owned", "rollout.frozen"]]).values():
            future.result(timeout=30)
        # No rule on the topic, the group, the cluster (idempotent write): allowed.
        assert produce(broker, "bob", "rollout.open", count=2) == [None, None]
        values, errors = consume(broker, "bob", "rollout.open", "rollout-bob", expect=2)
        assert errors == [] and sorted(values) == [b"bob-0", b"bob-1"]
        # A deny rule denies, whoever else is allowed by default.
        assert produce(broker, "bob", "rollout.frozen", count=1) == [KafkaError.TOPIC_AUTHORIZATION_FAILED]
        # A rule for alice on the topic: default-deny for bob, alice allowed by her rule.
        assert produce(broker, "bob", "rollout.owned", count=1) == [KafkaError.TOPIC_AUTHORIZATION_FAILED]
        assert produce(broker, "alice", "rollout.owned", count=1) == [None]
        # Unlike a wildcard allow rule, the fallback is no ACL: DescribeAcls shows the two rules only.
        acls, _ = kafka_python_admin(broker, "admin").describe_acls(
            ACLFilter(principal=None, host=None, operation=ACLOperation.ANY, permission_type=ACLPermissionType.ANY,
                      resource_pattern=ResourcePatternFilter(ResourceType.ANY, None, ACLResourcePatternType.ANY)))
        assert sorted(a.resource_pattern.resource_name for a in acls) == ["rollout.frozen"] + ["rollout.owned"] * 3
    finally:
        broker.stop()
    text = (data / "audit" / "audit.log").read_text()
    fallback = [line for line in text.splitlines() if '"rule":"no-acl-found"' in line]
    assert any('"principal":"User:bob"' in line and '"resource":"topic:rollout.open"' in line
               and '"decision":"allow"' in line for line in fallback), fallback[:5]
    assert any('"resource":"group:rollout-bob"' in line for line in fallback)
    assert not any("rollout.owned" in line or "rollout.frozen" in line for line in fallback)
    assert any('"principal":"User:bob"' in line and '"resource":"topic:rollout.frozen"' in line
               and '"decision":"deny"' in line for line in text.splitlines())
    result = sluice("acls", "explain", "--policies", str(policies), "--principal", "User:bob", "--operation", "read",
                    "--resource", "topic:rollout.open", "--allow-everyone-if-no-acl-found")
    assert "decision: ALLOWED: no ACL found for topic:rollout.open" in result.stdout
