"""The security front end with real clients: TLS listeners, SASL PLAIN/SCRAM over SASL_SSL and
SASL_PLAINTEXT, mutual TLS, and the refusals (bad credentials, old TLS, plaintext to a TLS port,
requests or huge frames before authentication) while the broker keeps serving others."""
import os
import socket
import ssl
import struct
import subprocess
import time

import pytest
from confluent_kafka import Consumer, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from conftest import BrokerProcess, keystore, sluice, unique
from kafka_wire import RawConnection, api_versions, raw_plain_login, string16

PASSWORDS = {"alice": "alice-secret", "bob": "bob-secret"}
MECHANISMS = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]


@pytest.fixture(scope="module")
def secure_broker(tmp_path_factory, dev_certs):
    data = tmp_path_factory.mktemp("secure") / "logs"
    for user, password in PASSWORDS.items():
        sluice("users", "add", "--user", user, "--password", password, "--data-dir", str(data))
    b = BrokerProcess(data, listeners=["SASL_SSL", "SASL_PLAINTEXT", "SSL"], overrides={
        "ssl.keystore.location": keystore(dev_certs),
        "ssl.truststore.location": dev_certs / "ca.pem",
        "ssl.client.auth": "requested",
        "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
        # Every test logs in from 127.0.0.1, and some fail on purpose for the same users: keep the
        # login throttle (tested on its own broker below) out of the other tests' way.
        "sasl.login.failures.free": "1000", "sasl.login.failures.refuse": "2000",
    }).start()
    yield b
    b.stop()


def rdkafka_conf(broker, certs, mechanism, user="alice", password=None, listener="SASL_SSL"):
    conf = {"bootstrap.servers": broker.endpoint(listener), "security.protocol": listener,
            "sasl.mechanism": mechanism, "sasl.username": user,
            "sasl.password": password if password is not None else PASSWORDS[user]}
    if listener.endswith("SSL"):
        conf["ssl.ca.location"] = str(certs / "ca.pem")
    return conf


def auth_errors(conf, seconds=3.0):
    """Errors librdkafka reports for a client that only tries to connect (error_cb)."""
    errors = []
    producer = Producer(dict(conf, error_cb=errors.append))
    deadline = time.time() + seconds
    while time.time() < deadline and not errors:
        producer.poll(0.2)
    return errors


def admin_client(conf):
    """An AdminClient; with an oauth_cb, librdkafka asks for the token only when polled."""
    admin = AdminClient(conf)
    if "oauth_cb" in conf:
        admin.poll(0.5)
    return admin


def create_topic(conf, topic, partitions=1):
    admin = admin_client(conf)
    futures = admin.create_topics([NewTopic(topic, partitions, 1)])
    futures[topic].result(timeout=30)


def produce_and_consume(conf, topic, count=200):
    producer = Producer(conf)
    for i in range(count):
        producer.produce(topic, key=str(i).encode(), value=b"v%d" % i)
    assert producer.flush(30) == 0
    consumer = Consumer(dict(conf, **{"group.id": unique("g"), "auto.offset.reset": "earliest",
                                      "enable.auto.commit": False}))
    consumer.subscribe([topic])
    seen = []
    deadline = time.time() + 30
    while len(seen) < count and time.time() < deadline:
        m = consumer.poll(0.5)
        if m is None:
            continue
        assert m.error() is None, m.error()
        seen.append(m.value())
    consumer.close()
    assert seen == [b"v%d" % i for i in range(count)]


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_confluent_kafka_over_sasl_ssl(secure_broker, dev_certs, mechanism):
    conf = rdkafka_conf(secure_broker, dev_certs, mechanism)
    topic = unique("ck-" + mechanism.lower())
    create_topic(conf, topic)
    produce_and_consume(conf, topic)


def test_confluent_kafka_over_sasl_plaintext(secure_broker, dev_certs):
    conf = rdkafka_conf(secure_broker, dev_certs, "SCRAM-SHA-512", user="bob", listener="SASL_PLAINTEXT")
    topic = unique("ck-plaintext")
    create_topic(conf, topic)
    produce_and_consume(conf, topic)


