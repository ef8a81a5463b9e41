"""Shared fixtures for the interop tests: a real `sluice serve` process per test module.

Every test talks to the broker only through real clients (confluent-kafka / librdkafka,
kafka-python, kcat) or raw sockets, never through our own code.
"""
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

SLUICE_BIN = os.environ.get("SLUICE_BIN") or str(Path(__file__).resolve().parents[2] / ".build/release/sluice")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class BrokerProcess:
    """One broker process with its own data directory, restartable on the same port."""

    def __init__(self, data_dir: Path, overrides=None, listeners=None):
        self.data_dir = Path(data_dir)
        self.port = free_port()
        self.overrides = dict(overrides or {})
        # Extra listeners beside the PLAINTEXT one on self.port: {"SASL_SSL": port, ...}.
        self.listeners = {name: free_port() for name in (listeners or [])}
        self.proc = None
        self.log_path = self.data_dir.parent / f"broker-{self.port}.log"

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout=30):
        listeners = ",".join([f"PLAINTEXT://127.0.0.1:{self.port}"]
                             + [f"{name}://127.0.0.1:{port}" for name, port in self.listeners.items()])
        args = [SLUICE_BIN, "serve",
                "--override", f"listeners={listeners}",
                "--override", f"log.dirs={self.data_dir}"]
        for k, v in self.overrides.items():
            args += ["--override", f"{k}={v}"]
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"broker exited with {self.proc.returncode}: {self.log_path.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("broker did not start listening")

    def endpoint(self, listener: str) -> str:
        return f"127.0.0.1:{self.listeners[listener]}"

    def stop(self, timeout=30):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        self.proc = None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    b = BrokerProcess(tmp_path_factory.mktemp("data") / "logs").start()
    yield b
    b.stop()
    assert b.proc is None


@pytest.fixture
def fresh_broker(tmp_path):
    """A broker for one test (crash and recovery tests own theirs)."""
    brokers = []

    def make(**overrides):
        b = BrokerProcess(tmp_path / f"logs{len(brokers)}", overrides).start()
        brokers.append(b)
        return b

    yield make
    for b in brokers:
        b.stop()


def unique(prefix: str) -> str:
    return f"{prefix}-{time.time_ns() % 10**12}"


def sluice(*args, input=None, check=True):
    """Runs the sluice CLI; returns the completed process."""
    return subprocess.run([SLUICE_BIN, *args], input=input, capture_output=True, text=True, check=check)


@pytest.fixture(scope="session")
def dev_certs(tmp_path_factory):
    """A development CA, a broker certificate for localhost/127.0.0.1 and client certificates for
    alice and bob, made by `sluice certs init`. Returns the directory."""
    directory = tmp_path_factory.mktemp("certs")
    sluice("certs", "init", "--dir", str(directory), "--client", "alice", "--client", "bob")
    return directory


def keystore(certs):
    """KIP-651 PEM keystore: the broker's key followed by its certificate chain."""
    path = certs / "broker-keystore.pem"
    if not path.exists():
        path.write_bytes((certs / "broker-key.pem").read_bytes() + (certs / "broker.pem").read_bytes())
    return path
