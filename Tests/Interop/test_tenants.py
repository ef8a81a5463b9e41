"""Tenants (docs/tenants.md) with real clients over SASL_PLAINTEXT: two tenants each create a topic
called `orders` and use a consumer group called `g`; neither sees, reads, lists or learns the name
of the other's topics, groups or offsets, whatever names it tries (the internal prefix, the other
tenant's name as a prefix, very long names); a principal outside tenancy cannot use the reserved
internal form; the operator (a super user) sees both under their internal names; error messages
never show the prefix; a changed tenants file takes effect without a restart."""
import time
import uuid

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import (AclBinding, AclOperation, AclPermissionType, AdminClient, NewTopic,
                                   ResourcePatternType)
from confluent_kafka.admin import ResourceType as ResourceType_
from kafka.errors import InvalidRequestError
from kafka.admin import (ACL, ACLFilter, ACLOperation, ACLPermissionType, ACLResourcePatternType,
                         KafkaAdminClient, ResourcePattern, ResourcePatternFilter, ResourceType)

from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

from conftest import BrokerProcess, free_port, sluice

USERS = ["admin", "a-app", "b-app", "outsider", "c-app", "a-ops"]

POLICY = """\
super User:admin
# Tenant members' rules are matched against their local names: topic:* is "every topic of my tenant".
allow User:a-app    all               topic:*
allow User:a-app    all               group:*
allow User:a-app    idempotent-write  cluster
allow User:a-app    alter,describe    cluster
allow User:b-app    all               topic:*
allow User:b-app    all               group:*
allow User:b-app    idempotent-write  cluster
allow User:c-app    all               topic:*
# A tenant member holding every permission a rule can grant: still bounded by its tenant.
allow User:a-ops    all               cluster
allow User:a-ops    all               topic:*
allow User:a-ops    all               group:*
allow User:a-app    all               subject:*
allow User:b-app    all               subject:*
# Outside tenancy: even "everything" never reaches the reserved internal form.
allow User:outsider all               topic:*
allow User:outsider all               group:*
"""

TENANTS = """\
tenant team-a
  member User:a-app
  member User:a-ops
  quota  produce-byte-rate 8MiB
tenant team-b
  member User:b-app
"""

PREFIX = "__tenant."


def password(user):
    return f"{user}-secret"


@pytest.fixture(scope="module")
def tenancy(tmp_path_factory):
    root = tmp_path_factory.mktemp("tenants")
    data, policies = root / "logs", root / "policies"
    policies.mkdir()
    (policies / "main.acl").write_text(POLICY)
    (policies / "teams.tenants").write_text(TENANTS)
    for user in USERS:
        sluice("users", "add", "--user", user, "--password", password(user), "--data-dir", str(data))
    registry_port = free_port()
    broker = BrokerProcess(data, listeners=["SASL_PLAINTEXT"], overrides={
        "schema.registry.listeners": f"http://127.0.0.1:{registry_port}",
        "schema.registry.authentication.method": "BASIC",
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "acls.policy.dir": str(policies),
        "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-256",
        "group.initial.rebalance.delay.ms": "0",
    }).start()
    broker.policies = policies
    broker.registry = f"http://127.0.0.1:{registry_port}"
    yield broker
    broker.stop()


def conf(broker, user, **extra):
    settings = {"bootstrap.servers": broker.endpoint("SASL_PLAINTEXT"), "security.protocol": "SASL_PLAINTEXT",
                "sasl.mechanism": "PLAIN", "sasl.username": user, "sasl.password": password(user)}
    settings.update(extra)
    return settings


def kp_admin(broker, user):
    return KafkaAdminClient(bootstrap_servers=broker.endpoint("SASL_PLAINTEXT"), security_protocol="SASL_PLAINTEXT",
                            sasl_mechanism="PLAIN", sasl_plain_username=user, sasl_plain_password=password(user),
                            request_timeout_ms=10000)


