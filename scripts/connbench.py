#!/usr/bin/env python3
"""Connection setup cost against a SASL_SSL listener: full TLS handshakes (no resumption) plus a
SCRAM-SHA-256 exchange (SaslHandshake v1 + two SaslAuthenticate round trips), one new TCP
connection each, for SECS seconds. Prints one RESULT line.

usage: connbench.py HOST:PORT CA_FILE USER PASSWORD SECS [THREADS]
"""
import base64
import hashlib
import hmac
import os
import socket
import ssl
import struct
import sys
import threading
import time


def frame(api_key, version, correlation_id, body):
    client = b"connbench"
    payload = struct.pack(">hhih", api_key, version, correlation_id, len(client)) + client + body
    return struct.pack(">i", len(payload)) + payload


def read_frame(sock):
    def exact(n):
        buf = b""
        while len(buf) < n:
            chunk = sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("closed")
            buf += chunk
        return buf
    return exact(struct.unpack(">i", exact(4))[0])


def authenticate(sock, token, correlation_id):
    sock.sendall(frame(36, 1, correlation_id, struct.pack(">i", len(token)) + token))
    response = read_frame(sock)
    error = struct.unpack(">h", response[4:6])[0]
    pos = 6
    n = struct.unpack(">h", response[pos:pos + 2])[0]
    pos += 2 + max(n, 0)
    n = struct.unpack(">i", response[pos:pos + 4])[0]
    if error:
        raise RuntimeError(f"SaslAuthenticate error {error}")
    return response[pos + 4:pos + 4 + n]


def one_login(host, port, ctx, user, password):
    with socket.create_connection((host, port)) as raw:
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with ctx.wrap_socket(raw, server_hostname=host) as sock:
            mech = b"SCRAM-SHA-256"
            sock.sendall(frame(17, 1, 1, struct.pack(">h", len(mech)) + mech))
            if struct.unpack(">h", read_frame(sock)[4:6])[0] != 0:
                raise RuntimeError("SaslHandshake refused")
            nonce = base64.b64encode(os.urandom(18)).decode()
            bare = f"n={user},r={nonce}"
            server_first = authenticate(sock, ("n,," + bare).encode(), 2).decode()
            fields = dict(item.split("=", 1) for item in server_first.split(","))
            salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(fields["s"]), int(fields["i"]))
            client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
            stored_key = hashlib.sha256(client_key).digest()
            without_proof = f"c=biws,r={fields['r']}"
            auth_message = f"{bare},{server_first},{without_proof}".encode()
            signature = hmac.new(stored_key, auth_message, hashlib.sha256).digest()
            proof = bytes(a ^ b for a, b in zip(client_key, signature))
            final = authenticate(sock, f"{without_proof},p={base64.b64encode(proof).decode()}".encode(), 3)
            if not final.startswith(b"v="):
                raise RuntimeError("no server signature")


def main():
    target, ca, user, password, secs = sys.argv[1:6]
    threads = int(sys.argv[6]) if len(sys.argv) > 6 else 2
    host, port = target.rsplit(":", 1)
    ctx = ssl.create_default_context(cafile=ca)
    ctx.options |= ssl.OP_NO_TICKET
    deadline = time.time() + float(secs)
    counts = [0] * threads
    errors = []

    def worker(i):
        while time.time() < deadline:
            try:
                one_login(host, int(port), ctx, user, password)
                counts[i] += 1
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(repr(e))
                return

    start = time.time()
    workers = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.time() - start
    total = sum(counts)
    print(f"RESULT mode=connect logins={total} secs={elapsed:.2f} logins_per_s={total / elapsed:.0f} "
          f"threads={threads} errors={len(errors)}" + (f" first_error={errors[0]!r}" if errors else ""))


if __name__ == "__main__":
    main()
