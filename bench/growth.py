"""How the main pages' time and query counts change as the requests grow from 1k to 100k to 1M.

Run: .venv/bin/python bench/growth.py [--sizes 1000,100000,1000000] [--quick] [--runs 20] [--keep] [--lock /tmp/bench.lock]

For each size the script builds a PostgreSQL database of its own, `bench_growth_<rows>` on the
server of DATABASE_URL (or 127.0.0.1:5432), with bench/nearby.py's district (10,000 buildings in
100 communities, 2,000 authors) and `<rows>` requests (aid_posts.AidPost), then measures in
process, with Django's test Client logged in (force_login), settings config.settings.test (no
Redis: local-memory cache, database sessions; CONN_MAX_AGE 0, so every page opens its own
database connection, as in production):

- home: the resident's front page (their communities, 20 open requests, their own requests:
  the site has no separate "my requests" page, this section of the home page is it),
- open list: /posts/, the open requests of the resident's community (50),
- nearby: /posts/nearby/ from the resident's home building, default radius and sort,
- detail: the newest open request of the resident's community (someone else's),
- queue: the committee's requests queue (/posts/queue/: escalated, disputed, follow-ups due,
  and the measures of the last 30 days and of all time),
- workspace: the committee's front page (/committee/),
- dashboard: the committee's dashboard (/committee/dashboard/) for its default period (this
  month and the two before).

The resident and the committee member belong to the community in the middle of the district;
the resident authored 50 of its requests (a fifth of them where it has fewer than 250). Each
page: warm-up, then `--runs` timed requests (median, p95), then three more under
CaptureQueriesContext for the query count and each query's time ("SQL ms": their sum, as the
database cursor sees it). A page whose first request takes over a second gets about a minute of
timed runs (at least 5) and one captured run, so that the lock is not held for many minutes.
Every answer must be 200, or the script stops. It prints a table per page and size, then the
growth from the smallest size to the largest. Where a page's query count grows, its median time
grows more than 3x, or the time in its queries grows more than 3x (and reaches 10 ms), it prints
that page's slowest queries at the largest size, the queries it makes there beyond those at the
smallest (by shape, literals aside), and its slowest SELECT with EXPLAIN (ANALYZE, BUFFERS).

The mix of the requests (bench/nearby.py builds them all open, posted in the last 30 days): one
UPDATE rewrites them as the history of a district where 1,000 requests are posted a day, so
that a larger database is a longer history at the same activity, not a busier district:

- posting times spread evenly over max(30, rows / 1,000) days back from now (1M: 1,000 days);
- posted more than 14 days ago: finished, 62 % confirmed, 20 % expired, 12 % cancelled, 6 %
  closed, with windows and expiry in the past;
- the last 14 days: 60 % open (a third of those older than two days escalated), 10 % claimed,
  10 % in progress, 8 % done, 2 % disputed, 6 % confirmed, 4 % cancelled, windows ahead;
- so about 8,400 requests are open at 100k and at 1M (0.84 % of 1M), and about 280 at 1k;
- one claim for every request that reached a helper (pending for "claimed", accepted beyond),
  and the events the measures read: "posted" for every request, and the one that moved it into
  its present status (about two events a request). No feedback, follow-ups, dispatches or
  ledger entries: those figures of the queue and the dashboard stay empty.

The databases are built first, without the lock; with `--lock PATH` the measuring then holds
an exclusive flock on PATH (as `flock PATH …` would), so that measurements never overlap with
other benchmarks'. Each size is built and measured in a child process (Django reads its
database once). The databases are dropped at the end, on failure and on Ctrl-C too, unless
`--keep` (a kept, complete one is reused by the next run; `--rebuild` builds it again).
"""

import argparse
import fcntl
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import nearby as district  # noqa: E402  (bench/nearby.py, beside this file)

DEFAULT_SIZES = (1_000, 100_000, 1_000_000)
QUICK_SIZES = (1_000, 10_000)
REQUESTS_PER_DAY = 1_000
MIN_HISTORY_DAYS = 30
LIVE_DAYS = 14
OWN_REQUESTS = 50
RESIDENT = "bench-growth-resident"
COMMITTEE = "bench-growth-committee"
WARM_UP = 3
CAPTURED_RUNS = 3
# A page slower than this (its first request) gets fewer runs: about SLOW_PAGE_BUDGET_S of them.
SLOW_PAGE_S = 1.0
SLOW_PAGE_BUDGET_S = 60.0
SLOW_PAGE_RUNS = 5
# A page "grows badly" past this ratio of median times, largest size to smallest; its SQL is
# looked into too when the time in its queries grows past the ratio and counts (SQL_FLOOR_MS).
TIME_GROWTH_LIMIT = 3.0
SQL_FLOOR_MS = 10.0
SLOWEST_SHOWN = 5
PAGES = ("home", "open list", "nearby", "detail", "queue", "workspace", "dashboard")