def create(broker, user, topic, partitions=1):
    """Creates a topic; returns None or the KafkaError."""
    admin = AdminClient(conf(broker, user))
    future = admin.create_topics([NewTopic(topic, partitions, 1)])[topic]
    try:
        future.result(timeout=30)
        return None
    except KafkaException as e:
        return e.args[0]


def produce(broker, user, topic, values):
    errors = []
    producer = Producer(conf(broker, user, **{"enable.idempotence": True}))
    for value in values:
        producer.produce(topic, value=value.encode(), on_delivery=lambda err, msg: errors.append(err))
    producer.flush(30)
    return errors


def consume(broker, user, topic, group, expect, timeout=20):
    """Reads up to `expect` values from the start with group `group`, commits; returns (values, errors)."""
    consumer = Consumer(conf(broker, user, **{"group.id": group, "auto.offset.reset": "earliest",
                                              "enable.auto.commit": False}))
    consumer.subscribe([topic])
    values, errors = [], []
    deadline = time.time() + timeout
    while len(values) < expect and time.time() < deadline:
        msg = consumer.poll(0.5)
        if msg is None:
            continue
        if msg.error():
            errors.append(msg.error())
            if msg.error().code() in (KafkaError.TOPIC_AUTHORIZATION_FAILED, KafkaError.GROUP_AUTHORIZATION_FAILED):
                break
            continue
        values.append(msg.value().decode())
    if values:
        consumer.commit(asynchronous=False)
    consumer.close()
    return values, errors


def topics_seen(broker, user):
    return set(AdminClient(conf(broker, user)).list_topics(timeout=10).topics)


def test_two_tenants_each_own_orders_and_group(tenancy):
    assert create(tenancy, "a-app", "orders", 2) is None
    assert create(tenancy, "b-app", "orders", 1) is None
    # Each tenant's second create of its own "orders" fails in its own terms.
    again = create(tenancy, "a-app", "orders")
    assert again.code() == KafkaError.TOPIC_ALREADY_EXISTS
    assert PREFIX not in again.str() and "team-a" not in again.str()

    assert produce(tenancy, "a-app", "orders", [f"a-{i}" for i in range(4)]) == [None] * 4
    assert produce(tenancy, "b-app", "orders", [f"b-{i}" for i in range(3)]) == [None] * 3

    a_values, a_errors = consume(tenancy, "a-app", "orders", "g", 4)
    b_values, b_errors = consume(tenancy, "b-app", "orders", "g", 3)
    assert sorted(a_values) == [f"a-{i}" for i in range(4)] and not a_errors
    assert sorted(b_values) == [f"b-{i}" for i in range(3)] and not b_errors

    # The same group name holds each tenant's own offsets (kafka-python's OffsetFetch).
    a_offsets = kp_admin(tenancy, "a-app").list_consumer_group_offsets("g")
    b_offsets = kp_admin(tenancy, "b-app").list_consumer_group_offsets("g")
    assert {tp.topic for tp in a_offsets} == {"orders"} and {tp.topic for tp in b_offsets} == {"orders"}
    assert sum(o.offset for o in a_offsets.values()) == 4
    assert sum(o.offset for o in b_offsets.values()) == 3

    # Metadata and ListGroups: own names only, never the prefix (confluent-kafka and kafka-python).
    assert create(tenancy, "b-app", "b-only") is None
    for user, own in (("a-app", {"orders"}), ("b-app", {"orders", "b-only"})):
        assert topics_seen(tenancy, user) == own
        admin = kp_admin(tenancy, user)
        assert set(admin.list_topics()) == own
        groups = {g[0] for g in admin.list_consumer_groups()}
        assert groups == {"g"}
        described = admin.describe_consumer_groups(["g"])[0]
        assert described.group == "g"
        admin.close()
    confluent_admin = AdminClient(conf(tenancy, "a-app"))
    confluent_groups = confluent_admin.list_consumer_groups().result(timeout=10)
    assert {g.group_id for g in confluent_groups.valid} == {"g"}