def kafka_python_roundtrip(broker, certs, mechanism, pythonpath=None):
    """Runs kafka-python in a child interpreter (so 2.0.2 can be put first on the path)."""
    topic = unique("kp-" + mechanism.lower())
    create_topic(rdkafka_conf(broker, certs, mechanism), topic)
    script = f"""
from kafka import KafkaProducer, KafkaConsumer
conf = dict(bootstrap_servers={broker.endpoint('SASL_SSL')!r}, security_protocol='SASL_SSL',
            sasl_mechanism={mechanism!r}, sasl_plain_username='alice',
            sasl_plain_password={PASSWORDS['alice']!r}, ssl_cafile={str(certs / 'ca.pem')!r})
p = KafkaProducer(**conf)
for i in range(50):
    p.send({topic!r}, b'kp%d' % i)
p.flush(); p.close()
c = KafkaConsumer({topic!r}, auto_offset_reset='earliest', consumer_timeout_ms=5000, **conf)
values = [m.value for m in c]
c.close()
assert values == [b'kp%d' % i for i in range(50)], values
print('ok')
"""
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    import sys
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0 and "ok" in result.stdout, result.stderr[-3000:]


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_kafka_python_over_sasl_ssl(secure_broker, dev_certs, mechanism):
    kafka_python_roundtrip(secure_broker, dev_certs, mechanism)


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256"])
def test_kafka_python_2_0_raw_tokens_over_sasl_ssl(secure_broker, dev_certs, mechanism):
    """kafka-python 2.0.2 uses SaslHandshake v0 and then bare SASL tokens (KIP-43's old mode)."""
    from pathlib import Path
    old = Path(__file__).resolve().parents[2] / ".pydeps/kafka-python-2.0.2"
    kafka_python_roundtrip(secure_broker, dev_certs, mechanism, pythonpath=str(old))


