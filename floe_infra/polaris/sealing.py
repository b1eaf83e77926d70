"""Sealed boxes for handing a tenant its catalog credentials through public stack outputs.

The platform stack seals each tenant's credentials to the tenant's public key (X25519, libsodium
sealed box); only the pipeline stack holding the matching private key (its own encrypted stack
config) can open them. Whoever else reads the platform stack's outputs sees ciphertext only, on
Pulumi Cloud and on self-managed backends alike.
"""

from __future__ import annotations

import base64
import binascii
import json

from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

from floe_infra.config.keys import decode_private_key, decode_public_key, encode_private_key
from floe_infra.errors import FloeError


class SealingError(FloeError):
    """Raised when a key is malformed or a sealed value cannot be opened with the given key."""


def generate_keypair() -> tuple[str, str]:
    """A new (public, private) key pair: the public key base64, the private key marked as one."""
    private = PrivateKey.generate()
    return base64.b64encode(bytes(private.public_key)).decode(), encode_private_key(bytes(private))


def _key(text: str, kind: str) -> bytes:
    try:
        return decode_public_key(text) if kind == "public" else decode_private_key(text)
    except ValueError as exc:
        raise SealingError(f"tenant {exc}") from None


def seal(public_key: str, credentials: dict[str, str]) -> str:
    """Credentials sealed to a tenant's public key (base64)."""
    box = SealedBox(PublicKey(_key(public_key, "public")))
    return base64.b64encode(box.encrypt(json.dumps(credentials, sort_keys=True).encode())).decode()


def unseal(private_key: str, sealed: str) -> dict[str, str]:
    """Open sealed credentials with the tenant's private key.

    Raises:
        SealingError: When the key does not match or the value is not a sealed box.
    """
    box = SealedBox(PrivateKey(_key(private_key, "private")))
    try:
        return json.loads(box.decrypt(base64.b64decode(sealed)))
    except (CryptoError, binascii.Error, ValueError) as exc:
        raise SealingError("the sealed catalog credentials cannot be opened with floe:tenantKey; is it the key "
                           "whose public half is in platform.yaml for this tenant?") from exc
