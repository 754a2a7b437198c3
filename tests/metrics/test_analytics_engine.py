"""TANDEM_ANALYTICS_ENGINE is checked; that Spark gives DuckDB's values is tests/daily/test_engines.py."""

from __future__ import annotations

import pytest

from tandem.core.errors import DomainError
from tandem.metrics.sources import analytics_engine


def test_an_unknown_engine_is_refused_by_name(settings):
    settings.TANDEM_ANALYTICS_ENGINE = "presto"
    with pytest.raises(DomainError) as caught:
        analytics_engine()
    assert caught.value.errors[0].field == "TANDEM_ANALYTICS_ENGINE"


@pytest.mark.parametrize("engine", ["duckdb", "spark", "DuckDB"])
def test_known_engines_are_accepted(settings, engine):
    settings.TANDEM_ANALYTICS_ENGINE = engine
    assert analytics_engine() == engine.lower()