def kcat_args(broker, certs, mechanism="SCRAM-SHA-256", password=None):
    return ["kcat", "-b", broker.endpoint("SASL_SSL"), "-X", "security.protocol=SASL_SSL",
            "-X", f"sasl.mechanism={mechanism}", "-X", "sasl.username=alice",
            "-X", f"sasl.password={password or PASSWORDS['alice']}",
            "-X", f"ssl.ca.location={certs / 'ca.pem'}"]


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_kcat_over_sasl_ssl_scram(secure_broker, dev_certs, mechanism):
    topic = unique("kcat")
    create_topic(rdkafka_conf(secure_broker, dev_certs, mechanism), topic)
    lines = "\n".join(f"line-{i}" for i in range(20)) + "\n"
    subprocess.run(kcat_args(secure_broker, dev_certs, mechanism) + ["-P", "-t", topic],
                   input=lines, text=True, check=True, timeout=60)
    out = subprocess.run(kcat_args(secure_broker, dev_certs, mechanism) + ["-C", "-t", topic, "-e", "-o", "beginning"],
                         capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.split() == [f"line-{i}" for i in range(20)]


@pytest.mark.parametrize("user,password", [("alice", "wrong-password"), ("mallory", "whatever")])
def test_bad_credentials_are_refused_and_others_keep_working(secure_broker, dev_certs, user, password):
    conf = rdkafka_conf(secure_broker, dev_certs, "SCRAM-SHA-256", user="alice", password=password)
    conf["sasl.username"] = user
    errors = auth_errors(conf)
    assert any(e.code() == -169 and "Authentication failed" in e.str() for e in errors), errors  # _AUTHENTICATION
    # Unknown user and wrong password look the same to the client.
    assert all("mallory" not in e.str() for e in errors)
    good = AdminClient(rdkafka_conf(secure_broker, dev_certs, "SCRAM-SHA-256"))
    assert good.list_topics(timeout=10).brokers


def test_kcat_wrong_password_fails(secure_broker, dev_certs):
    result = subprocess.run(kcat_args(secure_broker, dev_certs, password="nope") + ["-L"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "Authentication failed" in result.stderr or "authentication" in result.stderr.lower()


def tls_client_context(certs, cert_name=None):
    ctx = ssl.create_default_context(cafile=str(certs / "ca.pem"))
    if cert_name:
        ctx.load_cert_chain(str(certs / f"client-{cert_name}.pem"), str(certs / f"client-{cert_name}-key.pem"))
    return ctx


def test_tls_1_1_is_refused(secure_broker, dev_certs):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.minimum_version = ssl.TLSVersion.TLSv1_1
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    except (ValueError, ssl.SSLError):
        pytest.skip("this Python cannot offer TLS 1.1 at all")
    with socket.create_connection(("127.0.0.1", secure_broker.listeners["SASL_SSL"]), timeout=5) as raw:
        with pytest.raises((ssl.SSLError, ConnectionResetError, OSError)):
            with ctx.wrap_socket(raw, server_hostname="localhost"):
                pass
    # TLS 1.2 and 1.3 both work.
    for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        ctx = tls_client_context(dev_certs)
        ctx.minimum_version = version
        ctx.maximum_version = version
        with socket.create_connection(("127.0.0.1", secure_broker.listeners["SASL_SSL"]), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
                assert tls.version() == {ssl.TLSVersion.TLSv1_2: "TLSv1.2", ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[version]


def test_plaintext_bytes_to_the_tls_port_are_dropped(secure_broker, dev_certs):
    conn = RawConnection(secure_broker.listeners["SASL_SSL"])
    conn.send(api_versions(0))
    assert conn.is_closed()
    good = AdminClient(rdkafka_conf(secure_broker, dev_certs, "PLAIN"))
    assert good.list_topics(timeout=10).brokers


def metadata_v1_request(correlation_id=5):
    header = struct.pack(">hhi", 3, 1, correlation_id) + string16("raw-test")
    body = struct.pack(">i", -1)
    payload = header + body
    return struct.pack(">i", len(payload)) + payload


def test_only_handshake_apis_before_authentication(secure_broker):
    conn = RawConnection(secure_broker.listeners["SASL_PLAINTEXT"])
    conn.send(api_versions(0))  # allowed before authentication
    assert len(conn.read_frame()) > 8
    conn.send(metadata_v1_request())
    assert conn.is_closed()


def test_huge_frame_before_authentication_is_refused_at_once(secure_broker, dev_certs):
    conn = RawConnection(secure_broker.listeners["SASL_PLAINTEXT"])
    conn.send(struct.pack(">i", 100 * 1024 * 1024) + b"\x00" * 1000)
    assert conn.is_closed(wait=2)
    # Just above sasl.server.max.receive.size (512 KiB) is refused too; the same frame size is
    # fine on the PLAINTEXT listener, where socket.request.max.bytes applies.
    conn = RawConnection(secure_broker.listeners["SASL_PLAINTEXT"])
    conn.send(struct.pack(">i", 600 * 1024))
    assert conn.is_closed(wait=2)
    good = AdminClient(rdkafka_conf(secure_broker, dev_certs, "PLAIN"))
    assert good.list_topics(timeout=10).brokers


def test_mutual_tls_on_the_ssl_listener(secure_broker, dev_certs):
    """A client certificate from the dev CA is accepted on the SSL listener (principal from the
    certificate); produce and consume work with librdkafka presenting it."""
    conf = {"bootstrap.servers": secure_broker.endpoint("SSL"), "security.protocol": "SSL",
            "ssl.ca.location": str(dev_certs / "ca.pem"),
            "ssl.certificate.location": str(dev_certs / "client-alice.pem"),
            "ssl.key.location": str(dev_certs / "client-alice-key.pem")}
    topic = unique("mtls")
    create_topic(conf, topic)
    produce_and_consume(conf, topic, count=20)


def test_client_certificate_from_an_unknown_ca_is_refused(secure_broker, tmp_path):
    other = tmp_path / "other"
    sluice("certs", "init", "--dir", str(other), "--client", "eve")
    ctx = ssl.create_default_context(cafile=str(other / "ca.pem"))
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.load_cert_chain(str(other / "client-eve.pem"), str(other / "client-eve-key.pem"))
    with socket.create_connection(("127.0.0.1", secure_broker.listeners["SSL"]), timeout=5) as raw:
        with pytest.raises((ssl.SSLError, ConnectionResetError, BrokenPipeError, OSError)):
            with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
                tls.sendall(api_versions(0))
                if not tls.recv(4):
                    raise ConnectionResetError("closed")


def test_reauthentication_keeps_a_long_session_working(tmp_path, dev_certs):
    """connections.max.reauth.ms: librdkafka re-authenticates before the session lifetime ends
    (KIP-368) and keeps producing on the same connection."""
    data = tmp_path / "logs"
    sluice("users", "add", "--user", "alice", "--password", PASSWORDS["alice"], "--data-dir", str(data))
    b = BrokerProcess(data, listeners=["SASL_SSL"], overrides={
        "ssl.keystore.location": keystore(dev_certs), "connections.max.reauth.ms": "2000"}).start()
    try:
        conf = rdkafka_conf(b, dev_certs, "SCRAM-SHA-256")
        topic = unique("reauth")
        create_topic(conf, topic)
        errors = []
        producer = Producer(dict(conf, error_cb=errors.append))
        delivered = []
        for i in range(12):
            producer.produce(topic, value=b"%d" % i, on_delivery=lambda err, msg: delivered.append(err))
            producer.flush(10)
            time.sleep(0.5)
        assert delivered == [None] * 12
        assert not [e for e in errors if "Authentication" in e.str()]
    finally:
        b.stop()


def test_expired_session_without_reauthentication_is_closed(tmp_path, dev_certs):
    """A client that authenticated with SaslAuthenticate and then ignores its session lifetime
    gets its connection closed on the first request after expiry."""
    data = tmp_path / "logs"
    for user in ("alice", "bob"):
        sluice("users", "add", "--user", user, "--password", PASSWORDS[user], "--data-dir", str(data))
    b = BrokerProcess(data, listeners=["SASL_PLAINTEXT"], overrides={"connections.max.reauth.ms": "1000"}).start()
    try:
        conn = RawConnection(b.listeners["SASL_PLAINTEXT"])
        # SaslHandshake v1: PLAIN
        header = struct.pack(">hhi", 17, 1, 1) + string16("raw-test")
        payload = header + string16("PLAIN")
        conn.send(struct.pack(">i", len(payload)) + payload)
        frame = conn.read_frame()
        assert struct.unpack(">h", frame[4:6])[0] == 0
        # SaslAuthenticate v1 (non-flexible): bytes
        token = b"\x00alice\x00" + PASSWORDS["alice"].encode()
        header = struct.pack(">hhi", 36, 1, 2) + string16("raw-test")
        payload = header + struct.pack(">i", len(token)) + token
        conn.send(struct.pack(">i", len(payload)) + payload)
        frame = conn.read_frame()
        error = struct.unpack(">h", frame[4:6])[0]
        assert error == 0
        # error_message (nullable string), auth_bytes, then session_lifetime_ms
        pos = 6
        n = struct.unpack(">h", frame[pos:pos + 2])[0]
        pos += 2 + max(n, 0)
        n = struct.unpack(">i", frame[pos:pos + 4])[0]
        pos += 4 + n
        assert struct.unpack(">q", frame[pos:pos + 8])[0] == 1000
        conn.send(metadata_v1_request())
        assert len(conn.read_frame()) > 8  # served while the session lives
        time.sleep(1.2)
        conn.send(metadata_v1_request())
        assert conn.is_closed()
    finally:
        b.stop()


# ---- OAUTHBEARER: tokens minted here, checked by the broker against a JWKS file

from jwt_tokens import TokenKeys  # noqa: E402


@pytest.fixture(scope="module")
def oauth_broker(tmp_path_factory, dev_certs):
    base = tmp_path_factory.mktemp("oauth")
    keys = TokenKeys.generate(base / "jwks.json")
    overrides = {"ssl.keystore.location": keystore(dev_certs),
                 "sasl.enabled.mechanisms": "OAUTHBEARER,SCRAM-SHA-256",
                 # bad tokens are refused on purpose, all from 127.0.0.1 (see secure_broker)
                 "sasl.login.failures.free": "1000", "sasl.login.failures.refuse": "2000"}
    overrides.update(keys.broker_properties())
    b = BrokerProcess(base / "logs", listeners=["SASL_SSL"], overrides=overrides).start()
    yield b, keys
    b.stop()


def oauth_conf(broker, certs, token_fn):
    def oauth_cb(_config):
        return token_fn(), time.time() + 300
    return {"bootstrap.servers": broker.endpoint("SASL_SSL"), "security.protocol": "SASL_SSL",
            "sasl.mechanism": "OAUTHBEARER", "oauth_cb": oauth_cb, "ssl.ca.location": str(certs / "ca.pem")}


@pytest.mark.parametrize("key", ["rsa", "ec"])
def test_confluent_kafka_oauthbearer(oauth_broker, dev_certs, key):
    b, keys = oauth_broker
    conf = oauth_conf(b, dev_certs, lambda: keys.valid("alice", key=key))
    topic = unique("oauth-" + key)
    create_topic(conf, topic)
    produce_and_consume(conf, topic, count=50)


def test_an_oauth_session_ends_at_the_tokens_exp_by_default(oauth_broker, dev_certs):
    """Without connections.max.reauth.ms the session still lasts only until the token's exp: the
    SaslAuthenticate answer says so (session_lifetime_ms), and librdkafka keeps producing across
    several such ends without a delivery error."""
    b, keys = oauth_broker
    host, port = b.endpoint("SASL_SSL").split(":")
    raw = socket.create_connection((host, int(port)), timeout=10)
    conn = tls_client_context(dev_certs).wrap_socket(raw, server_hostname="localhost")
    try:
        def round_trip(payload):
            conn.sendall(struct.pack(">i", len(payload)) + payload)
            def read(count):
                data = b""
                while len(data) < count:
                    data += conn.recv(count - len(data))
                return data
            return read(struct.unpack(">i", read(4))[0])
        handshake = round_trip(struct.pack(">hhi", 17, 1, 1) + string16("raw-oauth") + string16("OAUTHBEARER"))
        assert struct.unpack(">h", handshake[4:6])[0] == 0
        token = b"n,,\x01auth=Bearer " + keys.valid("alice", lifetime=4).encode() + b"\x01\x01"
        frame = round_trip(struct.pack(">hhi", 36, 1, 2) + string16("raw-oauth") + struct.pack(">i", len(token)) + token)
        assert struct.unpack(">h", frame[4:6])[0] == 0
        pos = 6
        n = struct.unpack(">h", frame[pos:pos + 2])[0]
        pos += 2 + max(n, 0)
        n = struct.unpack(">i", frame[pos:pos + 4])[0]
        pos += 4 + n
        lifetime = struct.unpack(">q", frame[pos:pos + 8])[0]
        assert 2000 <= lifetime <= 4000, lifetime
    finally:
        conn.close()
    conf = oauth_conf(b, dev_certs, lambda: keys.valid("alice", lifetime=3))
    topic = unique("oauth-exp")
    create_topic(conf, topic)
    producer = Producer(conf)
    errors, delivered = [], []
    deadline = time.time() + 8
    while time.time() < deadline:
        producer.produce(topic, value=b"v", on_delivery=lambda err, msg: (errors if err else delivered).append(err))
        producer.poll(0.2)
    producer.flush(10)
    assert errors == [] and len(delivered) >= 30


def test_kafka_python_oauthbearer(oauth_broker, dev_certs):
    b, keys = oauth_broker
    topic = unique("oauth-kp")
    create_topic(oauth_conf(b, dev_certs, lambda: keys.valid("alice")), topic)
    from kafka import KafkaConsumer, KafkaProducer
    from kafka.sasl.oauth import AbstractTokenProvider

    class Provider(AbstractTokenProvider):
        def token(self):
            return keys.valid("alice", key="ec")

    conf = dict(bootstrap_servers=b.endpoint("SASL_SSL"), security_protocol="SASL_SSL",
                sasl_mechanism="OAUTHBEARER", sasl_oauth_token_provider=Provider(),
                ssl_cafile=str(dev_certs / "ca.pem"))
    producer = KafkaProducer(**conf)
    for i in range(20):
        producer.send(topic, b"o%d" % i)
    producer.flush()
    producer.close()
    consumer = KafkaConsumer(topic, auto_offset_reset="earliest", consumer_timeout_ms=5000, **conf)
    values = [m.value for m in consumer]
    consumer.close()
    assert values == [b"o%d" % i for i in range(20)]


@pytest.mark.parametrize("case", ["expired", "not_yet_valid", "wrong_audience", "wrong_issuer",
                                  "untrusted_key", "alg_none"])
def test_bad_tokens_are_refused(oauth_broker, dev_certs, case):
    b, keys = oauth_broker
    errors = auth_errors(oauth_conf(b, dev_certs, lambda: getattr(keys, case)("alice")))
    assert any(e.code() == -169 for e in errors), errors
    good = admin_client(oauth_conf(b, dev_certs, lambda: keys.valid("bob")))
    assert good.list_topics(timeout=10).brokers


def test_jwks_file_replaced_at_run_time(oauth_broker, dev_certs):
    """A token signed by a key that is not in the set is refused until the set lists its key."""
    b, keys = oauth_broker
    from jwt_tokens import SigningKey
    newcomer = SigningKey.ec(kid="rotated-1")
    token = lambda: newcomer.mint(__import__("jwt_tokens").claims("carol"))  # noqa: E731
    conf = oauth_conf(b, dev_certs, token)
    assert any(e.code() == -169 for e in auth_errors(conf))
    keys.write_jwks([keys.rsa, keys.ec, newcomer])
    time.sleep(1.5)  # the broker re-checks the file at most once a second
    assert admin_client(oauth_conf(b, dev_certs, token)).list_topics(timeout=10).brokers


# ---- raw SASL PLAIN over SASL_PLAINTEXT, for the throttle and audit tests

def test_failed_logins_slow_down_then_refuse_and_are_audited(tmp_path):
    data = tmp_path / "logs"
    for user in ("alice", "bob"):
        sluice("users", "add", "--user", user, "--password", PASSWORDS[user], "--data-dir", str(data))
    b = BrokerProcess(data, listeners=["SASL_PLAINTEXT"], overrides={
        "sasl.login.failures.free": "1", "sasl.login.failures.refuse": "4",
        "connection.failed.authentication.delay.ms": "100", "audit.log.sync.interval.ms": "0"}).start()
    try:
        port = b.listeners["SASL_PLAINTEXT"]
        assert raw_plain_login(port, "alice", PASSWORDS["alice"]) == (0, None)
        timings = []
        for _ in range(4):
            start = time.time()
            error, message = raw_plain_login(port, "alice", "wrong")
            timings.append(time.time() - start)
            assert error == 58 and "Invalid username or password" in message
        # The first failure is free; later answers are held back (100 ms, then 200 ms ...).
        assert timings[0] < 0.09 and timings[2] >= 0.09 and timings[3] >= 0.18, timings
        error, message = raw_plain_login(port, "alice", PASSWORDS["alice"])
        assert error == 58 and "Too many failed logins for this user" in message, message
        # Only alice is locked out from this address: bob logs in at once.
        start = time.time()
        assert raw_plain_login(port, "bob", PASSWORDS["bob"]) == (0, None)
        assert time.time() - start < 0.09
    finally:
        b.stop()
    audit_dir = data / "audit"
    result = sluice("audit", "verify", "--dir", str(audit_dir), check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    text = (audit_dir / "audit.log").read_text()
    assert text.count('"decision":"failure"') >= 5 and '"decision":"success"' in text
    assert "wrong" not in text and PASSWORDS["alice"] not in text  # no credential in the audit log
    # An edited line is detected and named.
    lines = text.splitlines(keepends=True)
    lines[1] = lines[1].replace("failure", "success", 1) if "failure" in lines[1] else lines[1].replace("success", "failure", 1)
    (audit_dir / "audit.log").write_text("".join(lines))
    result = sluice("audit", "verify", "--dir", str(audit_dir), check=False)
    assert result.returncode != 0
    assert "audit.log:" in (result.stdout + result.stderr)


def test_client_certificate_principal_is_mapped(tmp_path, dev_certs):
    data = tmp_path / "logs"
    b = BrokerProcess(data, listeners=["SSL"], overrides={
        "ssl.keystore.location": keystore(dev_certs), "ssl.truststore.location": dev_certs / "ca.pem",
        "ssl.client.auth": "required", "audit.log.sync.interval.ms": "0",
        "ssl.principal.mapping.rules": "RULE:^CN=([^,]+),OU=clients.*$/$1/L,DEFAULT"}).start()
    try:
        conf = {"bootstrap.servers": b.endpoint("SSL"), "security.protocol": "SSL",
                "ssl.ca.location": str(dev_certs / "ca.pem"),
                "ssl.certificate.location": str(dev_certs / "client-alice.pem"),
                "ssl.key.location": str(dev_certs / "client-alice-key.pem")}
        assert AdminClient(conf).list_topics(timeout=10).brokers
        # Without a client certificate, `required` refuses the handshake.
        no_cert = {k: v for k, v in conf.items() if not k.startswith("ssl.certificate") and not k.startswith("ssl.key")}
        assert any(e.code() in (-195, -169, -185) for e in auth_errors(no_cert))
    finally:
        b.stop()
    text = (data / "audit" / "audit.log").read_text()
    assert '"principal":"User:alice"' in text, text


def test_peers_vanishing_mid_tls_write_do_not_hurt_the_broker(secure_broker, dev_certs):
    """OpenSSL writes with write(2): a peer that closes while the broker still writes raised
    SIGPIPE, which killed the process before the broker ignored it."""
    ctx = tls_client_context(dev_certs)
    for _ in range(30):
        raw = socket.create_connection(("127.0.0.1", secure_broker.listeners["SSL"]), timeout=5)
        tls = ctx.wrap_socket(raw, server_hostname="localhost")
        tls.sendall(api_versions(3) * 50)
        tls.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST on close
        tls.close()
    time.sleep(0.5)
    assert secure_broker.alive()
    assert AdminClient(rdkafka_conf(secure_broker, dev_certs, "SCRAM-SHA-256")).list_topics(timeout=10).brokers


def test_certificate_principals_count_against_tenant_connection_limits(tmp_path, dev_certs):
    """mTLS members of a tenant (principal from the certificate) are held to the tenant's
    connection count like SASL logins: the second connection is closed."""
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "t.tenants").write_text("tenant t1\n  member User:alice\n  quota connections 1\n")
    b = BrokerProcess(tmp_path / "logs", listeners=["SSL"], overrides={
        "ssl.keystore.location": keystore(dev_certs), "ssl.truststore.location": dev_certs / "ca.pem",
        "ssl.client.auth": "required", "acls.policy.dir": policies, "audit.log.sync.interval.ms": "0",
        "ssl.principal.mapping.rules": "RULE:^CN=([^,]+),OU=clients.*$/$1/,DEFAULT"}).start()
    try:
        ctx = tls_client_context(dev_certs, "alice")
        first = ctx.wrap_socket(socket.create_connection(("127.0.0.1", b.listeners["SSL"]), timeout=5),
                                server_hostname="localhost")
        first.sendall(api_versions(0))
        assert len(first.recv(4)) == 4  # admitted
        second = ctx.wrap_socket(socket.create_connection(("127.0.0.1", b.listeners["SSL"]), timeout=5),
                                 server_hostname="localhost")
        second.sendall(api_versions(0))
        assert second.recv(4) == b""  # over the tenant's connection limit: closed
        first.close()
        second.close()
        time.sleep(0.3)
        third = ctx.wrap_socket(socket.create_connection(("127.0.0.1", b.listeners["SSL"]), timeout=5),
                                server_hostname="localhost")
        third.sendall(api_versions(0))
        assert len(third.recv(4)) == 4  # the first one's place was freed
        third.close()
    finally:
        b.stop()
    assert "connection" in (tmp_path / "logs" / "audit" / "audit.log").read_text()
