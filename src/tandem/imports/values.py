"""Cell parsers: text in, a Python value out, or ValueError with a message a person can act on.

Parsers only see non-empty, stripped text; empty cells are handled by the caller (they mean
"no value", which becomes NULL, blank or the model default).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from django.db.models import Choices

Parser = Callable[[str], Any]

TRUE_WORDS = frozenset({"true", "yes", "y", "1", "t"})
FALSE_WORDS = frozenset({"false", "no", "n", "0", "f"})


def parse_text(raw: str) -> str:
    return raw


def parse_bool(raw: str) -> bool:
    word = raw.lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"'{raw}' is not a yes/no value (use true/false, yes/no or 1/0).")


# A contact's language as a code (fa, zh-hans; zh_Hans and zh-CN also) or its English name.
LANGUAGE_WORDS = {
    "en": "en", "english": "en",
    "vi": "vi", "vietnamese": "vi",
    "ja": "ja", "japanese": "ja",
    "fa": "fa", "persian": "fa", "farsi": "fa",
    "zh-hans": "zh-hans", "zh_hans": "zh-hans", "zh-cn": "zh-hans", "zh": "zh-hans",
    "chinese": "zh-hans", "simplified chinese": "zh-hans",
}  # fmt: skip


def parse_language(raw: str) -> str:
    code = LANGUAGE_WORDS.get(raw.strip().lower())
    if code is None:
        raise ValueError(f"'{raw}' is not a language Tandem speaks (en, vi, ja, fa, zh-hans).")
    return code


def parse_date(raw: str) -> dt.date:
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        pass
    # Spreadsheets and Parquet timestamp columns often carry a midnight time on a date.
    try:
        moment = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"'{raw}' is not an ISO 8601 date (YYYY-MM-DD).") from None
    if moment.time() != dt.time(0, 0):
        raise ValueError(f"'{raw}' is a date and time; a date (YYYY-MM-DD) is expected.")
    return moment.date()


def parse_datetime(raw: str) -> dt.datetime:
    """ISO 8601 with or without an offset; a naive value is taken to be UTC."""
    try:
        moment = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"'{raw}' is not an ISO 8601 date and time (YYYY-MM-DDTHH:MM:SS, optional offset).") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment


def parse_decimal(raw: str) -> Decimal:
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValueError(f"'{raw}' is not a number.") from None
    if not value.is_finite():
        raise ValueError(f"'{raw}' is not a finite number.")
    return value


def parse_int(raw: str) -> int:
    value = parse_decimal(raw)
    # Parquet files written from dataframes store integers with gaps as floats (4.0).
    if value != value.to_integral_value():
        raise ValueError(f"'{raw}' is not a whole number.")
    return int(value)


def _key(text: str) -> str:
    return re.sub(r"[\s\-]+", "_", text.strip().lower())


def choice_parser(choices: type[Choices]) -> Parser:
    """Accept a choice's code or its English label, case-insensitively."""
    from django.utils import translation

    with translation.override("en"):
        lookup: dict[str, Any] = {}
        for value, label in choices.choices:
            lookup[_key(str(value))] = value
            lookup[_key(str(label))] = value
        accepted = ", ".join(str(value) for value in choices.values)

    def parse(raw: str) -> Any:
        try:
            return lookup[_key(raw)]
        except KeyError:
            raise ValueError(f"'{raw}' is not one of: {accepted}.") from None

    return parse


# Everyday English names the ISO list spells otherwise (the ISO, short and former names are all
# accepted already, see _country_names).
COUNTRY_ALIASES = {
    "united states": "US",
    "america": "US",
    "uk": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "ivory coast": "CI",
    "macau": "MO",
    "south korea": "KR",
    "north korea": "KP",
    "czechia": "CZ",
    "turkey": "TR",
    "russia": "RU",
    "vietnam": "VN",
}


def _normalise_country(raw: str) -> str:
    name = " ".join(raw.replace("\u00a0", " ").split()).lower()
    return name.removeprefix("the ")


@cache
def _country_names() -> dict[str, str]:
    """Lower-case English name -> code: the ISO 3166 name ("Viet Nam", "United States of America"),
    django-countries' short name ("Vietnam"), former names ("Swaziland") and everyday aliases."""
    from django.utils import translation
    from django_countries import countries
    from django_countries.data import COUNTRIES

    names: dict[str, str] = {}
    for code, name in COUNTRIES.items():
        names[_normalise_country(str(name))] = code
    with translation.override("en"):
        for code, name in countries:
            names[_normalise_country(str(name))] = code
    for code, name in countries.COMMON_NAMES.items():
        names[_normalise_country(str(name))] = code
    for code, old in countries.OLD_NAMES.items():
        for name in old:
            names.setdefault(_normalise_country(str(name)), code)
    names.update(COUNTRY_ALIASES)
    return names


def parse_country(raw: str) -> str:
    """ISO 3166 alpha-2 (or alpha-3) code, or the country's English name (ISO, short or everyday)."""
    from django_countries import countries

    code = countries.alpha2(raw) if len(raw.strip()) in (2, 3) else ""
    code = code or _country_names().get(_normalise_country(raw), "")
    if not code:
        raise ValueError(f"'{raw}' is not an ISO country code or English country name.")
    return code


def parse_currency(raw: str) -> str:
    from django.core.exceptions import ValidationError

    from tandem.core.money import validate_currency_code

    try:
        return validate_currency_code(raw)
    except ValidationError as exc:
        raise ValueError(exc.messages[0]) from None


_PERIOD_WORDS = {
    "month": 1,
    "monthly": 1,
    "quarter": 3,
    "quarterly": 3,
    "semiannual": 6,
    "semi_annual": 6,
    "half_yearly": 6,
    "annual": 12,
    "annually": 12,
    "yearly": 12,
    "year": 12,
    "biennial": 24,
    "two_years": 24,
    "triennial": 36,
    "three_years": 36,
}


def parse_billing_period(raw: str) -> int:
    """A period name (monthly, quarterly, annual, ...) or a number of months."""
    from tandem.subscriptions.models import BillingPeriod

    months = _PERIOD_WORDS.get(_key(raw))
    if months is None:
        try:
            months = parse_int(raw)
        except ValueError:
            months = None
    if months not in BillingPeriod.values:
        allowed = ", ".join(str(v) for v in BillingPeriod.values)
        raise ValueError(
            f"'{raw}' is not a billing period (monthly, quarterly, semi-annual, annual, "
            f"biennial, triennial, or months: {allowed})."
        )
    return months


@cache
def _role_parser() -> Parser:
    from tandem.accounts.models import StakeholderRole

    return choice_parser(StakeholderRole)


def parse_roles(raw: str) -> tuple[str, ...]:
    """Stakeholder roles separated by ';' or ','; returned sorted and without duplicates."""
    parse_role = _role_parser()
    return tuple(sorted({parse_role(part) for part in re.split(r"[;,]", raw) if part.strip()}))
