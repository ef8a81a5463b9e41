"""aiokafka (asyncio, its own protocol implementation) against Sluice: admin, an idempotent gzip
producer with keys and headers, a consumer group with commits, over PLAINTEXT and over SASL_SSL
with SCRAM-SHA-512; a wrong password is refused with the client's authentication error."""
import asyncio
import ssl

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError

from conftest import BrokerProcess, keystore, sluice, unique


@pytest.fixture(scope="module")
def aio_broker(tmp_path_factory, dev_certs):
    data = tmp_path_factory.mktemp("aiokafka") / "logs"
    sluice("users", "add", "--user", "dana", "--password", "dana-secret", "--data-dir", str(data))
    b = BrokerProcess(data, listeners=["PLAINTEXT", "SASL_SSL"], overrides={
        "ssl.keystore.location": keystore(dev_certs),
        "sasl.enabled.mechanisms": "SCRAM-SHA-512",
        "sasl.login.failures.free": "1000", "sasl.login.failures.refuse": "2000",
    }).start()
    yield b
    b.stop()


def client_options(broker, certs, listener, password="dana-secret"):
    options = {"bootstrap_servers": broker.endpoint(listener)}
    if listener == "SASL_SSL":
        options.update(security_protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-512",
                       sasl_plain_username="dana", sasl_plain_password=password,
                       ssl_context=ssl.create_default_context(cafile=str(certs / "ca.pem")))
    return options


async def round_trip(options, topic, group):
    admin = AIOKafkaAdminClient(**options)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 3, 1)])
        assert topic in await admin.list_topics()
    finally:
        await admin.close()

    producer = AIOKafkaProducer(enable_idempotence=True, compression_type="gzip", **options)
    await producer.start()
    try:
        for i in range(90):
            await producer.send(topic, key=b"k%d" % (i % 3), value=b"v%d" % i, headers=[("n", str(i).encode())])
        last = await producer.send_and_wait(topic, key=b"k0", value=b"last")
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(topic, group_id=group, auto_offset_reset="earliest",
                                enable_auto_commit=False, **options)
    await consumer.start()
    seen = {}
    try:
        while len(seen) < 91:
            batches = await asyncio.wait_for(consumer.getmany(timeout_ms=500), 30)
            for records in batches.values():
                for r in records:
                    seen[(r.partition, r.offset)] = (r.key, r.value, dict(r.headers))
        await consumer.commit()
        committed = {tp.partition: await consumer.committed(tp) for tp in consumer.assignment()}
    finally:
        await consumer.stop()
    return last, seen, committed


@pytest.mark.parametrize("listener", ["PLAINTEXT", "SASL_SSL"])
def test_aiokafka_produces_consumes_and_commits(aio_broker, dev_certs, listener):
    topic, group = unique("aio"), unique("aio-group")
    last, seen, committed = asyncio.run(round_trip(client_options(aio_broker, dev_certs, listener), topic, group))
    values = sorted(v for _, v, _ in seen.values())
    assert values == sorted([b"v%d" % i for i in range(90)] + [b"last"])
    # One key, one partition, in send order; headers come back as sent.
    by_key = {}
    for (partition, offset), (key, value, headers) in sorted(seen.items()):
        by_key.setdefault(key, set()).add(partition)
        if value != b"last":
            assert headers == {"n": value[1:]}
    assert all(len(partitions) == 1 for partitions in by_key.values())
    assert seen[(last.partition, last.offset)][1] == b"last"
    # Committed offsets are the next offsets to read: together, every record.
    assert sum(committed.values()) == 91


def test_aiokafka_wrong_password_is_refused(aio_broker, dev_certs, caplog):
    async def attempt():
        producer = AIOKafkaProducer(**client_options(aio_broker, dev_certs, "SASL_SSL", password="nope"))
        try:
            await producer.start()
        finally:
            await producer.stop()

    # aiokafka logs the broker's answer (error 58, SASL_AUTHENTICATION_FAILED) and gives up bootstrapping.
    with pytest.raises(KafkaConnectionError):
        asyncio.run(attempt())
    assert "SaslAuthenticationFailed" in caplog.text and "Error 58" in caplog.text
    # The broker keeps serving the right password afterwards.
    _, seen, _ = asyncio.run(round_trip(client_options(aio_broker, dev_certs, "SASL_SSL"),
                                        unique("aio-after"), unique("aio-g")))
    assert len(seen) == 91