@pytest.mark.parametrize("name", [
    PREFIX + "team-b.orders",        # the other tenant's internal name
    "team-b.orders",                 # the other tenant's name as a prefix
    PREFIX + "team-b.b-only",
    "..orders",
])
def test_no_name_reaches_the_other_tenant(tenancy, name):
    produce(tenancy, "b-app", "orders", ["b-secret"])
    # Reading: the name is a's own (empty or absent) topic, never b's.
    values, _ = consume(tenancy, "a-app", name, "g-" + uuid.uuid4().hex, 1, timeout=4)
    assert values == []
    # Creating it makes a's own topic; b's data and names are untouched.
    error = create(tenancy, "a-app", name)
    if error is not None:
        assert PREFIX not in error.str() and "team-a" not in error.str()
    assert produce(tenancy, "a-app", name, ["a-forge"]) == [None]
    assert name not in topics_seen(tenancy, "b-app")
    b_values, _ = consume(tenancy, "b-app", "orders", "check-" + uuid.uuid4().hex, 100, timeout=5)
    assert "a-forge" not in b_values and "b-secret" in b_values
    # The operator sees it in a's namespace.
    assert PREFIX + "team-a." + name in topics_seen(tenancy, "admin")


def test_group_names_cannot_reach_the_other_tenant(tenancy):
    create(tenancy, "b-app", "orders")
    produce(tenancy, "b-app", "orders", ["b-x"])
    consume(tenancy, "b-app", "orders", "shared-🚀", 1)
    admin = kp_admin(tenancy, "a-app")
    for group in ["shared-🚀", PREFIX + "team-b.shared-🚀", "team-b.shared-🚀"]:
        assert admin.list_consumer_group_offsets(group) == {}
    admin.close()


def test_too_long_and_invalid_names_fail_in_the_tenants_terms(tenancy):
    limit = 249 - len(PREFIX + "team-a.")
    assert create(tenancy, "a-app", "x" * limit) is None
    error = create(tenancy, "a-app", "y" * (limit + 1))
    assert error.code() == KafkaError.TOPIC_EXCEPTION
    assert f"{limit} characters" in error.str() and PREFIX not in error.str()
    error = create(tenancy, "a-app", "bad name")
    assert error.code() == KafkaError.TOPIC_EXCEPTION and PREFIX not in error.str()


def test_outsider_cannot_use_the_reserved_form(tenancy):
    create(tenancy, "a-app", "orders")
    error = create(tenancy, "outsider", PREFIX + "team-a.orders")
    assert error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
    error = create(tenancy, "outsider", PREFIX + "team-z.new")
    assert error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
    values, errors = consume(tenancy, "outsider", PREFIX + "team-a.orders", "o-" + uuid.uuid4().hex, 1, timeout=5)
    assert values == []
    errors = produce(tenancy, "outsider", PREFIX + "team-a.orders", ["x"])
    assert errors[0] is not None and errors[0].code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
    assert not any(t.startswith(PREFIX) for t in topics_seen(tenancy, "outsider"))
    # Nor the internal topics holding every tenant's group ids and offsets.
    assert "__consumer_offsets" not in topics_seen(tenancy, "outsider")
    values, errors = consume(tenancy, "outsider", "__consumer_offsets", "o-" + uuid.uuid4().hex, 1, timeout=5)
    assert values == [] and errors and errors[0].code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
    # Its own names work as usual.
    assert create(tenancy, "outsider", "plain-topic") is None
    admin = kp_admin(tenancy, "outsider")
    assert not any(g[0].startswith(PREFIX) for g in admin.list_consumer_groups())
    admin.close()


