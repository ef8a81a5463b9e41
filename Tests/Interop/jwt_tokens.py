"""JWT minting for the OAUTHBEARER interop tests, on the `cryptography` package only.

Generates an RSA and an EC P-256 key, writes their public halves as a JWKS file, and mints
compact JWS tokens (RS256 or ES256): valid, expired, not yet valid, wrong audience or issuer,
signed by a key that is not in the set, and unsigned (alg=none).

    keys = TokenKeys.generate(tmp_path / "jwks.json")
    token = keys.valid("alice")                 # RS256, kid rsa-1, iss/aud = ISSUER/AUDIENCE
    broker overrides: keys.broker_properties()  # sasl.oauthbearer.* for a Sluice broker
"""
import base64
import json
import time
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

ISSUER = "https://idp.sluice.test"
AUDIENCE = "sluice"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def uint_bytes(value: int, length: int = 0) -> bytes:
    """Big-endian, minimal unless a fixed length is asked for (RFC 7518 base64urlUInt)."""
    return value.to_bytes(length or max(1, (value.bit_length() + 7) // 8), "big")


def _json(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


class SigningKey:
    def __init__(self, private_key, kid: str):
        self.private_key = private_key
        self.kid = kid
        self.alg = "RS256" if isinstance(private_key, rsa.RSAPrivateKey) else "ES256"

    @classmethod
    def rsa(cls, kid: str = "rsa-1"):
        return cls(rsa.generate_private_key(public_exponent=65537, key_size=2048), kid)

    @classmethod
    def ec(cls, kid: str = "ec-1"):
        return cls(ec.generate_private_key(ec.SECP256R1()), kid)

    def jwk(self) -> dict:
        numbers = self.private_key.public_key().public_numbers()
        if self.alg == "RS256":
            return {"kty": "RSA", "kid": self.kid, "use": "sig", "alg": "RS256",
                    "n": b64url(uint_bytes(numbers.n)), "e": b64url(uint_bytes(numbers.e))}
        return {"kty": "EC", "kid": self.kid, "use": "sig", "alg": "ES256", "crv": "P-256",
                "x": b64url(uint_bytes(numbers.x, 32)), "y": b64url(uint_bytes(numbers.y, 32))}

    def sign(self, signing_input: bytes) -> bytes:
        if self.alg == "RS256":
            return self.private_key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        r, s = decode_dss_signature(self.private_key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        return uint_bytes(r, 32) + uint_bytes(s, 32)  # JWS wants r || s, not DER

    def mint(self, claims: dict, header: dict = None) -> str:
        head = {"alg": self.alg, "typ": "JWT", "kid": self.kid}
        head.update(header or {})
        signing_input = (b64url(_json(head)) + "." + b64url(_json(claims))).encode()
        return signing_input.decode() + "." + b64url(self.sign(signing_input))


def claims(sub: str, lifetime: int = 600, issued_ago: int = 5, **overrides) -> dict:
    now = int(time.time())
    body = {"sub": sub, "iss": ISSUER, "aud": AUDIENCE, "iat": now - issued_ago, "exp": now + lifetime,
            "scope": "kafka"}
    for name, value in overrides.items():
        if value is None:
            body.pop(name, None)
        else:
            body[name] = value
    return body


class TokenKeys:
    """The trusted keys (in the JWKS file) and one untrusted key of the same shape."""

    def __init__(self, jwks_path: Path, rsa_key: SigningKey, ec_key: SigningKey, stranger: SigningKey):
        self.jwks_path = Path(jwks_path)
        self.rsa = rsa_key
        self.ec = ec_key
        self.stranger = stranger

    @classmethod
    def generate(cls, jwks_path) -> "TokenKeys":
        keys = cls(jwks_path, SigningKey.rsa(), SigningKey.ec(), SigningKey.rsa("rsa-1"))
        keys.write_jwks()
        return keys

    def write_jwks(self, keys=None):
        """Writes the set atomically (temp file + rename), as a key rotation would."""
        keys = keys if keys is not None else [self.rsa, self.ec]
        temp = self.jwks_path.with_suffix(".tmp")
        temp.write_text(json.dumps({"keys": [k.jwk() for k in keys]}, indent=2))
        temp.replace(self.jwks_path)

    def broker_properties(self) -> dict:
        return {"sasl.oauthbearer.jwks.endpoint.url": self.jwks_path.resolve().as_uri(),
                "sasl.oauthbearer.expected.issuer": ISSUER,
                "sasl.oauthbearer.expected.audience": AUDIENCE}

    # Tokens (RS256 unless key="ec").
    def _key(self, key: str) -> SigningKey:
        return self.ec if key == "ec" else self.rsa

    def valid(self, sub: str, key: str = "rsa", **overrides) -> str:
        return self._key(key).mint(claims(sub, **overrides))

    def expired(self, sub: str, key: str = "rsa") -> str:
        return self._key(key).mint(claims(sub, lifetime=-3600, issued_ago=7200))

    def not_yet_valid(self, sub: str, key: str = "rsa") -> str:
        return self._key(key).mint(claims(sub, nbf=int(time.time()) + 3600))

    def wrong_audience(self, sub: str, key: str = "rsa") -> str:
        return self._key(key).mint(claims(sub, aud="someone-else"))

    def wrong_issuer(self, sub: str, key: str = "rsa") -> str:
        return self._key(key).mint(claims(sub, iss="https://evil.test"))

    def untrusted_key(self, sub: str) -> str:
        """Same kid and algorithm as a trusted key, signed by a key the broker does not know."""
        return self.stranger.mint(claims(sub))

    def alg_none(self, sub: str) -> str:
        head = {"alg": "none", "typ": "JWT", "kid": self.rsa.kid}
        return b64url(_json(head)) + "." + b64url(_json(claims(sub))) + "."