# --- Databases: the orchestrating process, no Django --------------------------------------------


def database_url(rows: int) -> str:
    server = urlsplit(os.environ.get("DATABASE_URL", "") or "postgres://postgres@127.0.0.1:5432/postgres")
    if not server.scheme.startswith("postgres"):
        server = urlsplit("postgres://postgres@127.0.0.1:5432/postgres")
    return urlunsplit(server._replace(path=f"/bench_growth_{rows}"))


def _admin(url: str, sql: str) -> None:
    """CREATE or DROP DATABASE, which run outside a transaction, from the server's maintenance database."""
    import psycopg

    maintenance = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as admin:
        admin.execute(sql)


def create_database(url: str, *, rebuild: bool) -> None:
    name = urlsplit(url).path.lstrip("/")
    if rebuild:
        drop_database(url)
    try:
        _admin(url, f'CREATE DATABASE "{name}"')
    except Exception as error:  # already there (--keep): reused if complete, see build()
        if "already exists" not in str(error):
            raise


def drop_database(url: str) -> None:
    # FORCE: a child killed by Ctrl-C may leave its connection behind for a moment.
    _admin(url, f'DROP DATABASE IF EXISTS "{urlsplit(url).path.lstrip("/")}" WITH (FORCE)')


def run_child(phase: str, rows: int, url: str, *, out: Path | None = None, runs: int = 0) -> None:
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    env.pop("REDIS_URL", None)
    command = [sys.executable, __file__, "--child", phase, "--rows", str(rows)]
    if out is not None:
        command += ["--out", str(out), "--runs", str(runs)]
    # run() kills the child if this process is interrupted.
    done = subprocess.run(command, env=env, cwd=ROOT, check=False)  # noqa: S603  (our own script)
    if done.returncode != 0:
        raise SystemExit(f"{phase} of {rows:,} rows failed (exit {done.returncode})")


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# --- The child: builds or measures one size ------------------------------------------------------


def _setup() -> None:
    import django

    django.setup()


MIX_SQL = """
WITH r AS (
    SELECT id,
           %(now)s - %(history)s * (((hashint8extended(id, 1) & 1048575) / 1048576.0)::float8) AS created,
           (hashint8extended(id, 2) & 1048575) %% 100 AS h
    FROM aid_posts_aidpost
), s AS (
    SELECT id, created, h, created < %(now)s - %(live)s AS finished,
           CASE WHEN created < %(now)s - %(live)s THEN
                CASE WHEN h < 62 THEN 'confirmed' WHEN h < 82 THEN 'expired'
                     WHEN h < 94 THEN 'cancelled' ELSE 'closed' END
           ELSE CASE WHEN h < 60 THEN 'open' WHEN h < 70 THEN 'claimed' WHEN h < 80 THEN 'in_progress'
                     WHEN h < 88 THEN 'done' WHEN h < 90 THEN 'disputed' WHEN h < 96 THEN 'confirmed'
                     ELSE 'cancelled' END
           END AS status
    FROM r
)
UPDATE aid_posts_aidpost p SET
    created_at = s.created,
    updated_at = s.created + LEAST(interval '3 days', (%(now)s - s.created) / 2),
    status = s.status,
    window_starts_at = CASE WHEN s.finished THEN s.created + interval '1 day' ELSE p.window_starts_at END,
    window_ends_at = CASE WHEN s.finished THEN s.created + interval '1 day' + (p.window_ends_at - p.window_starts_at)
                          ELSE p.window_ends_at END,
    expires_at = CASE WHEN s.finished THEN s.created + interval '1 day' + (p.window_ends_at - p.window_starts_at)
                      ELSE p.expires_at END,
    seats = CASE WHEN s.status = 'claimed' THEN 1 ELSE p.seats END,
    live_claims = CASE WHEN s.status IN ('claimed', 'in_progress', 'done', 'disputed') THEN 1 ELSE 0 END,
    escalated_at = CASE WHEN s.status = 'open' AND s.created < %(now)s - interval '2 days' AND s.h %% 3 = 0
                        THEN s.created + interval '1 day' END
FROM s
WHERE p.id = s.id
"""