def test_operator_sees_internal_names(tenancy):
    create(tenancy, "a-app", "orders")
    create(tenancy, "b-app", "orders")
    consume(tenancy, "a-app", "orders", "g", 1)
    consume(tenancy, "b-app", "orders", "g", 1)
    seen = topics_seen(tenancy, "admin")
    assert {PREFIX + "team-a.orders", PREFIX + "team-b.orders"} <= seen
    admin = kp_admin(tenancy, "admin")
    groups = {g[0] for g in admin.list_consumer_groups()}
    assert {PREFIX + "team-a.g", PREFIX + "team-b.g"} <= groups
    offsets = admin.list_consumer_group_offsets(PREFIX + "team-a.g")
    assert {tp.topic for tp in offsets} == {PREFIX + "team-a.orders"}
    admin.close()


def test_changed_tenants_file_takes_effect_without_restart(tenancy):
    # c-app has no tenant yet: its "orders" is the plain topic.
    assert create(tenancy, "c-app", "c-orders") is None
    assert "c-orders" in topics_seen(tenancy, "admin")
    # A broken file is refused and the set in force stays.
    (tenancy.policies / "more.tenants").write_text("tenant team-c\n  member User:c-app\n  quota bogus 1\n")
    time.sleep(2.5)
    assert create(tenancy, "c-app", "c-orders-2") is None
    assert "c-orders-2" in topics_seen(tenancy, "admin")
    log = tenancy.log_path.read_text(errors="replace")
    assert "more.tenants:3: unknown quota 'bogus'" in log
    assert log.count("more.tenants:3: unknown quota 'bogus'") == 1
    # Fixed: c-app is now in team-c, and its names live there.
    (tenancy.policies / "more.tenants").write_text("tenant team-c\n  member User:c-app\n")
    time.sleep(2.5)
    assert create(tenancy, "c-app", "c-orders") is None
    assert PREFIX + "team-c.c-orders" in topics_seen(tenancy, "admin")
    assert topics_seen(tenancy, "c-app") == {"c-orders"}


def test_cli_lists_and_describes_tenants(tenancy):
    out = sluice("tenants", "list", "--policies", str(tenancy.policies)).stdout
    assert "team-a" in out and "team-b" in out
    out = sluice("tenants", "describe", "--policies", str(tenancy.policies), "--data-dir", str(tenancy.data_dir),
                 "--tenant", "team-a").stdout
    assert "orders" in out and "produce-byte-rate" in out and PREFIX not in out.split("namespace")[0]


def registry(broker, user):
    return SchemaRegistryClient({"url": broker.registry, "basic.auth.user.info": f"{user}:{password(user)}"})


def record(name):
    return Schema('{"type":"record","name":"%s","fields":[{"name":"id","type":"string"}]}' % name, "AVRO")


def test_schema_subjects_live_in_the_tenants_namespace(tenancy):
    a, b, admin = registry(tenancy, "a-app"), registry(tenancy, "b-app"), registry(tenancy, "admin")
    a.register_schema("orders-value", record("AOrder"))
    b.register_schema("orders-value", record("BOrder"))
    assert a.get_subjects() == ["orders-value"] and b.get_subjects() == ["orders-value"]
    latest = a.get_latest_version("orders-value")
    assert latest.subject == "orders-value" and "AOrder" in latest.schema.schema_str
    assert "BOrder" in b.get_latest_version("orders-value").schema.schema_str
    for forged in [PREFIX + "team-b.orders-value", "team-b.orders-value"]:
        with pytest.raises(SchemaRegistryError) as refused:
            a.get_latest_version(forged)
        assert refused.value.http_status_code == 404
        # The message names the subject as the client sent it, never the internal form.
        message = str(refused.value)
        assert f"'{forged}'" in message and PREFIX not in message.replace(forged, "")
    # The same schema text in both tenants shares an id; each sees only its own subject using it.
    same = record("Shared")
    ida = a.register_schema("shared-value", same)
    idb = b.register_schema("shared-value", same)
    assert ida == idb
    assert a.get_subjects() == ["orders-value", "shared-value"]  # (checked before the references below)
    # Schema references name subjects of the tenant's own namespace, and come back in its terms.
    from confluent_kafka.schema_registry import SchemaReference
    a.register_schema("customer-value", record("Customer"))
    with_reference = Schema('{"type":"record","name":"Order2","fields":[{"name":"c","type":"Customer"}]}', "AVRO",
                            [SchemaReference("Customer", "customer-value", 1)])
    a.register_schema("order2-value", with_reference)
    registered = a.get_latest_version("order2-value").schema
    assert [(r.name, r.subject, r.version) for r in registered.references] == [("Customer", "customer-value", 1)]
    with pytest.raises(SchemaRegistryError):  # team-b has no customer-value to refer to
        b.register_schema("order2-value", with_reference)
    # The operator sees the internal subjects.
    subjects = admin.get_subjects()
    assert {PREFIX + "team-a.orders-value", PREFIX + "team-b.orders-value"} <= set(subjects)


