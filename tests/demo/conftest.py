"""A small raw demo company, built once per test that asks for it (about a second).

The domains' post-build steps (metrics, health, model, rules...) are left out here: tests/demo/test_cli.py
builds the whole demo, and each domain tests its own step.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tandem.demo.builder import DemoResult, build_demo
from tandem.usage.eventstore import EventStore

TODAY = dt.date(2025, 6, 15)
SMALL = {"accounts": 60, "today": TODAY, "scale": 0.25, "post_build_steps": []}


@pytest.fixture
def fast_hashing(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def small_demo(db, event_store: EventStore, tmp_path: Path, fast_hashing) -> DemoResult:
    return build_demo(seed=42, home=tmp_path, **SMALL)
