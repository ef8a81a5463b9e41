"""Schema registry interop: Confluent's own Python client (SchemaRegistryClient, AvroSerializer,
JSONSerializer and their deserializers) against `sluice serve` with `schema.registry.listeners`,
plus raw HTTP for malformed input and broker-side validation of produced records."""
import base64
import json
import socket
import struct
import subprocess

import httpx
import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic
from confluent_kafka.schema_registry import Schema, SchemaReference, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from conftest import SLUICE_BIN, BrokerProcess, free_port, keystore, unique  # noqa: F401 (dev_certs is a fixture)

CT = {"Content-Type": "application/vnd.schemaregistry.v1+json"}

USER_AVRO = json.dumps({
    "type": "record", "name": "User", "namespace": "com.example",
    "fields": [{"name": "name", "type": "string"}, {"name": "age", "type": "int"}],
})
USER_AVRO_V2 = json.dumps({
    "type": "record", "name": "User", "namespace": "com.example",
    "fields": [{"name": "name", "type": "string"}, {"name": "age", "type": "int"},
               {"name": "email", "type": ["null", "string"], "default": None}],
})
USER_AVRO_BAD = json.dumps({  # a new required field: not BACKWARD compatible
    "type": "record", "name": "User", "namespace": "com.example",
    "fields": [{"name": "name", "type": "string"}, {"name": "age", "type": "int"},
               {"name": "country", "type": "string"}],
})
ORDER_JSON = json.dumps({
    "$schema": "http://json-schema.org/draft-07/schema#", "title": "Order", "type": "object",
    "properties": {"id": {"type": "integer"}, "item": {"type": "string"}},
    "required": ["id", "item"],
})


class RegistryBroker(BrokerProcess):
    def __init__(self, data_dir, overrides=None):
        self.registry_port = free_port()
        o = {"schema.registry.listeners": f"http://127.0.0.1:{self.registry_port}"}
        o.update(overrides or {})
        super().__init__(data_dir, o)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.registry_port}"


@pytest.fixture(scope="module")
def reg(tmp_path_factory):
    b = RegistryBroker(tmp_path_factory.mktemp("registry") / "logs").start()
    yield b
    b.stop()


def client(b, **extra):
    return SchemaRegistryClient({"url": b.url, **extra})


def create_topic(b, name, config):
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    admin.create_topics([NewTopic(name, num_partitions=1, replication_factor=1, config=config)])[name].result(10)


def produce_raw(b, topic, values):
    """Produces each value in its own batch; returns the delivery error per value (None = ok)."""
    results = []
    p = Producer({"bootstrap.servers": b.bootstrap, "linger.ms": 0, "retries": 0})
    for v in values:
        box = {}
        p.produce(topic, value=v, on_delivery=lambda err, msg, box=box: box.setdefault("err", err))
        p.flush(10)
        results.append(box["err"])
    return results


def consume_all(b, topic, n, value_deserializer=None):
    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": unique("g"), "auto.offset.reset": "earliest"})
    c.subscribe([topic])
    out = []
    try:
        for _ in range(100):
            m = c.poll(0.5)
            if m is None or m.error():
                if len(out) >= n:
                    break
                continue
            v = m.value()
            if value_deserializer:
                v = value_deserializer(v, SerializationContext(topic, MessageField.VALUE))
            out.append(v)
            if len(out) >= n:
                break
    finally:
        c.close()
    return out


