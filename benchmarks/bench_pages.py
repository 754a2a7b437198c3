"""Benchmark: every page reachable from the navigation, as each demo role, with p50/p95 per page.

Run:  python benchmarks/bench_pages.py [--accounts 300] [--runs 20] [--home DIR] [--rebuild]

It builds (or reuses) a demo home with ``tandem demo --no-serve --accounts N`` in ``--home``
(default ``/tmp/tandem-bench-pages-<N>``); above 10,000 accounts with fewer usage events, tickets
and touches per account and a sparser metric history (``LARGE_DEMO``, or ``--demo-args``), so that
100,000 accounts build in minutes rather than hours. Then, in this process with Django's test ``Client`` (no
HTTP, so the figures are the server's own time: middleware, views, queries, templates), signs in as
each demo role (admin, CS manager, CSM, account manager, read-only) and crawls: the top navigation
of the home page, then every same-site link and every htmx fragment (``hx-get``) on those pages,
two levels deep. One URL per route and role is kept (the first found), so a list with a thousand
rows counts once. Each is then requested ``--runs`` times, interleaved page by page, after one warm-up
request. The baseline is the login page (a template, no customer data), measured in the same rounds.

Results go to stdout as a Markdown table (paste into docs/performance.md): per route, the role, the
URL timed, median and p95 in ms and the median's ratio to the baseline's. ``--goal`` (ms, default
300) marks pages whose p95 misses it; the exit code is 1 if any does.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from urllib.parse import urlsplit

ROLES = {"admin": "admin", "morgan": "CS manager", "anna": "CSM", "isabel": "account manager", "viewer": "read-only"}
# Not pages: signing out, the admin site (Django's own), the API's schema browser, static files,
# and downloads of files a computation produced.
SKIP = re.compile(r"^/(logout/|admin/|api/|static/|i18n/|jobs/computations/\d+/file/)")
LINK = re.compile(r'(?:href|hx-get)="([^"#]+)"')
# Per-account volumes of demos above 10,000 accounts (see `tandem demo --help`): 240 usage events
# instead of 2,400 (100,000 accounts then have as many events as the 10,000-account demo), a
# quarter of the tickets and logged touches, and the metric history every 63 days instead of 21.
LARGE_DEMO = "--events-per-account 240 --activity 0.25 --history-every 63"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=300)
    parser.add_argument("--runs", type=int, default=20, help="timed requests per page")
    parser.add_argument("--home", default=None, help="the TANDEM_HOME to build or reuse")
    parser.add_argument("--rebuild", action="store_true", help="build the demo again even if the home exists")
    parser.add_argument("--depth", type=int, default=2, help="link levels followed from the navigation")
    parser.add_argument("--goal", type=float, default=300.0, help="p95 goal in ms")
    parser.add_argument("--roles", default=",".join(ROLES), help="comma-separated demo usernames")
    parser.add_argument(
        "--demo-args", default=None, help=f"extra `tandem demo` options (default above 10,000 accounts: {LARGE_DEMO})"
    )
    return parser.parse_args()


def demo_args(accounts: int, given: str | None) -> list[str]:
    if given is not None:
        return given.split()
    return LARGE_DEMO.split() if accounts > 10_000 else []


def build(home: Path, accounts: int, rebuild: bool, extra: list[str]) -> float | None:
    """Build the demo into ``home`` unless it is there already; the build's seconds, or None if reused."""
    if (home / "tandem.sqlite3").exists() and not rebuild:
        return None
    started = time.monotonic()
    env = {**os.environ, "TANDEM_HOME": str(home)}
    cmd = [sys.executable, "-m", "tandem", "demo", "--no-serve", "--force", "--accounts", str(accounts), *extra]
    subprocess.run(cmd, env=env, check=True, stdout=sys.stderr)
    return time.monotonic() - started


@dataclass
class Target:
    route: str
    role: str
    url: str
    times: list[float] = field(default_factory=list)