def test_oauth_claim_puts_a_session_in_a_tenant(tmp_path):
    """`member claim:tenant=team-x`: tokens carrying that claim are team-x's, whatever their
    subject; on a broker without an authorizer, tenancy still separates the namespaces."""
    from jwt_tokens import TokenKeys
    keys = TokenKeys.generate(tmp_path / "jwks.json")
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "x.tenants").write_text("tenant team-x\n  member claim:tenant=team-x\n")
    overrides = {"sasl.enabled.mechanisms": "OAUTHBEARER", "acls.policy.dir": str(policies)}
    overrides.update(keys.broker_properties())
    broker = BrokerProcess(tmp_path / "logs", listeners=["SASL_PLAINTEXT"], overrides=overrides).start()
    try:
        def oauth(sub, **claims):
            def oauth_cb(_config):
                return keys.valid(sub, **claims), time.time() + 300
            return {"bootstrap.servers": broker.endpoint("SASL_PLAINTEXT"), "security.protocol": "SASL_PLAINTEXT",
                    "sasl.mechanism": "OAUTHBEARER", "oauth_cb": oauth_cb}

        def oauth_topics(conf):
            admin = AdminClient(conf)
            admin.poll(0.5)
            return set(admin.list_topics(timeout=10).topics)

        member, other, outsider = oauth("svc-1", tenant="team-x"), oauth("svc-2", tenant="team-x"), oauth("svc-3")
        admin = AdminClient(member)
        admin.poll(0.5)
        admin.create_topics([NewTopic("orders", 1, 1)])["orders"].result(timeout=30)
        assert oauth_topics(other) == {"orders"}          # another subject with the same claim
        seen = oauth_topics(outsider)
        assert "orders" not in seen and not any(t.startswith(PREFIX) for t in seen)
        admin = AdminClient(outsider)
        admin.poll(0.5)
        with pytest.raises(KafkaException) as refused:
            admin.create_topics([NewTopic(PREFIX + "team-x.orders", 1, 1)])[PREFIX + "team-x.orders"].result(timeout=30)
        assert refused.value.args[0].code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
        # Without an authorizer too, the outsider lists no tenant's groups.
        consumer = Consumer({**member, "group.id": "g", "auto.offset.reset": "earliest"})
        consumer.subscribe(["orders"])
        consumer.poll(3)
        consumer.close()
        groups = AdminClient(outsider)
        groups.poll(0.5)
        listed = {g.group_id for g in groups.list_consumer_groups().result(timeout=10).valid}
        assert not any(g.startswith(PREFIX) for g in listed)
        groups = AdminClient(other)
        groups.poll(0.5)
        assert {g.group_id for g in groups.list_consumer_groups().result(timeout=10).valid} == {"g"}
    finally:
        broker.stop()


