"""Guards for the shipped translation catalogs (see docs/i18n.md).

These fail when a catalog has an untranslated or fuzzy message, when a translation breaks a
placeholder, when the committed .mo files were not recompiled after the .po changed, or when
source code gained translatable strings that were never extracted with ``makemessages``.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from django.conf import settings as django_settings
from django.utils.translation import to_locale

import tandem

SRC = Path(tandem.__file__).resolve().parent
LOCALE_DIR = SRC / "locale"

# locale directory -> expected Plural-Forms header
LANGUAGES = {
    "vi": "nplurals=1; plural=0;",
    "ja": "nplurals=1; plural=0;",
    "fa": "nplurals=2; plural=(n > 1);",
    "zh_Hans": "nplurals=1; plural=0;",
}

# The extraction command documented in docs/i18n.md.
IGNORE_PATTERNS = ["demo/*", "testing/*"]

# printf-style conversions as Python's % operator sees them: %(name)s, %s, %5.2f, %% ...
PERCENT_RE = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?(?P<conv>[diouxXeEfFgGcrsa%])"
)
# str.format fields: {name}, {0}, {name!r:>10}; "{{" and "}}" are literal braces.
BRACE_RE = re.compile(r"\{\{|\}\}|\{(?P<field>[^{}!:]*)(?:![rsa])?(?::[^{}]*)?\}")


def _po_files(lang: str) -> list[Path]:
    return sorted((LOCALE_DIR / lang / "LC_MESSAGES").glob("*.po"))


def _all_po_files() -> list[Path]:
    return [po for lang in LANGUAGES for po in _po_files(lang)]


def _id(path: Path) -> str:
    return f"{path.parts[-3]}/{path.name}"


def _read_po(path: Path, *, strict: bool = True) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh, abort_invalid=strict)


def _read_mo(path: Path) -> Catalog:
    with path.open("rb") as fh:
        return read_mo(fh)


def _messages(catalog: Catalog) -> list[Message]:
    """All real messages (no header, no obsolete entries)."""
    return [m for m in catalog if m.id]


def _ids(message: Message) -> tuple[str, ...]:
    # read_po gives plural ids as a tuple, read_mo as a list
    return tuple(message.id) if isinstance(message.id, tuple | list) else (message.id,)


def _strings(message: Message) -> tuple[str, ...]:
    if isinstance(message.string, tuple | list):
        return tuple(message.string)
    return (message.string,)


def _key(message: Message) -> tuple[str | None, str]:
    context = message.context
    if isinstance(context, bytes):  # read_mo leaves msgctxt undecoded
        context = context.decode("utf-8")
    return (context, _ids(message)[0])


def _percent_placeholders(text: str) -> tuple[list[str], list[tuple[str, str]]]:
    """(positional conversions in order, sorted named (name, conversion) pairs); %% ignored."""
    positional, named = [], []
    for m in PERCENT_RE.finditer(text):
        if m.group("conv") == "%":
            continue
        if m.group("name") is not None:
            named.append((m.group("name"), m.group("conv")))
        else:
            positional.append(m.group("conv"))
    return positional, sorted(set(named))


def _brace_placeholders(text: str) -> set[str]:
    return {m.group("field") for m in BRACE_RE.finditer(text) if m.group("field") is not None}


def test_every_configured_language_has_a_catalog():
    configured = {to_locale(code) for code, _name in django_settings.LANGUAGES} - {"en"}
    assert configured == set(LANGUAGES)
    assert [Path(p) for p in django_settings.LOCALE_PATHS] == [LOCALE_DIR]
    for lang in LANGUAGES:
        assert (LOCALE_DIR / lang / "LC_MESSAGES" / "django.po").is_file(), lang


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_catalog_header(lang):
    for po in _po_files(lang):
        catalog = _read_po(po)
        assert not catalog.fuzzy, f"{_id(po)}: header is marked fuzzy"
        assert catalog.locale_identifier == lang, f"{_id(po)}: Language header"
        assert catalog.charset.lower() == "utf-8", f"{_id(po)}: Content-Type charset"
        plural_forms = dict(catalog.mime_headers).get("Plural-Forms", "").strip()
        assert plural_forms == LANGUAGES[lang], f"{_id(po)}: Plural-Forms header"


@pytest.mark.parametrize("po", _all_po_files(), ids=_id)
def test_every_message_is_translated_and_not_fuzzy(po):
    catalog = _read_po(po)
    messages = _messages(catalog)
    assert messages, f"{_id(po)} has no messages"
    problems = []
    for message in messages:
        strings = _strings(message)
        if message.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        if message.pluralizable and len(strings) != catalog.num_plurals:
            problems.append(f"{len(strings)} plural forms instead of {catalog.num_plurals}: {message.id!r}")
        if not all(s.strip() for s in strings):
            problems.append(f"untranslated: {message.id!r}")
    assert not problems, f"{_id(po)}:\n" + "\n".join(problems)


@pytest.mark.parametrize("po", _all_po_files(), ids=_id)
def test_placeholders_are_preserved(po):
    problems = []
    for message in _messages(_read_po(po)):
        source = _ids(message)[-1]  # msgid_plural carries the placeholders of the plural forms
        for string in _strings(message):
            if not string:
                continue  # reported by test_every_message_is_translated_and_not_fuzzy
            if "python-format" in message.flags and _percent_placeholders(string) != _percent_placeholders(source):
                problems.append(f"%-placeholders differ: {source!r} -> {string!r}")
            if _brace_placeholders(string) != _brace_placeholders(source):
                problems.append(f"{{}}-placeholders differ: {source!r} -> {string!r}")
        if message.pluralizable and _percent_placeholders(_ids(message)[0])[0] != _percent_placeholders(source)[0]:
            problems.append(f"msgid and msgid_plural disagree on positional placeholders: {message.id!r}")
    assert not problems, f"{_id(po)}:\n" + "\n".join(problems)


@pytest.mark.parametrize("po", _all_po_files(), ids=_id)
def test_compiled_mo_matches_po(po):
    mo = po.with_suffix(".mo")
    hint = "run `tandem manage compilemessages` in src/tandem and commit the .mo"
    assert mo.is_file(), f"{_id(mo)} missing: {hint}"
    po_catalog, mo_catalog = _read_po(po), _read_mo(mo)
    expected = {_key(m): _strings(m) for m in _messages(po_catalog) if not m.fuzzy and all(_strings(m))}
    compiled = {_key(m): _strings(m) for m in _messages(mo_catalog)}
    stale = sorted(
        (k for k in expected.keys() | compiled.keys() if expected.get(k) != compiled.get(k)),
        key=lambda k: (k[0] or "", k[1]),
    )
    assert not stale, f"{_id(mo)} is out of date ({hint}); differing msgids: {stale[:20]}"
    assert dict(mo_catalog.mime_headers).get("Plural-Forms") == dict(po_catalog.mime_headers).get("Plural-Forms"), (
        f"{_id(mo)}: Plural-Forms differs from the .po ({hint})"
    )


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext (xgettext) not installed")
def test_catalogs_contain_every_source_string(tmp_path, settings, monkeypatch):
    """Re-extract the sources into a scratch copy; every msgid found must be in the catalogs."""
    from django.core.management import call_command

    copy = tmp_path / "tandem"
    shutil.copytree(SRC, copy, ignore=shutil.ignore_patterns("locale", "__pycache__", "*.pyc"))
    (copy / "locale").mkdir()
    settings.LOCALE_PATHS = [copy / "locale"]
    monkeypatch.chdir(copy)
    call_command("makemessages", locale=["vi"], ignore_patterns=IGNORE_PATTERNS, no_obsolete=True, verbosity=0)
    fresh_files = sorted((copy / "locale" / "vi" / "LC_MESSAGES").glob("*.po"))
    assert fresh_files
    hint = (
        "run makemessages as documented in docs/i18n.md, translate the new strings in every "
        "language and run compilemessages"
    )
    for fresh_po in fresh_files:
        fresh = {_key(m) for m in _messages(_read_po(fresh_po, strict=False))}
        for lang in LANGUAGES:
            committed_po = LOCALE_DIR / lang / "LC_MESSAGES" / fresh_po.name
            committed = {_key(m) for m in _messages(_read_po(committed_po))} if committed_po.is_file() else set()
            missing = sorted(fresh - committed, key=lambda k: (k[0] or "", k[1]))
            assert not missing, f"{lang}/{fresh_po.name} lacks {len(missing)} source string(s) ({hint}): {missing[:20]}"
