"""Benchmark: accounts list and account page with 100,000 accounts, over real HTTP.

Run:  python benchmarks/bench_web.py [--accounts 100000] [--runs 30] [--database-url URL]

It builds a throw-away Tandem home (SQLite by default), fills it in bulk, starts `tandem serve` in a
separate process and times requests on loopback with a logged-in session. Each page is reported
with its median and p95 in milliseconds, and as a ratio to a baseline measured in the same run:
the login page, which renders a template but touches no customer data. Results go to stdout as a
Markdown table (paste into docs/performance.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from decimal import Decimal
from pathlib import Path

from rich.console import Console
from rich.progress import Progress

console = Console(stderr=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30, help="timed requests per page")
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temporary TANDEM_HOME")
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fill(n_accounts: int, seed: int) -> tuple[int, str]:
    """Create users and n accounts with contacts, subscriptions, tickets and interactions.

    Returns the id of a well-populated account to open, and a session key of a logged-in CSM.
    """
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import transaction
    from django.utils import timezone

    from tandem.accounts.models import Account, Contact, ContactRole, LifecycleStage, StakeholderRole, Tier
    from tandem.subscriptions.models import Product, Subscription, SubscriptionItem
    from tandem.subscriptions.services import account_refresh_revenue, subscription_totals
    from tandem.support.models import Ticket, TicketPriority, TicketStatus
    from tandem.timeline.models import Interaction, InteractionKind
    from tandem.users.services import user_create

    rng = random.Random(seed)
    today = timezone.localdate()
    csms = [
        user_create(acting_user=None, username=f"csm{i}", password=None, roles=["csm"], first_name=f"Csm{i}")
        for i in range(15)
    ]
    ams = [
        user_create(acting_user=None, username=f"am{i}", password=None, roles=["account_manager"], first_name=f"Am{i}")
        for i in range(6)
    ]
    plan = Product.objects.create(code="pro", name="Pro")
    countries = ["US", "GB", "DE", "FR", "JP", "VN", "IR", "CN", "AU", "CA"]
    words = [
        "Acme",
        "Globex",
        "Initech",
        "Umbrella",
        "Hooli",
        "Vandelay",
        "Stark",
        "Wayne",
        "Wonka",
        "Tyrell",
        "Cyberdyne",
        "Soylent",
        "Aperture",
        "Black Mesa",
        "Oscorp",
        "Massive",
        "Nimbus",
        "Vertex",
        "Quantum",
    ]
    suffix = ["Labs", "Systems", "Group", "Holdings", "Analytics", "Cloud", "Works", "Partners", "Logistics"]

    with Progress(console=console) as progress:
        task = progress.add_task("accounts", total=n_accounts)
        batch: list[Account] = []
        for i in range(n_accounts):
            name = f"{rng.choice(words)} {rng.choice(suffix)} {i:06d}"
            batch.append(
                Account(
                    name=name,
                    domain=f"c{i}.example",
                    external_id=f"acc-{i}",
                    country=rng.choice(countries),
                    currency="USD",
                    tier=rng.choice(list(Tier.values)),
                    lifecycle_stage=rng.choice(list(LifecycleStage.values)),
                    csm_owner=rng.choice(csms),
                    am_owner=rng.choice(ams),
                    start_date=today - dt.timedelta(days=rng.randint(30, 1500)),
                )
            )
            if len(batch) == 5000:
                with transaction.atomic():
                    Account.objects.bulk_create(batch)
                progress.advance(task, len(batch))
                batch = []
        if batch:
            with transaction.atomic():
                Account.objects.bulk_create(batch)
            progress.advance(task, len(batch))

        ids = list(Account.objects.values_list("id", flat=True))
        task = progress.add_task("subscriptions, contacts, tickets, interactions", total=len(ids))
        now = timezone.now()
        for start in range(0, len(ids), 5000):
            chunk = ids[start : start + 5000]
            subs, contacts = [], []
            for account_id in chunk:
                s = Subscription(
                    account_id=account_id,
                    currency="USD",
                    start_date=today - dt.timedelta(days=200),
                    end_date=today + dt.timedelta(days=rng.randint(1, 365)),
                )
                s.renewal_date = s.end_date
                subs.append(s)
                for c in range(3):
                    contacts.append(
                        Contact(
                            account_id=account_id,
                            first_name=f"P{c}",
                            last_name=f"L{account_id}",
                            email=f"p{c}@c{account_id}.example",
                            is_primary=(c == 0),
                        )
                    )
            with transaction.atomic():
                Subscription.objects.bulk_create(subs)
                items = [
                    SubscriptionItem(
                        subscription=s, product=plan, quantity=Decimal(rng.randint(5, 500)), unit_price=Decimal("600")
                    )
                    for s in subs
                ]
                SubscriptionItem.objects.bulk_create(items)
                for s, item in zip(subs, items, strict=True):
                    s.mrr, s.arr = subscription_totals(subscription=s, items=[item])
                Subscription.objects.bulk_update(subs, ["mrr", "arr"])
                Contact.objects.bulk_create(contacts)
                ContactRole.objects.bulk_create(
                    [ContactRole(contact=c, role=StakeholderRole.CHAMPION) for c in contacts if c.is_primary]
                )
                Ticket.objects.bulk_create(
                    [
                        Ticket(
                            account_id=a,
                            subject=f"Ticket {k}",
                            priority=rng.choice(list(TicketPriority.values)),
                            status=rng.choice(list(TicketStatus.values)),
                            opened_at=now - dt.timedelta(days=k * 9),
                        )
                        for a in chunk
                        for k in range(2)
                    ]
                )
                Interaction.objects.bulk_create(
                    [
                        Interaction(
                            account_id=a,
                            kind=rng.choice(list(InteractionKind.values)),
                            occurred_at=now - dt.timedelta(days=k * 11),
                            subject=f"Touch {k}",
                            summary="Discussed goals.",
                        )
                        for a in chunk
                        for k in range(3)
                    ]
                )
            progress.advance(task, len(chunk))
    account_refresh_revenue(on=today)

    # The account we open gets a full page: more contacts, tickets and interactions.
    target = Account.objects.order_by("-arr").first()
    assert target is not None
    Ticket.objects.bulk_create(
        [Ticket(account=target, subject=f"Extra {k}", opened_at=now - dt.timedelta(days=k)) for k in range(40)]
    )
    Interaction.objects.bulk_create(
        [
            Interaction(
                account=target, kind=InteractionKind.CALL, subject=f"Call {k}", occurred_at=now - dt.timedelta(days=k)
            )
            for k in range(60)
        ]
    )
    session = SessionStore()
    user = csms[0]
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    return target.id, session.session_key


def fill_events(account_id: int) -> None:
    """A year of usage for the account we open, so its usage chart has work to do."""
    import numpy as np
    import pyarrow as pa

    from tandem.usage.eventstore import EventStore

    rng = np.random.default_rng(1)
    n = 200_000
    end = int(time.time())
    ts = rng.integers(end - 365 * 86400, end, n) * 1_000_000
    names = np.array(["login", "report_run", "export", "dashboard_view", "api_call", "invite_sent", "comment", "sync"])
    table = pa.table(
        {
            "account_id": pa.array(np.full(n, account_id), pa.int64()),
            "user_id": pa.array([f"u{i}" for i in rng.integers(0, 80, n)]),
            "event": pa.array(names[rng.integers(0, len(names), n)]),
            "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
        }
    )
    store = EventStore.for_settings()
    store.append_arrow(table)
    store.compact()
    EventStore.close_all()


def timed_get(url: str, cookie: str) -> tuple[float, int]:
    request = urllib.request.Request(url, headers={"Cookie": cookie})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()
        status = response.status
    return (time.perf_counter() - started) * 1000, status


def main() -> None:
    args = parse_args()
    home = Path(tempfile.mkdtemp(prefix="tandem-bench-"))
    os.environ["TANDEM_HOME"] = str(home)
    os.environ["TANDEM_EVENTS_PATH"] = str(home / "events")  # the event store: a Delta table (a directory)
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "tandem.settings"
    import django
    from django.core.management import call_command

    django.setup()
    if args.database_url:
        call_command("flush", interactive=False, verbosity=0)
    call_command("migrate", interactive=False, verbosity=0)
    started = time.perf_counter()
    account_id, session_key = fill(args.accounts, args.seed)
    fill_events(account_id)
    console.print(f"filled {args.accounts:,} accounts in {time.perf_counter() - started:.0f}s")

    from django.db import connections

    connections.close_all()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tandem", "serve", "--port", str(port), "--threads", "4"],
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    cookie = f"sessionid={session_key}"
    try:
        for _ in range(100):
            try:
                timed_get(base + "/login/", "")
                break
            except OSError:
                time.sleep(0.2)
        pages = [
            ("baseline: login page", "/login/"),
            ("accounts list, first page", "/accounts/"),
            ("accounts list, search", "/accounts/?q=Globex"),
            ("accounts list, filter tier+stage", "/accounts/?tier=enterprise&lifecycle_stage=adoption"),
            ("accounts list, sort by ARR desc", "/accounts/?sort=-arr"),
            ("accounts list, page 1000", "/accounts/?page=1000"),
            ("account page (customer 360)", f"/accounts/{account_id}/"),
            ("account usage chart (htmx)", f"/accounts/{account_id}/usage-chart/"),
        ]
        results = []
        for label, path in pages:
            cookie_for = "" if path == "/login/" else cookie
            for _ in range(3):  # warm-up
                timed_get(base + path, cookie_for)
            samples = []
            for _ in range(args.runs):
                ms, status = timed_get(base + path, cookie_for)
                if status != 200:
                    raise SystemExit(f"{path} answered {status}")
                samples.append(ms)
            samples.sort()
            p95 = samples[min(len(samples) - 1, round(0.95 * len(samples)) - 1)]
            results.append((label, path, statistics.median(samples), p95))
    finally:
        server.terminate()
        server.wait(timeout=10)

    baseline = results[0][2]
    engine = "PostgreSQL" if args.database_url else "SQLite"
    print(f"\n{args.accounts:,} accounts on {engine}, {args.runs} requests per page over loopback HTTP\n")
    print("| page | median ms | p95 ms | median / baseline |")
    print("|---|---:|---:|---:|")
    for label, _path, median, p95 in results:
        print(f"| {label} | {median:.1f} | {p95:.1f} | {median / baseline:.1f}× |")


if __name__ == "__main__":
    main()
