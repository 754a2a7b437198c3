"""Benchmark: sustained HTTP ingestion of batched `track` calls against `tandem serve`.

Run:  python benchmarks/bench_ingest.py [--seconds 20] [--batch 500] [--connections 4] [--port 8131]
                                        [--with-metrics-worker]

Starts `tandem serve` on a fresh TANDEM_HOME, creates a source, sends one batch of group calls
(1,000 accounts), then a load generator in a separate process posts pre-built /v1/batch bodies of
`--batch` track events (unique messageIds, Segment's payload shape, Basic auth) on keep-alive
connections for `--seconds`. It reports accepted events/s, batch latency percentiles, how long the
server's ingestor took to empty the inbox after the load stopped, and what the event store (the
Delta table at TANDEM_HOME/events, read through ``EventStore``) then holds: every accepted event
must be there exactly once (counted from the snapshot's file statistics, and by distinct
messageId through ``EventStore.cursor()``), or the benchmark exits with an error.

``--with-metrics-worker``: while the load runs, another process computes metrics on the same
TANDEM_HOME at the same time, the way a `tandem worker` running the daily metrics step would:
`tandem metrics compute` in a loop, one process per run (the shipped and suggested metrics, as
`tandem metrics suggest` installs them, over every account), each reading the latest snapshot of
the table while the ingestor appends to it. The runs and their durations are reported too.

Baseline, same run: the same events inserted with a plain `executemany` INSERT loop into a scratch
DuckDB table (5,000 rows).
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import multiprocessing as mp
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import duckdb

from tandem.usage.eventstore import EventStore


def track_batch(n: int, accounts: int, seq: int) -> bytes:
    now = dt.datetime.now(dt.UTC)
    batch = [
        {
            "type": "track",
            "userId": f"user-{(seq * n + i) % 20000}",
            "event": ("Report Run", "Dashboard Viewed", "Export", "Login")[i % 4],
            "properties": {"rows": i % 100, "plan": "pro"},
            "context": {"groupId": f"acct-{(seq * n + i) % accounts}", "library": {"name": "bench"}},
            "timestamp": (now - dt.timedelta(seconds=i)).isoformat(),
            "messageId": str(uuid.uuid4()),
        }
        for i in range(n)
    ]
    return json.dumps({"batch": batch, "sentAt": now.isoformat()}).encode()


def loadgen(url: str, key: str, bodies: list[bytes], seconds: float, connections: int, out: mp.Queue) -> None:
    """Post the bodies on ``connections`` keep-alive connections until ``seconds`` have passed.

    Plain http.client, so the generator's own CPU (it shares the 2 cores with the server) stays
    small next to the server's.
    """
    import http.client
    from urllib.parse import urlsplit

    target = urlsplit(url)
    auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    latencies: list[float] = []
    sent = [0]
    failures = [0]
    lock = threading.Lock()
    index = [0]
    deadline = time.perf_counter() + seconds

    def worker() -> None:
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
        headers = {"Authorization": auth, "Content-Type": "application/json"}
        while time.perf_counter() < deadline:
            with lock:
                if index[0] >= len(bodies):
                    return
                body = bodies[index[0]]
                index[0] += 1
            started = time.perf_counter()
            conn.request("POST", "/v1/batch", body=body, headers=headers)
            response = conn.getresponse()
            answer = response.read()
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                if response.status == 200:
                    sent[0] += json.loads(answer)["accepted"]
                else:
                    failures[0] += 1
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.put(
        {"events": sent[0], "seconds": time.perf_counter() - started, "latencies": latencies, "failures": failures[0]}
    )


def baseline(bodies: list[bytes], limit: int) -> float:
    """Plain executemany of the same events into a DuckDB table; events/s."""
    rows = []
    for body in bodies:
        for m in json.loads(body)["batch"]:
            rows.append((1, m["userId"], m["event"], m["timestamp"], 1.0, json.dumps(m["properties"])))
            if len(rows) >= limit:
                break
        if len(rows) >= limit:
            break
    scratch = Path(tempfile.mkdtemp(prefix="tandem-bench-ingest-baseline-"))
    con = duckdb.connect(str(scratch / "baseline.duckdb"))
    con.execute(
        "CREATE TABLE events (account_id BIGINT, user_id VARCHAR, event VARCHAR, ts TIMESTAMPTZ, "
        "quantity DOUBLE, properties JSON)"
    )
    started = time.perf_counter()
    con.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)", rows)
    rate = len(rows) / (time.perf_counter() - started)
    con.close()
    shutil.rmtree(scratch, ignore_errors=True)
    return rate


def inbox_backlog(home: Path) -> int:
    """Calls accepted and not drained into the event store yet (the server's inbox)."""
    import sqlite3

    con = sqlite3.connect(home / "inbox.sqlite3", timeout=30)
    try:
        return con.execute("SELECT count(*) FROM inbox").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0
    finally:
        con.close()


class MetricsLoop:
    """`tandem metrics compute` in a loop in other processes, on the same TANDEM_HOME, until stopped."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.command, self.env = command, env
        self.runs: list[float] = []  # wall seconds of each finished run (process start included)
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            started = time.perf_counter()
            proc = subprocess.run(self.command, env=self.env, capture_output=True, text=True, check=False)
            if proc.returncode == 0:
                self.runs.append(time.perf_counter() - started)
            else:
                self.failures.append((proc.stdout + proc.stderr).strip()[-2000:])
                time.sleep(1)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop after the run in progress (it is waited for, so it never overlaps the final count)."""
        self._stop.set()
        self._thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--port", type=int, default=8131)
    parser.add_argument(
        "--with-metrics-worker",
        action="store_true",
        help="compute metrics (`tandem metrics compute` in a loop) in another process during the load",
    )
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="tandem-bench-ingest-"))
    env = {**os.environ, "TANDEM_HOME": str(home), "TANDEM_LOG_LEVEL": "ERROR"}
    env.pop("DATABASE_URL", None)
    env.pop("TANDEM_EVENTS_PATH", None)  # the default: the Delta table TANDEM_HOME/events
    tandem = [sys.executable, "-m", "tandem"]
    subprocess.run([*tandem, "migrate", "--quiet"], env=env, check=True, stdout=subprocess.DEVNULL)
    key = subprocess.run(
        [*tandem, "sources", "create", "bench"], env=env, check=True, capture_output=True, text=True
    ).stdout.strip()

    # Enough unique batches for the whole run at 60,000 events/s, built before the clock starts.
    count = int(args.seconds * 60_000 / args.batch) + 1
    bodies = [track_batch(args.batch, args.accounts, seq) for seq in range(count)]
    base_rate = baseline(bodies, 5_000)
    print(f"baseline done: {base_rate:,.0f} events/s", file=sys.stderr)

    server = subprocess.Popen(
        [*tandem, "serve", "--port", str(args.port), "--threads", "8"], env=env, stdout=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{args.port}"
    try:
        import requests

        for _ in range(100):
            try:
                requests.get(url + "/login/", timeout=5)
                break
            except requests.RequestException:
                time.sleep(0.2)
        auth = {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}
        groups = [
            {"type": "group", "userId": "bench", "groupId": f"acct-{i}", "traits": {"name": f"Account {i}"}}
            for i in range(args.accounts)
        ]
        requests.post(url + "/v1/batch", json={"batch": groups}, headers=auth, timeout=30).raise_for_status()
        # Let the ingestor create the accounts before the clock starts (1,000 upserts, each its own
        # transaction: seconds on a busy machine, which the catch-up figure must not include).
        waited = time.perf_counter()
        while inbox_backlog(home) and time.perf_counter() - waited < 120:
            time.sleep(0.25)
        print(f"accounts created in {time.perf_counter() - waited:.1f} s", file=sys.stderr)
        metrics = None
        if args.with_metrics_worker:
            # The shipped metrics plus those suggested from the event names (none stored yet).
            subprocess.run([*tandem, "metrics", "suggest"], env=env, check=True, stdout=subprocess.DEVNULL)
            metrics = MetricsLoop([*tandem, "metrics", "compute", "--json"], env)
            metrics.start()
            print("metrics worker started", file=sys.stderr)
        print("server ready, accounts created; loading", file=sys.stderr)

        out: mp.Queue = mp.Queue()
        process = mp.Process(target=loadgen, args=(url, key, bodies, args.seconds, args.connections, out))
        process.start()
        result = out.get()
        process.join()
        stop = time.perf_counter()
        load = os.getloadavg()[0]  # neighbours' work included: the machines are shared
        if metrics is not None:
            metrics.stop()
            print(f"metrics worker stopped after {len(metrics.runs)} runs", file=sys.stderr)
        # How far behind is the ingestor? Wait for the inbox to empty (at most 60 s).
        while inbox_backlog(home) and time.perf_counter() - stop < 60:
            time.sleep(0.25)
        catch_up = time.perf_counter() - stop
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()

    store = EventStore(home / "events", read_only=True)
    snapshot = store.snapshot()
    stored = store.count()  # from the snapshot's file statistics
    with store.cursor() as cur:
        distinct, tracked = cur.execute(
            "SELECT count(DISTINCT message_id), count(*) FROM events WHERE message_id IS NOT NULL"
        ).fetchone()
    disk = store.disk_bytes()
    store.close()
    shutil.rmtree(home, ignore_errors=True)
    lat = sorted(result["latencies"])
    p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000  # noqa: E731
    rate = result["events"] / result["seconds"]
    print("| measure | value | ratio to baseline |\n|---|---:|---:|")
    print(f"| baseline: executemany INSERT into DuckDB, events/s | {base_rate:,.0f} | 1.0× |")
    print(
        f"| HTTP /v1/batch accepted (batches of {args.batch}, {args.connections} connections), events/s "
        f"| {rate:,.0f} | {rate / base_rate:.1f}× |"
    )
    print(f"| batch latency p50 / p95 / p99, ms | {p(0.5):.0f} / {p(0.95):.0f} / {p(0.99):.0f} | |")
    print(f"| batches sent / failed | {len(lat):,} / {result['failures']} | |")
    print(f"| events in the event store after the run (accepted: {result['events']:,}) | {stored:,} | |")
    print(
        f"| event store: Delta version, Parquet files, MiB | {snapshot.version:,}, {len(snapshot.files):,}, "
        f"{disk / 2**20:,.1f} | |"
    )
    print(f"| ingestor caught up (inbox empty) after the load stopped, s | {catch_up:.1f} | |")
    print(f"| mean batch latency, ms | {statistics.mean(lat) * 1000:.0f} | |")
    print(f"| machine load average (1 min) when the load stopped | {load:.1f} | |")
    if metrics is not None:
        runs = metrics.runs
        spread = f"{min(runs):.1f} / {statistics.median(runs):.1f} / {max(runs):.1f}" if runs else "-"
        failed = len(metrics.failures)
        print(f"| metrics worker: `tandem metrics compute` runs finished / failed | {len(runs)} / {failed} | |")
        print(f"| metrics worker: seconds per run, min / median / max | {spread} | |")
    problems = []
    if stored != result["events"] or distinct != result["events"] or tracked != result["events"]:
        problems.append(
            f"accepted {result['events']:,} events but the store holds {stored:,} "
            f"({tracked:,} tracked rows, {distinct:,} distinct messageIds)"
        )
    if metrics is not None and metrics.failures:
        problems.append(f"{len(metrics.failures)} metrics runs failed; last:\n{metrics.failures[-1]}")
    if metrics is not None and not metrics.runs:
        problems.append("no metrics run finished during the load")
    for problem in problems:
        print(f"ERROR: {problem}", file=sys.stderr)
    if problems:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
