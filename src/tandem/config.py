"""Runtime configuration read from ``TANDEM_*`` environment variables.

Everything a deployment can change lives here so settings.py, the CLI and the
event store agree on where data is kept.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured


def env_str(name: str, default: str) -> str:
    return os.environ.get(f"TANDEM_{name}", default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(f"TANDEM_{name}")
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    """An integer setting; a value that is not a number, or below ``minimum``, stops the start with its name."""
    raw = os.environ.get(f"TANDEM_{name}")
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"TANDEM_{name} must be a whole number, not {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"TANDEM_{name} must be at least {minimum}, not {value}")
    return value


def env_list(name: str, default: str, *, allowed: set[str] | None = None) -> list[str]:
    """A comma-separated setting; with ``allowed``, an unknown item stops the start with its name."""
    items = [item.strip() for item in env_str(name, default).split(",") if item.strip()]
    unknown = sorted(set(items) - allowed) if allowed is not None else []
    if unknown:
        raise ImproperlyConfigured(
            f"TANDEM_{name}: unknown {', '.join(unknown)} (one of {', '.join(sorted(allowed or ()))})"
        )
    return items


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
