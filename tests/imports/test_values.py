import datetime as dt

import pytest

from tandem.imports.values import (
    parse_billing_period,
    parse_bool,
    parse_country,
    parse_datetime,
    parse_int,
    parse_roles,
)


@pytest.mark.parametrize(("raw", "expected"), [("Yes", True), ("1", True), ("FALSE", False), ("no", False)])
def test_booleans(raw, expected):
    assert parse_bool(raw) is expected


def test_bad_boolean_says_what_is_accepted():
    with pytest.raises(ValueError, match=r"'maybe' is not a yes/no value \(use true/false, yes/no or 1/0\)."):
        parse_bool("maybe")


def test_datetimes_without_zone_are_utc():
    assert parse_datetime("2025-01-02 03:04") == dt.datetime(2025, 1, 2, 3, 4, tzinfo=dt.UTC)
    assert parse_datetime("2025-01-02T03:04:00+07:00") == dt.datetime(2025, 1, 1, 20, 4, tzinfo=dt.UTC)


@pytest.mark.parametrize(("raw", "months"), [("monthly", 1), ("Quarterly", 3), ("semi-annual", 6), ("24", 24)])
def test_billing_periods(raw, months):
    assert parse_billing_period(raw) == months


def test_billing_period_must_be_a_known_length():
    with pytest.raises(ValueError, match="'5' is not a billing period"):
        parse_billing_period("5")


def test_countries_roles_and_integers(db):
    assert [parse_country(v) for v in ("de", "DEU", "germany", "United States of America")] == ["DE", "DE", "DE", "US"]
    # The names docs/import.md promises: ISO ("Viet Nam"), short ("Vietnam"), everyday ("United States").
    names = ["United States", "Viet Nam", "Vietnam", "the Netherlands", "United Kingdom", "UK", "Czech Republic"]
    assert [parse_country(v) for v in names] == ["US", "VN", "VN", "NL", "GB", "GB", "CZ"]
    assert parse_country("  viet   nam ") == "VN"
    assert parse_roles("Executive sponsor, champion;champion") == ("champion", "executive_sponsor")
    assert parse_int("4.0") == 4
    with pytest.raises(ValueError, match=r"'4\.5' is not a whole number\."):
        parse_int("4.5")
