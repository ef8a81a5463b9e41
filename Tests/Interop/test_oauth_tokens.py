"""Tokens minted by jwt_tokens.py (Python `cryptography`) checked by Sluice's validator through
`sluice oauth validate`: both sides must agree on every case the broker tests rely on."""
import subprocess

import pytest

from conftest import SLUICE_BIN
from jwt_tokens import AUDIENCE, ISSUER, TokenKeys


def validate(keys, token):
    result = subprocess.run([SLUICE_BIN, "oauth", "validate", "--jwks", str(keys.jwks_path),
                             "--issuer", ISSUER, "--audience", AUDIENCE],
                            input=(token + "\n").encode(), capture_output=True, timeout=30)
    return result.returncode, result.stdout.decode().strip()


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    return TokenKeys.generate(tmp_path_factory.mktemp("oauth") / "jwks.json")


@pytest.mark.parametrize("key", ["rsa", "ec"])
def test_valid_tokens(keys, key):
    code, out = validate(keys, keys.valid("alice", key=key))
    assert code == 0 and out.startswith("valid principal=alice "), out


@pytest.mark.parametrize("case,kind", [
    ("expired", "expired"), ("not_yet_valid", "notYetValid"), ("wrong_audience", "wrongAudience"),
    ("wrong_issuer", "wrongIssuer"), ("untrusted_key", "badSignature"), ("alg_none", "malformed"),
])
def test_refused_tokens(keys, case, kind):
    code, out = validate(keys, getattr(keys, case)("alice"))
    assert code == 3 and out.startswith(f"invalid {kind}:"), out
