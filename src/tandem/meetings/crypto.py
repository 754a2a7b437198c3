"""Secrets Tandem must send on (a CalDAV password), encrypted at rest with Fernet (``cryptography``).

The key is derived (HKDF-SHA256) from Django's SECRET_KEY, so a copy of the database alone does
not reveal the passwords, but whoever has both the database and the settings does. Changing
SECRET_KEY makes the stored passwords unreadable: users then enter them again (the sync reports
the error). See docs/meetings.md.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


def _fernet() -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"tandem caldav password").derive(
        settings.SECRET_KEY.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


class SecretUnreadable(Exception):
    """The stored secret was encrypted with another SECRET_KEY."""


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable("the stored password cannot be decrypted (SECRET_KEY changed?)") from None