def test_register_lookup_list_and_delete(reg):
    sr = client(reg)
    subject = unique("users") + "-value"
    sid = sr.register_schema(subject, Schema(USER_AVRO, "AVRO"))
    assert client(reg).register_schema(subject, Schema(USER_AVRO, "AVRO")) == sid  # idempotent
    found = client(reg).lookup_schema(subject, Schema(USER_AVRO, "AVRO"))
    assert (found.schema_id, found.version, found.subject) == (sid, 1, subject)
    sid2 = sr.register_schema(subject, Schema(USER_AVRO_V2, "AVRO"))
    assert sid2 == sid + 1
    assert subject in sr.get_subjects()
    assert sr.get_versions(subject) == [1, 2]
    latest = sr.get_latest_version(subject)
    assert latest.version == 2 and latest.schema_id == sid2 and json.loads(latest.schema.schema_str)["fields"][2]["name"] == "email"
    assert json.loads(client(reg).get_schema(sid).schema_str)["name"] == "User"
    assert client(reg).get_version(subject, 1).schema_id == sid
    # The same schema under another subject keeps its id.
    other = unique("other") + "-value"
    assert sr.register_schema(other, Schema(USER_AVRO, "AVRO")) == sid
    r = httpx.get(f"{reg.url}/schemas/ids/{sid}/versions")
    assert sorted((v["subject"], v["version"]) for v in r.json()) == sorted([(subject, 1), (other, 1)])
    assert httpx.get(f"{reg.url}/schemas/types").json() == ["JSON", "AVRO"]
    assert r.headers["content-type"] == "application/vnd.schemaregistry.v1+json"

    # Soft delete of a version, then of the subject; then permanent.
    assert sr.delete_version(subject, 1) == 1
    assert sr.get_versions(subject) == [2]
    assert httpx.get(f"{reg.url}/subjects/{subject}/versions?deleted=true").json() == [1, 2]
    with pytest.raises(SchemaRegistryError) as e:
        sr.delete_version(subject, 2, permanent=True)
    assert e.value.error_code == 40407
    assert sr.delete_subject(subject) == [2]
    assert subject not in sr.get_subjects()
    assert subject in sr.get_subjects(deleted=True)
    with pytest.raises(SchemaRegistryError) as e:
        client(reg).get_latest_version(subject)
    assert e.value.error_code == 40401 and e.value.http_status_code == 404
    assert sr.delete_subject(subject, permanent=True) == [1, 2]
    assert subject not in sr.get_subjects(deleted=True)
    # The id lives on while `other` uses it.
    assert json.loads(client(reg).get_schema(sid).schema_str)["name"] == "User"
    with pytest.raises(SchemaRegistryError) as e:
        client(reg).get_schema(987654)
    assert e.value.error_code == 40403
    with pytest.raises(SchemaRegistryError) as e:
        client(reg).get_version(other, 7)
    assert e.value.error_code == 40402


def test_compatibility_config_and_mode(reg):
    sr = client(reg)
    subject = unique("compat") + "-value"
    sr.register_schema(subject, Schema(USER_AVRO, "AVRO"))
    assert sr.test_compatibility(subject, Schema(USER_AVRO_V2, "AVRO")) is True
    assert sr.test_compatibility(subject, Schema(USER_AVRO_BAD, "AVRO")) is False
    r = httpx.post(f"{reg.url}/compatibility/subjects/{subject}/versions/latest?verbose=true",
                   json={"schema": USER_AVRO_BAD}, headers=CT)
    assert r.json()["is_compatible"] is False and "country" in " ".join(r.json()["messages"])
    with pytest.raises(SchemaRegistryError) as e:
        sr.register_schema(subject, Schema(USER_AVRO_BAD, "AVRO"))
    assert e.value.http_status_code == 409 and e.value.error_code == 409

    assert sr.get_compatibility() == "BACKWARD"
    sr.set_compatibility(subject, "NONE")
    assert sr.get_compatibility(subject) == "NONE"
    assert sr.register_schema(subject, Schema(USER_AVRO_BAD, "AVRO")) > 0
    r = httpx.get(f"{reg.url}/config/{unique('nosuch')}")
    assert r.status_code == 404 and r.json()["error_code"] == 40408
    assert httpx.get(f"{reg.url}/config/{unique('nosuch')}?defaultToGlobal=true").json() == {"compatibilityLevel": "BACKWARD"}
    r = httpx.put(f"{reg.url}/config/{subject}", json={"compatibility": "SIDEWAYS"}, headers=CT)
    assert r.status_code == 422 and r.json()["error_code"] == 42203
    assert httpx.delete(f"{reg.url}/config/{subject}").json() == {"compatibilityLevel": "NONE"}
    assert httpx.get(f"{reg.url}/config/{subject}?defaultToGlobal=true").json() == {"compatibilityLevel": "BACKWARD"}

    # Modes: READONLY refuses writes, IMPORT accepts explicit ids.
    with pytest.raises(SchemaRegistryError) as e:
        sr.get_mode(subject)
    assert e.value.error_code == 40409
    assert httpx.get(f"{reg.url}/mode").json() == {"mode": "READWRITE"}
    assert sr.update_mode(subject, "READONLY") == "READONLY"
    with pytest.raises(SchemaRegistryError) as e:
        sr.register_schema(subject, Schema(USER_AVRO_V2, "AVRO"))
    assert e.value.error_code == 42205
    r = httpx.put(f"{reg.url}/mode/{subject}", json={"mode": "SLEEPY"}, headers=CT)
    assert r.json()["error_code"] == 42204
    imported = unique("imported") + "-value"
    assert sr.update_mode(imported, "IMPORT") == "IMPORT"
    r = httpx.post(f"{reg.url}/subjects/{imported}/versions", headers=CT,
                   json={"schema": json.dumps({"type": "enum", "name": "Color", "symbols": ["RED"]}), "id": 4242, "version": 7})
    assert r.status_code == 200 and r.json()["id"] == 4242
    assert client(reg).get_version(imported, 7).schema_id == 4242
    r = httpx.post(f"{reg.url}/subjects/{subject}/versions", headers=CT, json={"schema": USER_AVRO_V2, "id": 5000})
    assert r.json()["error_code"] == 42205  # READONLY
    assert sr.get_mode(imported) == "IMPORT"


