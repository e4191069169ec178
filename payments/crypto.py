"""Secrets a tenant hands us (its Stripe secret key, its webhook signing secrets), kept encrypted at rest.

Fernet (AES-128-CBC with an HMAC-SHA256 tag) from cryptography. The key is FIELD_ENCRYPTION_KEY when that setting
holds one or more Fernet keys (comma-separated: the first encrypts, every one decrypts, so a key can be rotated), or
else it is derived from SECRET_KEY with HKDF; the derived keys of SECRET_KEY_FALLBACKS still decrypt, so rotating
SECRET_KEY the Django way keeps stored secrets readable until they are saved again.

A database dump alone never reveals a secret; the screens show only a hint (the last four characters).
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

# Binds the derived key to this use: the same SECRET_KEY signs sessions, and a key for one use is never another's.
_HKDF_INFO = b"commerce-hub payments secrets v1"


class SecretUnreadable(Exception):
    """A stored secret cannot be decrypted (the encryption key changed): it must be entered again."""


def _derived(secret_key: str) -> bytes:
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(secret_key.encode())
    return base64.urlsafe_b64encode(raw)


@lru_cache(maxsize=8)
def _fernet(field_keys: str, secret_key: str, fallbacks: tuple[str, ...]) -> MultiFernet:
    configured = [key.strip() for key in field_keys.split(",") if key.strip()]
    if configured:
        keys = [key.encode() for key in configured]
    else:
        keys = [_derived(secret_key), *(_derived(fallback) for fallback in fallbacks)]
    return MultiFernet([Fernet(key) for key in keys])


def _current() -> MultiFernet:
    return _fernet(
        getattr(settings, "FIELD_ENCRYPTION_KEY", "") or "",
        settings.SECRET_KEY,
        tuple(getattr(settings, "SECRET_KEY_FALLBACKS", ()) or ()),
    )


def secret_encrypt(plain: str) -> str:
    return _current().encrypt(plain.encode()).decode("ascii")


def secret_decrypt(token: str) -> str:
    try:
        return _current().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeError, ValueError) as exc:
        raise SecretUnreadable("the stored secret cannot be decrypted with the current key") from exc


def secret_hint(plain: str) -> str:
    """What identifies a secret on screen without revealing it: its last four characters."""
    return f"…{plain[-4:]}" if len(plain) >= 12 else "…"