def test_acl_apis_stay_within_the_tenant(tenancy):
    admin = kp_admin(tenancy, "a-app")
    own = ACL("User:a-app", "*", ACLOperation.READ, ACLPermissionType.ALLOW,
              ResourcePattern(ResourceType.TOPIC, "reports", ACLResourcePatternType.LITERAL))
    other = ACL("User:b-app", "*", ACLOperation.READ, ACLPermissionType.ALLOW,
                ResourcePattern(ResourceType.TOPIC, "reports", ACLResourcePatternType.LITERAL))
    result = admin.create_acls([own, other])
    assert len(result["succeeded"]) == 1 and len(result["failed"]) == 1
    assert result["failed"][0][1] is InvalidRequestError
    # librdkafka shows the broker's message: it names the principal, never a namespace.
    binding = AclBinding(ResourceType_.TOPIC, "reports", ResourcePatternType.LITERAL, "User:b-app", "*",
                         AclOperation.READ, AclPermissionType.ALLOW)
    confluent = AdminClient(conf(tenancy, "a-app"))
    with pytest.raises(KafkaException) as refused:
        confluent.create_acls([binding])[binding].result(timeout=10)
    assert "User:b-app is not a member of your tenant" in refused.value.args[0].str()
    assert PREFIX not in refused.value.args[0].str()
    everything = ACLFilter(None, None, ACLOperation.ANY, ACLPermissionType.ANY,
                           ResourcePatternFilter(ResourceType.ANY, None, ACLResourcePatternType.ANY))
    acls, error = admin.describe_acls(everything)
    assert {acl.principal for acl in acls} == {"User:a-app", "User:a-ops"}
    assert any(acl.resource_pattern.resource_name == "reports" for acl in acls)
    admin.close()
    operator = kp_admin(tenancy, "admin")
    acls, error = operator.describe_acls(everything)
    assert {"User:a-app", "User:b-app", "User:outsider"} <= {acl.principal for acl in acls}
    operator.close()


def test_a_member_with_every_cluster_permission_stays_in_its_tenant(tenancy):
    """The take-over of issue 11: a tenant member with `all` on the cluster resets the super user's
    password. Refused now: a member changes only its own credentials, sees only its own user, and
    never reads or changes broker configs; the operator still logs in with its own password."""
    from confluent_kafka.admin import (ConfigResource, ResourceType as ConfigType, ScramCredentialInfo,
                                       ScramMechanism, UserScramCredentialUpsertion)
    member = AdminClient(conf(tenancy, "a-ops"))
    info = ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 4096)
    futures = member.alter_user_scram_credentials([
        UserScramCredentialUpsertion("admin", info, b"taken-over"),
        UserScramCredentialUpsertion("b-app", info, b"taken-over"),
        UserScramCredentialUpsertion("a-ops", info, password("a-ops").encode()),
    ])
    for user in ("admin", "b-app"):
        with pytest.raises(KafkaException) as refused:
            futures[user].result(timeout=10)
        assert refused.value.args[0].code() == KafkaError.CLUSTER_AUTHORIZATION_FAILED
    futures["a-ops"].result(timeout=10)
    # The operator logs in with its password (SCRAM), not with the attacker's.
    scram = {"sasl.mechanism": "SCRAM-SHA-256"}
    assert "__consumer_offsets" in AdminClient(conf(tenancy, "admin", **scram)).list_topics(timeout=10).topics
    hijacked = AdminClient(conf(tenancy, "admin", **scram, **{"sasl.password": "taken-over"}))
    with pytest.raises(KafkaException):
        hijacked.list_topics(timeout=5)
    # Its own user only.
    described = member.describe_user_scram_credentials().result(timeout=10)
    assert set(described) == {"a-ops"}
    # Broker configs: neither read nor changed.
    broker = ConfigResource(ConfigType.BROKER, "1")
    with pytest.raises(KafkaException) as refused:
        member.describe_configs([broker])[broker].result(timeout=10)
    assert refused.value.args[0].code() == KafkaError.CLUSTER_AUTHORIZATION_FAILED
    # `sluice acls lint` warns about the rule that says more than a member can have.
    lint = sluice("acls", "lint", "--policies", str(tenancy.policies)).stdout
    assert "User:a-ops, a member of tenant team-a," in lint and "cluster-action" in lint
