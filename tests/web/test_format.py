import datetime as dt
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from tandem.web.templatetags.tandem_format import babel_locale, format_money, local_date, money


@pytest.mark.parametrize(
    ("language", "expected_usd", "expected_jpy"),
    [
        ("en", "$1,234,567.50", "¥1,234,568"),
        ("vi", "1.234.567,50\xa0US$", "1.234.568\xa0¥"),
        ("ja", "$1,234,567.50", "￥1,234,568"),
        ("fa", "\u200e$\xa01,234,567.50", "\u200e¥\xa01,234,568"),
        ("zh-hans", "US$1,234,567.50", "JP¥1,234,568"),
    ],
)
def test_money_follows_the_active_language(settings, language, expected_usd, expected_jpy):
    settings.TANDEM_REPORTING_CURRENCY = "USD"
    with translation.override(language):
        assert money(Decimal("1234567.5")) == expected_usd
        assert money(Decimal("1234567.5"), "jpy") == expected_jpy


def test_money_filter_in_a_template_and_empty_values():
    template = Template("{% load tandem_format %}[{{ a|money:'EUR' }}][{{ b|money }}]")
    with translation.override("en"):
        assert template.render(Context({"a": Decimal("9.99"), "b": None})) == "[€9.99][]"


def test_babel_locales_for_every_language(settings):
    assert [str(babel_locale(code)) for code, _name in settings.LANGUAGES] == [
        "en_US",
        "vi_VN",
        "ja_JP",
        "fa_IR",
        "zh_Hans_CN",
    ]
    assert str(babel_locale("pt-br")) == "en_US"  # unknown languages fall back to English


def test_dates_follow_the_active_language():
    day = dt.date(2026, 3, 5)
    results = {}
    for language in ("en", "ja", "zh-hans", "vi"):
        with translation.override(language):
            results[language] = local_date(day)
    assert results == {"en": "Mar 5, 2026", "ja": "2026/03/05", "zh-hans": "2026年3月5日", "vi": "5 thg 3, 2026"}
    assert format_money(Decimal("1"), "EUR", language="fa") == "\u200e€\xa01.00"