OWN_SQL = """
UPDATE aid_posts_aidpost SET author_id = %(resident)s
WHERE id IN (SELECT id FROM aid_posts_aidpost WHERE community_id = %(community)s
             ORDER BY hashint8extended(id, 3)
             LIMIT LEAST(%(own)s, (SELECT count(*) / 5 FROM aid_posts_aidpost WHERE community_id = %(community)s)))
"""

# The helper is another author, never the request's own.
CLAIMS_SQL = """
INSERT INTO aid_posts_claim (post_id, helper_id, status, created_at, decided_at, hours, done_at)
SELECT id,
       %(first)s + ((author_id - %(first)s + 1 + id %% 7) %% %(authors)s),
       CASE WHEN status = 'claimed' THEN 'pending' ELSE 'accepted' END,
       created_at + LEAST(interval '2 hours', (%(now)s - created_at) / 4),
       CASE WHEN status = 'claimed' THEN NULL ELSE created_at + LEAST(interval '3 hours', (%(now)s - created_at) / 3) END,
       CASE WHEN status IN ('done', 'disputed', 'confirmed', 'closed') THEN 2 END,
       CASE WHEN status IN ('done', 'disputed', 'confirmed', 'closed') THEN updated_at - interval '1 minute' END
FROM aid_posts_aidpost
WHERE status IN ('claimed', 'in_progress', 'done', 'disputed', 'confirmed', 'closed')
"""

EVENTS_SQL = """
INSERT INTO aid_posts_postevent (post_id, actor_id, action, from_status, to_status, note, created_at)
SELECT id, author_id, 'posted', '', 'open', '', created_at FROM aid_posts_aidpost
UNION ALL
SELECT p.id, CASE WHEN p.status = 'expired' THEN NULL ELSE p.author_id END, m.action, m.from_status, p.status, '',
       p.updated_at
FROM aid_posts_aidpost p
JOIN (VALUES ('claimed', 'claimed', 'open'), ('in_progress', 'started', 'claimed'),
             ('done', 'helper_done', 'in_progress'), ('disputed', 'disputed', 'done'),
             ('confirmed', 'confirmed', 'done'), ('closed', 'resolved', 'disputed'),
             ('cancelled', 'cancelled', 'open'), ('expired', 'expired', 'open'))
     AS m (status, action, from_status) ON m.status = p.status
"""


def _person(username: str, community, role: str):
    from django.conf import settings
    from django.contrib.auth.hashers import make_password

    from neighbors.models import Consent, Membership, Place, Profile, User

    user = User.objects.create(username=username, password=make_password(None))
    Profile.objects.create(user=user, display_name=username)
    Consent.objects.bulk_create(
        Consent(user=user, kind=kind, version=settings.CONSENT_VERSIONS[kind])
        for kind in (Consent.Kind.PRIVACY_NOTICE, Consent.Kind.LOCATION)
    )
    Membership.objects.create(
        user=user,
        community=community,
        home_place=Place.objects.filter(community=community).order_by("pk").first(),
        role=role,
        status=Membership.Status.APPROVED,
    )
    return user


def middle_community():
    from neighbors.models import Community

    side = district.COMMUNITIES_PER_SIDE
    return Community.objects.get(name=f"社区{(side // 2) * side + side // 2:03d}")


