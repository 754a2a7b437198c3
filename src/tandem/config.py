"""Runtime configuration read from ``TANDEM_*`` environment variables.

Everything a deployment can change lives here so settings.py, the CLI and the
event store agree on where data is kept.
"""

from __future__ import annotations

import os
from pathlib import Path


def env_str(name: str, default: str) -> str:
    return os.environ.get(f"TANDEM_{name}", default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(f"TANDEM_{name}")
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def tandem_home() -> Path:
    """Directory holding the embedded database, the event store and the secret key."""
    return Path(env_str("HOME", ".tandem")).expanduser().resolve()


def sqlite_path() -> Path:
    return tandem_home() / "tandem.sqlite3"


def events_path() -> Path:
    return Path(env_str("EVENTS_PATH", str(tandem_home() / "events"))).expanduser()


def database_url() -> str:
    return os.environ.get("DATABASE_URL", f"sqlite:///{sqlite_path()}")


def secret_key() -> str:
    """Secret from the environment, else one generated once and kept in TANDEM_HOME."""
    explicit = os.environ.get("TANDEM_SECRET_KEY")
    if explicit:
        return explicit
    home = tandem_home()
    key_file = home / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    import secrets

    home.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key