def links(html: str) -> Iterable[str]:
    for raw in LINK.findall(html):
        url = unescape(raw)
        parts = urlsplit(url)
        if parts.scheme or parts.netloc or not url.startswith("/") or SKIP.match(parts.path):
            continue
        yield url


def route_of(url: str) -> str | None:
    from django.urls import Resolver404, resolve

    try:
        match = resolve(urlsplit(url).path)
    except Resolver404:
        return None
    return match.view_name + (
        "?" + "&".join(sorted(k.split("=")[0] for k in urlsplit(url).query.split("&"))) if urlsplit(url).query else ""
    )


def crawl(client, role: str, depth: int) -> list[Target]:
    found: dict[str, Target] = {}
    frontier = ["/"]
    seen: set[str] = set()
    for _level in range(depth + 1):
        following: list[str] = []
        for url in frontier:
            if url in seen:
                continue
            seen.add(url)
            route = route_of(url)
            if route is None or route in found:
                continue
            response = client.get(url)
            if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                continue
            found[route] = Target(route=route, role=role, url=url)
            following.extend(links(response.content.decode()))
        frontier = following
    return list(found.values())


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def main() -> int:
    args = parse_args()
    home = Path(args.home or f"/tmp/tandem-bench-pages-{args.accounts}")
    extra = demo_args(args.accounts, args.demo_args)
    seconds = build(home, args.accounts, args.rebuild, extra)
    os.environ["TANDEM_HOME"] = str(home)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tandem.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    settings.ALLOWED_HOSTS = ["*"]
    from tandem.accounts.models import Account

    clients: dict[str, Client] = {}
    targets: list[Target] = []
    for username in args.roles.split(","):
        client = Client()
        client.force_login(get_user_model().objects.get(username=username))
        clients[username] = client
        targets += crawl(client, username, args.depth)
    baseline = Target(route="baseline: login page", role="anonymous", url="/login/")
    anonymous = Client()
    for t in targets:  # warm-up (template loading, first query plans)
        clients[t.role].get(t.url)
    for _run in range(args.runs):
        for t in [baseline, *targets]:
            client = anonymous if t is baseline else clients[t.role]
            started = time.perf_counter()
            client.get(t.url)
            t.times.append((time.perf_counter() - started) * 1000)

    base = statistics.median(baseline.times)
    load = os.getloadavg()[0]
    print(
        f"{Account.objects.count():,} accounts, {args.runs} requests per page, {len(targets)} pages "
        f"(routes × roles), load average {load:.1f}"
        + (f", demo built in {seconds:.0f} s" if seconds is not None else ", demo home reused")
        + (f" (`tandem demo {' '.join(extra)}`)" if extra and seconds is not None else "")
    )
    print()
    print("| page (route) | role | URL | median ms | p95 ms | median / baseline |")
    print("|---|---|---|---:|---:|---:|")
    print(f"| {baseline.route} | — | `/login/` | {base:.1f} | {percentile(baseline.times, 0.95):.1f} | 1.0× |")
    missed = []
    for t in sorted(targets, key=lambda t: (t.route, list(ROLES).index(t.role) if t.role in ROLES else 99)):
        p50, p95 = statistics.median(t.times), percentile(t.times, 0.95)
        mark = " ⚠" if p95 > args.goal else ""
        if mark:
            missed.append(t)
        role = ROLES.get(t.role, t.role)
        print(f"| {t.route} | {role} | `{t.url}` | {p50:.1f} | {p95:.1f}{mark} | {p50 / base:.1f}× |")
    worst = max(targets, key=lambda t: percentile(t.times, 0.95))
    print()
    print(
        f"Worst p95: {percentile(worst.times, 0.95):.1f} ms ({worst.route} as {ROLES.get(worst.role, worst.role)}); "
        f"{len(missed)} of {len(targets)} pages miss the {args.goal:.0f} ms goal."
    )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
