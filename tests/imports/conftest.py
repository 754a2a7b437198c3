"""Helpers to write import files and to compare the whole database before and after."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tandem.accounts.models import Account, Contact, ContactRole
from tandem.subscriptions.models import ExchangeRate, Product, Subscription, SubscriptionItem
from tandem.support.models import Ticket

MODELS = (Account, Contact, ContactRole, Product, Subscription, SubscriptionItem, Ticket, ExchangeRate)


def snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every row of every table an import can touch, for before/after equality."""
    return {m.__name__: list(m.objects.order_by("pk").values()) for m in MODELS}


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[..., Path]:
    def write(name: str, header: list[str], rows: list[list[Any]], delimiter: str = ",") -> Path:
        path = tmp_path / name
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, delimiter=delimiter)
            writer.writerow(header)
            writer.writerows(rows)
        return path

    return write


@pytest.fixture
def write_parquet(tmp_path: Path) -> Callable[..., Path]:
    def write(name: str, columns: dict[str, pa.Array | list[Any]]) -> Path:
        path = tmp_path / name
        pq.write_table(pa.table(columns), path)
        return path

    return write
