"""Static reference data of the demo company: markets, price list, team and product features.

Kept apart from the simulation so docs/demo.md and the tests can name the same constants.
"""

from __future__ import annotations

from dataclasses import dataclass

DEMO_PASSWORD = "tandem-demo"
# Every demo account's external id starts with this; it is how a rebuild tells demo rows from
# rows someone imported or typed in, whatever database DATABASE_URL points at.
EXTERNAL_ID_PREFIX = "demo-"
USER_EMAIL_DOMAIN = "tandem-demo.example"
REPORTING_CURRENCY = "USD"
HISTORY_YEARS = 3
EVENTS_PER_ACCOUNT = 2_400  # at scale 1.0; 1,000 accounts give ~2.4M usage events


@dataclass(frozen=True)
class Market:
    country: str  # ISO 3166 alpha-2
    name: str
    currency: str
    locale: str  # Faker locale for people and company names
    utc_offset: int  # hours; business-hours usage is generated in local time
    weight: float
    tld: str
    legal_suffix: str  # used when naming a subsidiary in this country


MARKETS: tuple[Market, ...] = (
    Market("US", "United States", "USD", "en_US", -5, 0.34, "com", "Inc."),
    Market("CA", "Canada", "CAD", "en_CA", -5, 0.05, "ca", "Ltd."),
    Market("GB", "United Kingdom", "GBP", "en_GB", 0, 0.14, "co.uk", "Ltd"),
    Market("DE", "Germany", "EUR", "de_DE", 1, 0.10, "de", "GmbH"),
    Market("FR", "France", "EUR", "fr_FR", 1, 0.07, "fr", "SAS"),
    Market("NL", "Netherlands", "EUR", "nl_NL", 1, 0.05, "nl", "B.V."),
    Market("ES", "Spain", "EUR", "es_ES", 1, 0.04, "es", "S.L."),
    Market("JP", "Japan", "JPY", "ja_JP", 9, 0.09, "co.jp", "K.K."),
    Market("VN", "Vietnam", "VND", "vi_VN", 7, 0.05, "vn", "Co., Ltd."),
    Market("AU", "Australia", "AUD", "en_AU", 10, 0.07, "com.au", "Pty Ltd"),
)

# Units of USD per unit of currency when the history starts; the demo walks them monthly.
BASE_RATES: dict[str, float] = {
    "USD": 1.0,
    "EUR": 1.08,
    "GBP": 1.26,
    "JPY": 0.0069,
    "VND": 0.0000415,
    "AUD": 0.66,
    "CAD": 0.74,
}
# Monthly log-volatility of each rate.
RATE_VOLATILITY: dict[str, float] = {
    "EUR": 0.015,
    "GBP": 0.016,
    "JPY": 0.022,
    "VND": 0.008,
    "AUD": 0.02,
    "CAD": 0.012,
}
# Prices are rounded to a natural step of the currency (no one quotes ¥12,345.67 per seat).
PRICE_STEP: dict[str, float] = {
    "USD": 1,
    "EUR": 1,
    "GBP": 1,
    "AUD": 1,
    "CAD": 1,
    "JPY": 100,
    "VND": 10_000,
}

TIERS = ("enterprise", "mid_market", "smb")
TIER_WEIGHTS = (0.10, 0.30, 0.60)


@dataclass(frozen=True)
class ProductSpec:
    code: str
    name: str
    kind: str  # ProductKind value
    unit_label: str
    usd_per_unit_month: float
    per_seat: bool  # False: one unit per subscription (a flat fee)


PLANS: tuple[ProductSpec, ...] = (
    ProductSpec("starter", "Starter", "plan", "seat", 30.0, True),
    ProductSpec("growth", "Growth", "plan", "seat", 60.0, True),
    ProductSpec("enterprise", "Enterprise", "plan", "seat", 110.0, True),
)
ADDONS: tuple[ProductSpec, ...] = (
    ProductSpec("advanced-analytics", "Advanced Analytics", "addon", "seat", 12.0, True),
    ProductSpec("premium-support", "Premium Support", "addon", "account", 900.0, False),
)
PRODUCTS = PLANS + ADDONS


@dataclass(frozen=True)
class TeamMember:
    username: str
    first_name: str
    last_name: str
    role: str  # tandem.users.roles.Role value
    diligence: float = 1.0  # CSMs: how often they touch their accounts, relative to the team


TEAM: tuple[TeamMember, ...] = (
    TeamMember("admin", "Alex", "Admin", "admin"),
    TeamMember("morgan", "Morgan", "Lee", "cs_manager"),
    TeamMember("anna", "Anna", "Novak", "csm", 1.35),
    TeamMember("ben", "Ben", "Carter", "csm", 0.70),
    TeamMember("chloe", "Chloé", "Dubois", "csm", 1.10),
    TeamMember("daniel", "Daniel", "Kim", "csm", 0.95),
    TeamMember("elena", "Elena", "Rossi", "csm", 1.20),
    TeamMember("farid", "Farid", "Haddad", "csm", 0.60),
    TeamMember("grace", "Grace", "Tan", "csm", 1.00),
    TeamMember("hiro", "Hiro", "Sato", "csm", 0.85),
    TeamMember("isabel", "Isabel", "Moreno", "account_manager"),
    TeamMember("jonas", "Jonas", "Weber", "account_manager"),
    TeamMember("kate", "Kate", "Walsh", "account_manager"),
    TeamMember("liam", "Liam", "Nguyen", "account_manager"),
    TeamMember("viewer", "Riley", "Viewer", "read_only"),
)


@dataclass(frozen=True)
class Feature:
    name: str
    weight: float  # share of events for an account of average health
    health_slope: float  # how much more of the mix it takes as health rises (breadth of adoption)
    automated: bool  # machine-driven: spread over the whole day, quantity is a batch size
    properties: tuple[str, ...]  # small JSON documents; one is picked per event


FEATURES: tuple[Feature, ...] = (
    Feature("login", 0.26, -0.15, False, ('{"method":"password"}', '{"method":"sso"}')),
    Feature(
        "dashboard_view",
        0.24,
        0.0,
        False,
        ('{"dashboard":"overview"}', '{"dashboard":"pipeline"}', '{"dashboard":"team"}'),
    ),
    Feature(
        "report_run", 0.12, 0.25, False, ('{"report":"weekly_summary"}', '{"report":"revenue"}', '{"report":"custom"}')
    ),
    Feature("export", 0.05, 0.0, False, ('{"format":"csv"}', '{"format":"xlsx"}', '{"format":"pdf"}')),
    Feature(
        "integration_sync",
        0.07,
        0.45,
        True,
        ('{"integration":"salesforce"}', '{"integration":"hubspot"}', '{"integration":"slack"}'),
    ),
    Feature(
        "api_call",
        0.11,
        0.40,
        True,
        ('{"endpoint":"/v1/records"}', '{"endpoint":"/v1/search"}', '{"endpoint":"/v1/users"}'),
    ),
    Feature("workflow_created", 0.03, 0.60, False, ('{"template":"approval"}', '{"template":"blank"}')),
    Feature("invite_sent", 0.03, 0.50, False, ('{"role":"member"}', '{"role":"admin"}')),
    Feature("comment_added", 0.09, 0.30, False, ('{"object":"record"}', '{"object":"report"}')),
)

INDUSTRIES = (
    "Software",
    "Financial services",
    "Healthcare",
    "Manufacturing",
    "Retail",
    "Education",
    "Logistics",
    "Media",
    "Professional services",
    "Energy",
    "Hospitality",
    "Telecommunications",
)