def test_json_schema_and_references(reg):
    sr = client(reg)
    addr = unique("address") + "-value"
    addr_schema = json.dumps({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]})
    sr.register_schema(addr, Schema(addr_schema, "JSON"))
    person = unique("person") + "-value"
    person_schema = json.dumps({"type": "object", "properties": {"name": {"type": "string"},
                                                                 "home": {"$ref": "address.json"}}})
    pid = sr.register_schema(person, Schema(person_schema, "JSON", [SchemaReference("address.json", addr, 1)]))
    got = client(reg).get_schema(pid)
    assert got.schema_type == "JSON" and got.references[0].name == "address.json"
    assert httpx.get(f"{reg.url}/subjects/{addr}/versions/1/referencedby").json() == [pid]
    with pytest.raises(SchemaRegistryError) as e:
        sr.delete_subject(addr)
    assert e.value.error_code == 42206
    # Avro references: a named type defined in another subject.
    color = unique("color")
    sr.register_schema(color, Schema(json.dumps({"type": "enum", "name": "Color", "namespace": "x", "symbols": ["RED", "BLUE"]}), "AVRO"))
    car = json.dumps({"type": "record", "name": "Car", "namespace": "x", "fields": [{"name": "c", "type": "x.Color"}]})
    assert sr.register_schema(unique("car"), Schema(car, "AVRO", [SchemaReference("x.Color", color, 1)])) > 0
    with pytest.raises(SchemaRegistryError) as e:
        sr.register_schema(unique("car"), Schema(car, "AVRO"))  # without the reference
    assert e.value.error_code == 42201