def apply_mix(rows: int) -> None:
    """The statuses, times, claims and events of the module's docstring, and the two people."""
    from django.db import connection, transaction
    from django.db.models import Count, Max, Min
    from django.utils import timezone

    from neighbors.models import Membership, User

    start = time.perf_counter()
    authors = User.objects.filter(username__startswith="bench-author-").aggregate(
        first=Min("pk"), last=Max("pk"), count=Count("pk")
    )
    count = authors["count"]
    if authors["last"] - authors["first"] + 1 != count:
        raise SystemExit("the district's authors do not have consecutive ids: the claims' helpers cannot be picked")
    now = timezone.now()
    params = {
        "now": now,
        "history": timedelta(days=max(MIN_HISTORY_DAYS, rows / REQUESTS_PER_DAY)),
        "live": timedelta(days=LIVE_DAYS),
        "first": authors["first"],
        "authors": count,
        "own": OWN_REQUESTS,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        community = middle_community()
        resident = _person(RESIDENT, community, Membership.Role.RESIDENT)
        _person(COMMITTEE, community, Membership.Role.COMMITTEE)
        cursor.execute(MIX_SQL, params)
        cursor.execute(OWN_SQL, {**params, "resident": resident.pk, "community": community.pk})
        cursor.execute(CLAIMS_SQL, params)
        cursor.execute(EVENTS_SQL, params)
    with connection.cursor() as cursor:
        # The UPDATE left a dead version of every row: compact the table as a production one
        # would be, then set the statistics and the visibility map (index-only scans).
        cursor.execute("VACUUM FULL aid_posts_aidpost")
        cursor.execute("VACUUM ANALYZE")
    print(f"statuses, claims and events of {rows:,} requests in {time.perf_counter() - start:.0f} s", flush=True)


def build(rows: int) -> None:
    _setup()
    from neighbors.models import User

    district.ensure_district(rows)
    district.index_as_in_models()
    if User.objects.filter(username=RESIDENT).exists():
        print(f"reusing the statuses of bench_growth_{rows}", flush=True)
        return
    apply_mix(rows)


def describe() -> dict:
    from django.db.models import Count

    from aid_posts.models import AidPost, Claim, PostEvent
    from neighbors.models import User

    community = middle_community()
    return {
        "by_status": dict(AidPost.objects.order_by().values_list("status").annotate(n=Count("pk"))),
        "in_community": AidPost.objects.filter(community=community).count(),
        "open_in_community": AidPost.objects.filter(community=community, status=AidPost.Status.OPEN).count(),
        "own": AidPost.objects.filter(author__username=RESIDENT).count(),
        "claims": Claim.objects.count(),
        "events": PostEvent.objects.count(),
        "users": User.objects.count(),
    }


def page_paths() -> dict[str, tuple[str, str]]:
    from django.urls import reverse

    from aid_posts.models import AidPost

    community = middle_community()
    posts = AidPost.objects.filter(community=community).exclude(author__username=RESIDENT)
    post = posts.filter(status=AidPost.Status.OPEN).order_by("-created_at").first() or posts.first()
    if post is None:
        raise SystemExit("the resident's community has no request to open")
    return {
        "home": (RESIDENT, reverse("home")),
        "open list": (RESIDENT, reverse("aid_posts:list")),
        "nearby": (RESIDENT, reverse("aid_posts:nearby")),
        "detail": (RESIDENT, reverse("aid_posts:detail", args=[post.pk])),
        "queue": (COMMITTEE, reverse("aid_posts:queue")),
        "workspace": (COMMITTEE, reverse("committee:home")),
        "dashboard": (COMMITTEE, reverse("committee:dashboard")),
    }


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1)]


def _get(client, name: str, path: str):
    response = client.get(path)
    if response.status_code != 200:
        raise SystemExit(f"{name} ({path}) answered {response.status_code}, not 200")
    return response


