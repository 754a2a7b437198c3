"""Seeded Faker names for companies and people, in the language of each account's market."""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections.abc import Callable

from faker import Faker

from tandem.demo.catalog import Market

_POOL = 250  # names per locale; 250 x 250 first/last combinations is plenty of variety
_Pool = tuple[list[tuple[str, str]], list[tuple[str, str]], list[str]]

# Words that make a poor domain name ("carroll-inc.com"), dropped when deriving a domain.
_LEGAL_WORDS = {
    "inc",
    "llc",
    "ltd",
    "plc",
    "group",
    "and",
    "sons",
    "co",
    "gmbh",
    "kg",
    "ag",
    "ev",
    "sa",
    "sas",
    "sarl",
    "bv",
    "nv",
    "sl",
    "pty",
    "corp",
    "corporation",
    "company",
    "the",
    "et",
    "und",
}


def ascii_slug(text: str) -> str:
    """Lower-case ASCII letters and digits only; Vietnamese đ and accents fold to plain letters."""
    folded = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    return re.sub(r"[^a-z0-9]+", "", folded.encode("ascii", "ignore").decode().lower())


class NameMaker:
    """One seeded Faker per locale, so names depend only on the seed and the order of calls."""

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._fakers: dict[str, Faker] = {}
        self._companies: set[str] = set()
        self._domains: set[str] = set()
        self._people: dict[str, _Pool] = {}

    def faker(self, locale: str) -> Faker:
        fake = self._fakers.get(locale)
        if fake is None:
            fake = Faker(locale)
            # crc32, not hash(): str hashes are salted per process and would break determinism.
            fake.seed_instance(self._seed * 1_000_003 + zlib.crc32(locale.encode()))
            self._fakers[locale] = fake
        return fake

    def company(self, market: Market) -> tuple[str, str]:
        """A company name unique within the demo, and a matching unique domain."""
        fake = self.faker(market.locale)
        name = fake.company()
        for _attempt in range(5):
            if name not in self._companies:
                break
            name = fake.company()
        else:
            name = f"{name} {len(self._companies)}"
        self._companies.add(name)
        words = [ascii_slug(w) for w in re.split(r"[\s,&.\-]+", name)]
        stem = "".join(w for w in words if w and w not in _LEGAL_WORDS)[:24]
        if len(stem) < 3:
            # Japanese and other non-Latin names: companies still have ASCII domains.
            stem = ascii_slug(self.faker("en_US").domain_word()) or "company"
        domain = f"{stem}.{market.tld}"
        n = 2
        while domain in self._domains:
            domain = f"{stem}{n}.{market.tld}"
            n += 1
        self._domains.add(domain)
        return name, domain

    def register_company(self, name: str) -> None:
        self._companies.add(name)

    def person(self, market: Market, pick: Callable[[int], int]) -> tuple[str, str, str, str]:
        """First name, last name, ASCII email local part and phone number of one person.

        Faker is slow per call, so each locale gets one pool of names up front and people are
        drawn from it with ``pick`` (the simulation's random stream).
        """
        pool = self._people.get(market.locale)
        if pool is None:
            pool = self._people[market.locale] = self._pool(market.locale)
        firsts, lasts, phones = pool
        first, first_roman = firsts[pick(len(firsts))]
        last, last_roman = lasts[pick(len(lasts))]
        local = f"{ascii_slug(first_roman)}.{ascii_slug(last_roman)}".strip(".") or "contact"
        return first, last, local, phones[pick(len(phones))]

    def _pool(self, locale: str) -> _Pool:
        fake = self.faker(locale)
        if locale == "ja_JP":
            firsts = [(p[0], p[2]) for p in (fake.first_name_pair() for _ in range(_POOL))]
            lasts = [(p[0], p[2]) for p in (fake.last_name_pair() for _ in range(_POOL))]
        else:
            firsts = [(n, n) for n in (fake.first_name() for _ in range(_POOL))]
            lasts = [(n, n) for n in (fake.last_name() for _ in range(_POOL))]
        phones = [fake.phone_number() for _ in range(_POOL)]
        return firsts, lasts, phones