def test_malformed_requests_get_precise_errors(reg):
    u = reg.url
    r = httpx.post(f"{u}/subjects/m-value/versions", content=b'{"schema": "{\\"type\\": \\"recrd\\"}"}', headers=CT)
    assert r.status_code == 422 and r.json()["error_code"] == 42201
    r = httpx.post(f"{u}/subjects/m-value/versions", content=b"{not json", headers=CT)
    assert r.status_code == 400 and r.json()["error_code"] == 400
    r = httpx.post(f"{u}/subjects/m-value/versions", json={"schema": 12}, headers=CT)
    assert r.status_code == 422
    r = httpx.post(f"{u}/subjects/m-value/versions", json={"schema": "{}", "schemaType": "XML"}, headers=CT)
    assert r.status_code == 422 and r.json()["error_code"] == 42201
    r = httpx.get(f"{u}/subjects/m-value/versions/zero")
    assert r.status_code == 422 and r.json()["error_code"] == 42202
    r = httpx.post(f"{u}/subjects/m-value/versions", content=b"{}", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415
    assert httpx.get(f"{u}/nowhere").status_code == 404
    assert httpx.delete(f"{u}/schemas/types").status_code == 405
    assert not any(s.startswith("m-value") for s in httpx.get(f"{u}/subjects").json())

    def raw(data: bytes) -> bytes:
        with socket.create_connection(("127.0.0.1", reg.registry_port), timeout=5) as s:
            s.sendall(data)
            out = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return out
                out += chunk

    assert raw(b"GARBAGE\r\n\r\n").startswith(b"HTTP/1.1 400")
    assert raw(b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n").startswith(b"HTTP/1.1 414")
    assert raw(b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: " + b"p" * 40000 + b"\r\n\r\n").startswith(b"HTTP/1.1 431")
    assert raw(b"POST /subjects/a/versions HTTP/1.1\r\nHost: x\r\n\r\n").startswith(b"HTTP/1.1 411")
    assert raw(b"POST /subjects/a/versions HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\n").startswith(b"HTTP/1.1 413")
    assert raw(b"GET / HTTP/2.0\r\nHost: x\r\n\r\n").startswith(b"HTTP/1.1 505")
    # Chunked bodies are accepted; two requests on one keep-alive connection both answered.
    body = json.dumps({"schema": '"string"'}).encode()
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    out = raw(b"POST /subjects/chunky/versions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked
              + b"GET /subjects/chunky/versions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert out.count(b"HTTP/1.1 200") == 2 and out.endswith(b"[1]")


def test_avro_produce_with_payload_validation(reg):
    topic = unique("avro-orders")
    create_topic(reg, topic, {"value.schema.validation": "true", "value.schema.validation.level": "payload"})
    sr = client(reg)
    ser = AvroSerializer(sr, USER_AVRO)
    ctx = SerializationContext(topic, MessageField.VALUE)
    good = [ser({"name": "ann", "age": 31}, ctx), ser({"name": "bob", "age": 42}, ctx)]
    assert produce_raw(reg, topic, good) == [None, None]
    sid = struct.unpack(">I", good[0][1:5])[0]
    errors = produce_raw(reg, topic, [
        b"\x00" + struct.pack(">I", 999999) + b"\x06ann\x3e",   # unknown id
        b"\x00" + struct.pack(">I", sid) + b"\x06an",            # truncated payload
        b"plain text, no magic byte",
        None,                                                     # tombstone: allowed
    ])
    for err in errors[:3]:
        assert err is not None and err.code() == KafkaError.INVALID_RECORD, err
    print("librdkafka reports:", [str(e) for e in errors[:3]])
    assert errors[3] is None
    got = consume_all(reg, topic, 3, AvroDeserializer(sr))
    assert got[:2] == [{"name": "ann", "age": 31}, {"name": "bob", "age": 42}] and got[2] is None


def test_refusal_carries_per_record_errors(reg):
    """The ProduceResponse v8+ record_errors and error_message, read with a raw client."""
    from kafka_wire import produce_v8_raw  # noqa: raises ImportError if the helper is missing
    topic = unique("rec-errors")
    create_topic(reg, topic, {"value.schema.validation": "true"})
    errs = produce_v8_raw(reg.port, topic, [b"ok?", None, b"\x00\x7f\xff\xff\xf0xyz"])
    code, message, record_errors = errs
    assert code == 87
    assert [i for i, _ in record_errors] == [0, 2]
    assert "magic byte" in record_errors[0][1] and "unknown schema id 2147483632" in record_errors[1][1]
    assert "record 0" in message


PAIR_JSON = json.dumps({"type": "array", "items": [{"type": "string"}, {"type": "integer"}], "additionalItems": False})


def test_tuple_schema_without_dollar_schema_is_draft7(reg):
    """Confluent's registry reads a JSON schema without $schema as draft 7, where an `items` array is a
    tuple; it registers here too, validates produced records as a tuple and evolves by the tuple rules."""
    subject = unique("pairs") + "-value"
    r = httpx.post(f"{reg.url}/subjects/{subject}/versions", headers=CT,
                   json={"schemaType": "JSON", "schema": PAIR_JSON})
    assert r.status_code == 200, r.text
    sid = r.json()["id"]
    # Adding an item to the closed tuple is BACKWARD compatible; removing one is not.
    triple = json.dumps({"type": "array", "items": [{"type": "string"}, {"type": "integer"}, {"type": "boolean"}],
                         "additionalItems": False})
    r = httpx.post(f"{reg.url}/compatibility/subjects/{subject}/versions/latest?verbose=true", headers=CT,
                   json={"schemaType": "JSON", "schema": triple})
    assert r.json()["is_compatible"] is True, r.text
    single = json.dumps({"type": "array", "items": [{"type": "string"}], "additionalItems": False})
    r = httpx.post(f"{reg.url}/compatibility/subjects/{subject}/versions/latest?verbose=true", headers=CT,
                   json={"schemaType": "JSON", "schema": single})
    assert r.json()["is_compatible"] is False
    assert any(m.startswith("ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL") for m in r.json()["messages"]), r.text
    # Payload validation reads the schema as the tuple it is.
    topic = subject[: -len("-value")]
    create_topic(reg, topic, {"value.schema.validation": "true", "value.schema.validation.level": "payload"})
    frame = b"\x00" + struct.pack(">I", sid)
    results = produce_raw(reg, topic, [frame + b'["a", 1]', frame + b'[1, "a"]', frame + b'["a", 1, 2]'])
    assert results[0] is None
    assert [e.code() for e in results[1:]] == [KafkaError.INVALID_RECORD] * 2


def test_json_schema_default_draft_is_a_setting(tmp_path):
    b = RegistryBroker(tmp_path / "logs", {"schema.registry.json.schema.spec.version": "draft_2020_12"}).start()
    try:
        r = httpx.post(f"{b.url}/subjects/pairs-value/versions", headers=CT, json={"schemaType": "JSON", "schema": PAIR_JSON})
        assert r.status_code == 422 and r.json()["error_code"] == 42201
        assert "/items" in r.json()["message"]
    finally:
        b.stop()
    bad = RegistryBroker(tmp_path / "bad", {"schema.registry.json.schema.spec.version": "draft7"})
    with pytest.raises(RuntimeError) as e:
        bad.start(timeout=10)
    assert "schema.registry.json.schema.spec.version: unknown draft 'draft7'" in str(e.value)


def test_decimal_precision_change_is_compatible_as_in_confluent(reg):
    """Avro Java's SchemaCompatibility (Confluent's) ignores logical-type parameters."""
    sr = client(reg)
    subject = unique("prices") + "-value"

    def price(precision, scale):
        return json.dumps({"type": "record", "name": "Price", "fields": [
            {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": precision, "scale": scale}}]})
    sr.register_schema(subject, Schema(price(9, 2), "AVRO"))
    assert sr.test_compatibility(subject, Schema(price(12, 4), "AVRO")) is True
    assert sr.register_schema(subject, Schema(price(12, 4), "AVRO")) > 0


def test_json_produce_with_validation_and_strategies(reg):
    topic = unique("json-orders")
    create_topic(reg, topic, {"value.schema.validation": "true", "value.schema.validation.level": "payload",
                              "value.subject.name.strategy": "io.confluent.kafka.serializers.subject.RecordNameStrategy"})
    sr = client(reg)
    from confluent_kafka.schema_registry import record_subject_name_strategy
    ser = JSONSerializer(ORDER_JSON, sr, conf={"subject.name.strategy": record_subject_name_strategy})
    ctx = SerializationContext(topic, MessageField.VALUE)
    good = ser({"id": 1, "item": "apple"}, ctx)
    assert "Order" in sr.get_subjects()
    sid = struct.unpack(">I", good[1:5])[0]
    bad = b"\x00" + struct.pack(">I", sid) + json.dumps({"id": "one"}).encode()
    assert produce_raw(reg, topic, [good, bad])[0] is None
    assert produce_raw(reg, topic, [bad])[0].code() == KafkaError.INVALID_RECORD
    got = consume_all(reg, topic, 1, JSONDeserializer(ORDER_JSON))
    assert got == [{"id": 1, "item": "apple"}]

    # Id mode with TopicNameStrategy: an id registered only under another subject is refused.
    topic2 = unique("idmode")
    create_topic(reg, topic2, {"value.schema.validation": "true"})
    assert produce_raw(reg, topic2, [good])[0].code() == KafkaError.INVALID_RECORD
    sr.register_schema(f"{topic2}-value", Schema(ORDER_JSON, "JSON"))
    assert produce_raw(reg, topic2, [good, bad]) == [None, None]  # id mode does not look at the payload


def test_state_survives_kill9(tmp_path):
    b = RegistryBroker(tmp_path / "logs").start()
    try:
        sr = client(b)
        ids = [sr.register_schema(f"s{i}-value", Schema(json.dumps({"type": "fixed", "name": f"F{i}", "size": i + 1}), "AVRO"))
               for i in range(5)]
        sr.set_compatibility("s0-value", "FULL")
        sr.delete_version("s1-value", 1)
        b.kill9()
        b.start()
        sr = client(b)
        assert sorted(sr.get_subjects()) == ["s0-value", "s2-value", "s3-value", "s4-value"]
        assert [client(b).get_version(f"s{i}-value", 1).schema_id for i in (0, 2, 3, 4)] == [ids[0]] + ids[2:]
        assert sr.get_compatibility("s0-value") == "FULL"
        nxt = sr.register_schema("s9-value", Schema('"bytes"', "AVRO"))
        assert nxt == max(ids) + 1
    finally:
        b.stop()


def test_basic_auth_and_subject_acls(tmp_path):
    data = tmp_path / "logs"
    for user, pw in (("alice", "alice-pw"), ("admin", "admin-pw")):
        subprocess.run([SLUICE_BIN, "users", "add", "--user", user, "--password", pw, "--data-dir", str(data)], check=True)
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "registry.acl").write_text("super User:admin\nallow User:alice read,write subject:team-a. prefixed\n")
    b = RegistryBroker(data, {"schema.registry.authentication.method": "BASIC",
                              "authorizer.class.name": "sluice", "acls.policy.dir": str(policies)}).start()
    try:
        r = httpx.get(f"{b.url}/subjects")
        assert r.status_code == 401 and r.json()["error_code"] == 40101 and "Basic" in r.headers["www-authenticate"]
        assert httpx.get(f"{b.url}/subjects", auth=("alice", "wrong")).status_code == 401
        alice = client(b, **{"basic.auth.user.info": "alice:alice-pw"})
        admin = client(b, **{"basic.auth.user.info": "admin:admin-pw"})
        assert alice.register_schema("team-a.orders-value", Schema('"string"', "AVRO")) > 0
        with pytest.raises(SchemaRegistryError) as e:
            alice.register_schema("team-b.orders-value", Schema('"string"', "AVRO"))
        assert e.value.http_status_code == 403
        admin.register_schema("team-b.orders-value", Schema('"string"', "AVRO"))
        assert alice.get_subjects() == ["team-a.orders-value"]
        assert sorted(admin.get_subjects()) == ["team-a.orders-value", "team-b.orders-value"]
        with pytest.raises(SchemaRegistryError) as e:
            alice.delete_subject("team-a.orders-value")  # no Delete grant
        assert e.value.http_status_code == 403
        with pytest.raises(SchemaRegistryError) as e:
            alice.set_compatibility(level="NONE")  # global config needs AlterConfigs on the cluster
        assert e.value.http_status_code == 403
        r = httpx.get(f"{b.url}/subjects", headers={"Authorization": "Bearer abc"})
        assert r.status_code == 401
    finally:
        b.stop()


def test_https_listener_and_bearer_tokens(tmp_path, dev_certs):
    """https:// listeners use the broker's PEM keystore; with authentication on, Bearer tokens are
    checked by the OAUTHBEARER validator against the JWKS file."""
    from jwt_tokens import TokenKeys
    keys = TokenKeys.generate(tmp_path / "jwks.json")
    port = free_port()
    data = tmp_path / "logs"
    subprocess.run([SLUICE_BIN, "users", "add", "--user", "carol", "--password", "carol-pw", "--data-dir", str(data)], check=True)
    b = RegistryBroker(data, {"schema.registry.listeners": f"https://127.0.0.1:{port}",
                              "schema.registry.authentication.method": "BASIC",
                              "ssl.keystore.location": str(keystore(dev_certs)), **keys.broker_properties()}).start()
    try:
        url = f"https://localhost:{port}"
        ca = str(dev_certs / "ca.pem")
        sr = SchemaRegistryClient({"url": url, "ssl.ca.location": ca, "basic.auth.user.info": "carol:carol-pw"})
        assert sr.register_schema("tls-value", Schema('"string"', "AVRO")) > 0
        r = httpx.get(f"{url}/subjects", verify=ca, headers={"Authorization": f"Bearer {keys.valid('alice')}"})
        assert r.status_code == 200 and r.json() == ["tls-value"]
        r = httpx.get(f"{url}/subjects", verify=ca, headers={"Authorization": f"Bearer {keys.expired('alice')}"})
        assert r.status_code == 401 and r.json()["error_code"] == 40101 and "expired" in r.json()["message"]
        r = httpx.get(f"{url}/subjects", verify=ca, headers={"Authorization": f"Bearer {keys.untrusted_key('alice')}"})
        assert r.status_code == 401
        with pytest.raises(httpx.TransportError):
            httpx.get(f"http://127.0.0.1:{port}/subjects", timeout=5)  # plain HTTP to the TLS port
    finally:
        b.stop()


def test_https_without_keystore_is_refused_clearly(tmp_path):
    b = RegistryBroker(tmp_path / "logs", {"schema.registry.listeners": f"https://127.0.0.1:{free_port()}"})
    with pytest.raises(RuntimeError) as e:
        b.start(timeout=10)
    assert "ssl.keystore.location" in str(e.value)


def test_sluice_schemas_cli(reg, tmp_path):
    def sluice(*args, check=True):
        return subprocess.run([SLUICE_BIN, "schemas", *args, "--registry", reg.url], capture_output=True, check=check)

    subject = unique("cli") + "-value"
    f = tmp_path / "user.avsc"
    f.write_text(USER_AVRO)
    out = json.loads(sluice("register", "--subject", subject, "--schema-file", str(f)).stdout)
    assert out["version"] == 1
    assert subject in sluice("list").stdout.decode().split()
    got = json.loads(sluice("get", "--subject", subject).stdout)
    assert got["id"] == out["id"] and json.loads(got["schema"])["name"] == "User"
    assert json.loads(sluice("get", "--id", str(out["id"])).stdout)["schema"] == got["schema"]
    ok = sluice("check", "--subject", subject, "--schema", USER_AVRO_V2)
    assert json.loads(ok.stdout)["is_compatible"] is True
    bad = sluice("check", "--subject", subject, "--schema", USER_AVRO_BAD, check=False)
    assert bad.returncode == 3 and json.loads(bad.stdout)["is_compatible"] is False
    refused = sluice("register", "--subject", subject, "--schema", "{nope", check=False)
    assert refused.returncode == 1 and b"422 (error_code 42201)" in refused.stderr
    assert json.loads(sluice("delete", "--subject", subject).stdout) == [1]
    assert json.loads(sluice("delete", "--subject", subject, "--permanent").stdout) == [1]
    assert subject not in sluice("list", "--deleted").stdout.decode().split()