def _explain(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def measure_page(name: str, username: str, path: str, runs: int) -> dict:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from neighbors.models import User

    client = Client(HTTP_HOST="127.0.0.1")  # not "testserver": this is no test run
    client.force_login(User.objects.get(username=username))
    start = time.perf_counter()
    _get(client, name, path)
    first = time.perf_counter() - start
    slow = first > SLOW_PAGE_S
    if slow:
        # Seconds a page: the timed runs are cut to about SLOW_PAGE_BUDGET_S (at least
        # SLOW_PAGE_RUNS), so that the lock is not held for many minutes.
        runs = max(SLOW_PAGE_RUNS, min(runs, int(SLOW_PAGE_BUDGET_S / first)))
    else:
        for _ in range(WARM_UP - 1):
            _get(client, name, path)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        _get(client, name, path)
        times.append((time.perf_counter() - start) * 1000)
    captured = []
    for _ in range(1 if slow else CAPTURED_RUNS):
        with CaptureQueriesContext(connection) as queries:
            _get(client, name, path)
        captured.append(list(queries.captured_queries))
    counts = [len(run) for run in captured]
    last = captured[-1]
    if len(set(counts)) == 1:
        # The same queries in the same order each time: the median of each one's time.
        query_ms = [statistics.median(float(run[i]["time"]) * 1000 for run in captured) for i in range(len(last))]
    else:
        query_ms = [float(query["time"]) * 1000 for query in last]
    selects = [i for i, query in enumerate(last) if query["sql"].lstrip().upper().startswith(("SELECT", "WITH"))]
    slowest = max(selects, key=lambda i: query_ms[i]) if selects else None
    result = {
        "path": path,
        "queries": counts,
        "median_ms": statistics.median(times),
        "p95_ms": percentile(times, 0.95),
        "sql_ms": sum(query_ms),
        "runs": runs,
        "sqls": [query["sql"] for query in last],
        "query_ms": query_ms,
        "slowest": None,
    }
    if slowest is not None:
        sql = last[slowest]["sql"]
        result["slowest"] = {"ms": query_ms[slowest], "index": slowest + 1, "sql": sql, "plan": _explain(sql)}
    return result


def measure(rows: int, out: Path, runs: int) -> None:
    _setup()
    facts = describe()
    pages = {}
    for name, (username, path) in page_paths().items():
        pages[name] = measure_page(name, username, path, runs)
        page = pages[name]
        print(
            f"  {rows:>9,} {name:<10} {page['queries'][-1]:>3} queries, median {page['median_ms']:.1f} ms, "
            f"p95 {page['p95_ms']:.1f} ms, SQL {page['sql_ms']:.1f} ms",
            flush=True,
        )
    out.write_text(json.dumps({"rows": rows, "facts": facts, "pages": pages}, ensure_ascii=False))


# --- The report ----------------------------------------------------------------------------------


def size_label(rows: int) -> str:
    if rows >= 1_000_000 and rows % 1_000_000 == 0:
        return f"{rows // 1_000_000}M"
    if rows >= 1_000 and rows % 1_000 == 0:
        return f"{rows // 1_000}k"
    return f"{rows:,}"


def query_shape(sql: str) -> str:
    """The query with its literals replaced, so that the same query for another row compares equal."""
    sql = re.sub(r"_django_curs_\w+", "_django_curs_?", sql)  # a server-side cursor's name
    return re.sub(r"\b\d+\b", "?", re.sub(r"'[^']*'", "?", sql))


def extra_queries(small: dict, large: dict) -> list[str]:
    """The queries the larger database's page makes beyond the smaller one's, by shape."""
    extra = Counter(map(query_shape, large["sqls"])) - Counter(map(query_shape, small["sqls"]))
    return [f"{n} × {shape}" for shape, n in extra.items()]


def report(results: list[dict]) -> None:
    print("\nThe databases (requests by status; the resident's community; claims and events):")
    for result in results:
        facts = result["facts"]
        statuses = ", ".join(f"{status} {n:,}" for status, n in sorted(facts["by_status"].items(), key=lambda s: -s[1]))
        print(
            f"  {size_label(result['rows'])}: {statuses}; the community {facts['in_community']:,} "
            f"({facts['open_in_community']:,} open), the resident's own {facts['own']}; "
            f"claims {facts['claims']:,}, events {facts['events']:,}"
        )
    print("\n| page | requests | runs | queries | median ms | p95 ms | SQL ms |")
    print("|---|---|---|---|---|---|---|")
    for name in PAGES:
        for result in results:
            page = result["pages"][name]
            queries = "/".join(str(n) for n in sorted(set(page["queries"])))
            print(
                f"| {name} | {size_label(result['rows'])} | {page['runs']} | {queries} | {page['median_ms']:.1f} | "
                f"{page['p95_ms']:.1f} | {page['sql_ms']:.1f} |"
            )
    first, last = results[0], results[-1]
    ratio = f"{size_label(last['rows'])}/{size_label(first['rows'])}"
    print(
        f"\n| page | queries {size_label(first['rows'])} → {size_label(last['rows'])} | median {ratio} | "
        f"p95 {ratio} | SQL {ratio} | |"
    )
    print("|---|---|---|---|---|---|")
    bad = []
    for name in PAGES:
        small, large = first["pages"][name], last["pages"][name]
        grows_queries = max(large["queries"]) > max(small["queries"])
        grows_time = large["median_ms"] > TIME_GROWTH_LIMIT * small["median_ms"]
        grows_sql = large["sql_ms"] >= SQL_FLOOR_MS and large["sql_ms"] > TIME_GROWTH_LIMIT * small["sql_ms"]
        flags = (
            ("queries grow", grows_queries),
            (f"time > {TIME_GROWTH_LIMIT:g}x", grows_time),
            (f"SQL > {TIME_GROWTH_LIMIT:g}x", grows_sql),
        )
        verdict = ", ".join(word for word, flag in flags if flag)
        if verdict:
            bad.append(name)
        print(
            f"| {name} | {max(small['queries'])} → {max(large['queries'])} | "
            f"{large['median_ms'] / small['median_ms']:.2f} | {large['p95_ms'] / small['p95_ms']:.2f} | "
            f"{large['sql_ms'] / max(small['sql_ms'], 0.001):.2f} | {verdict or 'ok'} |"
        )
    for name in bad:
        explain_page(name, first, last)


def explain_page(name: str, first: dict, last: dict) -> None:
    """What a page that grows spends its queries on at the largest size, with the slowest one's plan."""
    page, big = last["pages"][name], size_label(last["rows"])
    print(
        f"\n=== {name} at {big}: {page['sql_ms']:.1f} ms in {len(page['sqls'])} queries, page median "
        f"{page['median_ms']:.1f} ms; the slowest:"
    )
    ranked = sorted(range(len(page["sqls"])), key=lambda i: -page["query_ms"][i])[:SLOWEST_SHOWN]
    for i in ranked:
        print(f"  #{i + 1:<3} {page['query_ms'][i]:8.1f} ms  {page['sqls'][i][:150]}")
    extra = extra_queries(first["pages"][name], page)
    if extra:
        print(f"  queries at {big} beyond those at {size_label(first['rows'])}:")
        for line in extra:
            print(f"    {line[:300]}")
    slowest = page["slowest"]
    if slowest is None:
        print("  (none of its queries is a SELECT to explain)")
        return
    sql = slowest["sql"]
    shown = sql if len(sql) <= 4000 else sql[:4000] + " …"
    print(
        f"EXPLAIN (ANALYZE, BUFFERS) of #{slowest['index']}, measured {slowest['ms']:.1f} ms in the page:\n"
        f"{shown}\n\n{slowest['plan']}"
    )


# --- Main ----------------------------------------------------------------------------------------


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise SystemExit(f"--sizes: comma-separated numbers of requests, not {text!r}") from None
    if len(sizes) < 2 or any(size < 100 for size in sizes):
        raise SystemExit("--sizes: at least two sizes of 100 requests or more")
    return sorted(set(sizes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", help="comma-separated numbers of requests (default 1000,100000,1000000)")
    parser.add_argument("--quick", action="store_true", help="sizes 1000,10000")
    parser.add_argument("--runs", type=int, default=20, help="timed requests per page and size")
    parser.add_argument("--keep", action="store_true", help="keep the databases for the next run")
    parser.add_argument("--rebuild", action="store_true", help="build again even a complete kept database")
    parser.add_argument("--lock", type=Path, help="measure holding an exclusive flock on this file")
    parser.add_argument("--child", choices=("build", "measure"), help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.runs < 2:
        raise SystemExit("--runs: at least 2")
    if args.child == "build":
        build(args.rows)
        return
    if args.child == "measure":
        measure(args.rows, args.out, args.runs)
        return

    sizes = parse_sizes(args.sizes) if args.sizes else list(QUICK_SIZES if args.quick else DEFAULT_SIZES)
    urls = {rows: database_url(rows) for rows in sizes}
    created = []
    try:
        for rows in sizes:
            create_database(urls[rows], rebuild=args.rebuild)
            created.append(rows)
            print(f"building {size_label(rows)} in {urlsplit(urls[rows]).path.lstrip('/')}", flush=True)
            run_child("build", rows, urls[rows])
        with tempfile.TemporaryDirectory(prefix="bench-growth-") as scratch:
            lock = open(args.lock, "a") if args.lock else None  # noqa: SIM115  (held until the end of measuring)
            try:
                if lock is not None:
                    print(f"waiting for the lock {args.lock} …", flush=True)
                    fcntl.flock(lock, fcntl.LOCK_EX)
                print(
                    f"measuring ({args.runs} runs a page after {WARM_UP} warm-up; "
                    f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load average {loadavg()}):",
                    flush=True,
                )
                results = []
                for rows in sizes:
                    out = Path(scratch) / f"{rows}.json"
                    run_child("measure", rows, urls[rows], out=out, runs=args.runs)
                    results.append(json.loads(out.read_text()))
                print(f"done measuring; load average {loadavg()}", flush=True)
            finally:
                if lock is not None:
                    lock.close()
        print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
        report(results)
    finally:
        if not args.keep:
            for rows in created:
                drop_database(urls[rows])


if __name__ == "__main__":
    main()
