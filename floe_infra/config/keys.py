"""The text forms of a tenant's X25519 key pair (`floe-infra tenant keygen`).

Stdlib only: the Polaris provider process seals credentials to a tenant's public key and must not
pay for building the configuration models to decode one.
"""

from __future__ import annotations

import base64
import binascii

# Private keys announce themselves, so a private key pasted where a public one belongs (or anywhere
# in a configuration file or a Helm value) is recognised and refused, as age does with AGE-SECRET-KEY-.
PRIVATE_KEY_PREFIX = "floe-tenant-private-key:"


def _decode_x25519(text: str, kind: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"the {kind} key is not base64") from None
    if len(raw) != 32:
        raise ValueError(f"the {kind} key must be 32 bytes (got {len(raw)}); create a key pair with "
                         "`floe-infra tenant keygen`")
    return raw


def decode_public_key(text: str) -> bytes:
    """A base64 X25519 public key (32 bytes)."""
    if text.strip().startswith(PRIVATE_KEY_PREFIX):
        raise ValueError("this is a tenant's private key, not its public key: paste the public key, the base64 line "
                         "`floe-infra tenant keygen` prints under \"public key\" (the private key stays in the "
                         "pipeline's stack), and make a new key pair: this one is exposed")
    return _decode_x25519(text, "public")


def decode_private_key(text: str) -> bytes:
    """A tenant private key: `floe-tenant-private-key:` + base64 X25519 (the bare base64 of older keys too)."""
    return _decode_x25519(text.strip().removeprefix(PRIVATE_KEY_PREFIX), "private")


def encode_private_key(raw: bytes) -> str:
    """The text form of a tenant private key."""
    return PRIVATE_KEY_PREFIX + base64.b64encode(raw).decode()
