"""HTTP pages under load, on the production profile: throughput and latency per ASGI server and workers.

Run: .venv/bin/python bench/http_pages.py [--quick] [--seconds 10] [--servers uvicorn,daphne]
     [--uvicorn-workers 1,2] [--connections keep-alive,close] [--rounds 1] [--keep]

Needs wrk (`apt-get install -y wrk`), PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379.

It builds a throwaway PostgreSQL database (`jinlin_bench_http`, dropped at the end unless
`--keep`): migrate, `manage.py load_demo`, then generated rows so that the pages carry a
realistic weight: 46 more buildings and 60 more residents in the demo community 莲兴社区,
2,000 open requests spread over its buildings (within ~1.5 km of its centre, so the nearby
list's default 1 km finds most of them) and 200 more messages in the demo conversation of
王阿姨 and 李师傅. 王阿姨 (a resident) is logged in by a session made with the production
settings (cached_db: Redis db 7 and the database), and every request carries its cookie.
Static files are collected into a temporary STATIC_ROOT. Then each page is requested one at a
time in a process of the production profile (no server): its queries, its wall and CPU time,
and what opening a PostgreSQL connection costs (CONN_MAX_AGE is 0: every request opens one).

Then the servers, in the production profile: uvicorn with one worker and with two (the
production command, deploy/; `--uvicorn-workers` for other counts), daphne (one process). Each
serves bench/http_asgi.py: the site plus a trivial "ok" view in front of its URLs. They all run
from the start, idle but for the one under load, and each page is measured on every server in
turn (then the next page, and again for each of `--rounds`, the medians printed), so that
whatever else the machine does falls on all of them alike. For each page, the trivial view, the home page,
the nearby list and the conversation, wrk (a separate process, written in C) warms up for a
couple of seconds, then loads the server for `--seconds`; its Lua script counts the answers
that were not 2xx (the bench fails if there was one: a redirect to the login page is a broken
measurement, not a fast page) and prints p50 / p95 latency and requests per second. Before
that, each page is fetched once and checked for what only the logged-in resident's page shows.

Connections, two ways (`--connections`): wrk's 8 connections kept alive for the whole run, as
nginx's upstream keepalive holds its connections to the server (deploy/nginx/jinlin.conf); and
a new connection for every request (`Connection: close`), as a proxy without upstream keepalive
opens them. They differ with several uvicorn workers: the workers share one listening socket,
and a worker's event loop accepts every connection waiting when it wakes, so 8 connections
opened at once may all go to one worker and stay there. The bench reports, halfway through,
how many of the kept-alive connections each worker held, and each worker's CPU.

wrk runs with 2 threads and 8 connections (`-t2 -c8`): 2 threads for the 2 cores (more event
loops than cores only contend). 8 requests in flight: Django runs the site's sync views one at a
time in each worker (on one thread, `sync_to_async(thread_sensitive=True)`), so a worker needs
one waiting request to stay busy, and 8 keep two workers busy even when the connections are
split 6 + 2; more would only lengthen the queue. Latency is then about 8 ÷ throughput
(Little's law): p50 measures the queue as much as the page. On 2 cores wrk competes with the
servers and PostgreSQL for CPU; the CPU of wrk, of each serving process and of the rest of the
machine (PostgreSQL, Redis, anything else running) is printed with each case, read from /proc.

Printed: a line per case as it is measured, then a table, a row per server, connection way and page with req/s, p50, p95, the page's share of
the trivial view's req/s on the same server, the server's CPU per request, and CPU; then per
page the ratio of two uvicorn workers to one and of daphne to uvicorn (one process each).
Everything this starts is stopped, the database dropped and the keys of Redis db 7 deleted, on
failure, Ctrl-C and SIGTERM too.
"""

import argparse
import http.client
import json
import os
import random
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"

POSTGRES_SERVER = "postgres://postgres@127.0.0.1:5432"
BENCH_DATABASE = "jinlin_bench_http"
REDIS_URL = "redis://127.0.0.1:6379/7"
APP = "http_asgi:application"
TRIVIAL_PATH = "/bench/trivial/"  # as bench/http_asgi.py routes it

# The demo's community, resident and her conversation partner (committee/management/commands/load_demo.py).
DEMO_COMMUNITY = "莲兴社区"
DEMO_RESIDENT = "wang@demo.jinlin"
DEMO_HELPER = "li@demo.jinlin"
EXTRA_BUILDINGS = 46
EXTRA_RESIDENTS = 60
OPEN_REQUESTS = 2000
MESSAGES = 200
# Degrees around the demo buildings' centre: ±0.013° is ±1.4 km north-south, ±1.3 km east-west.
SPREAD_DEGREES = 0.013

# How wrk connects: the same 8 connections for the whole run, as nginx's upstream keepalive
# (deploy/nginx/jinlin.conf) holds its connections to the server; or a new one for each
# request, as a proxy without upstream keepalive does.
KEEP_ALIVE = "keep-alive"
CLOSE = "close"
MODES = {KEEP_ALIVE: "8 kept alive", CLOSE: "new per request"}
THREADS = 2
CONNECTIONS = 8
SECONDS = 10.0
WARMUP_SECONDS = 2.0
WRK_TIMEOUT = "10s"
INSPECT_RUNS = 20
PG_RUNS = 50
SERVER_START_TIMEOUT = 60
SUBPROCESS_TIMEOUT = 600


@dataclass(frozen=True)
class ServerKind:
    name: str  # "uvicorn" or "daphne"
    workers: int

    @property
    def title(self) -> str:
        if self.name == "daphne":  # it has no workers: one process
            return "daphne, 1 process"
        return f"{self.name}, {self.workers} worker{'s' if self.workers > 1 else ''}"


@dataclass(frozen=True)
class Page:
    key: str
    title: str
    path: str
    marker: str  # text only the logged-in resident's page holds ("" for the trivial view)


@dataclass
class Result:
    server: ServerKind
    mode: str  # KEEP_ALIVE or CLOSE
    page: Page
    rps: float
    p50_ms: float
    p95_ms: float
    wrk_cpu: float  # share of one core
    worker_cpu: list[float]  # each serving process's share of one core
    machine_busy: float  # share of all cores
    connections: str  # wrk's connections each serving process held, halfway through: "5 + 3"

    @property
    def server_cpu(self) -> float:
        return sum(self.worker_cpu)

    @property
    def server_ms_per_request(self) -> float:
        return 1000 * self.server_cpu / self.rps

    @property
    def rest_cpu(self) -> float:
        """Cores busy outside wrk and the server: PostgreSQL, Redis, anything else running."""
        return max(0.0, self.machine_busy * (os.cpu_count() or 1) - self.wrk_cpu - self.server_cpu)


# --- Setup: runs in a subprocess with the servers' environment ------------------------------


def populate(out: Path) -> None:
    """Generated rows around the demo community, and the resident's session; writes the pages'
    paths, their markers, the cookie and the settings worth checking to `out` as JSON."""
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from datetime import timedelta
    from decimal import Decimal

    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction
    from django.test import Client
    from django.utils import timezone

    from aid_posts.models import AidPost
    from messaging.models import Conversation, Message
    from neighbors.models import Community, Membership, Place, Profile, User
    from talent_pool.models import Skill

    rng = random.Random(8)
    community = Community.objects.get(name=DEMO_COMMUNITY)
    resident = User.objects.get(email=DEMO_RESIDENT)
    helper = User.objects.get(email=DEMO_HELPER)
    demo_places = list(Place.objects.filter(community=community))
    centre_lat = sum(float(place.latitude) for place in demo_places) / len(demo_places)
    centre_lng = sum(float(place.longitude) for place in demo_places) / len(demo_places)
    now = timezone.now()

    def near(value: float) -> Decimal:
        return Decimal(f"{value + rng.uniform(-SPREAD_DEGREES, SPREAD_DEGREES):.6f}")

    with transaction.atomic():
        buildings = Place.objects.bulk_create(
            Place(
                community=community,
                grid=demo_places[n % len(demo_places)].grid,
                name=f"{100 + n}号楼",
                latitude=near(centre_lat),
                longitude=near(centre_lng),
            )
            for n in range(EXTRA_BUILDINGS)
        )
        neighbours = User.objects.bulk_create(
            User(username=f"bench-http-{n:03d}", email=f"bench-http-{n:03d}@example.test", password=make_password(None))
            for n in range(EXTRA_RESIDENTS)
        )
        Profile.objects.bulk_create(Profile(user=user, display_name=f"邻居{n}") for n, user in enumerate(neighbours))
        Membership.objects.bulk_create(
            Membership(
                user=user,
                community=community,
                home_place=buildings[n % len(buildings)],
                status=Membership.Status.APPROVED,
                decided_at=now,
            )
            for n, user in enumerate(neighbours)
        )
        places = [*demo_places, *buildings]
        categories = list(Skill.objects.all())
        urgencies = list(AidPost.Urgency)
        posts = []
        for n in range(OPEN_REQUESTS):
            starts = now + timedelta(hours=rng.randint(1, 72))
            ends = starts + timedelta(days=rng.randint(1, 7))
            category = rng.choice(categories)
            posts.append(
                AidPost(
                    community=community,
                    author=rng.choice(neighbours),
                    category=category,
                    title=f"{category.name_zh_hans}：第{n}号求助",
                    description="想请会的邻居帮个忙，时间可以商量，谢谢大家。" * rng.randint(1, 4),
                    urgency=rng.choice(urgencies),
                    window_starts_at=starts,
                    window_ends_at=ends,
                    expires_at=ends,
                    place=rng.choice(places),
                    status=AidPost.Status.OPEN,
                )
            )
        AidPost.objects.bulk_create(posts, batch_size=500)

        conversation = (
            Conversation.objects.filter(participants__user=resident)
            .filter(participants__user=helper)
            .exclude(kind=Conversation.Kind.ANNOUNCEMENT)
            .order_by("pk")
            .first()
        )
        if conversation is None:
            raise SystemExit(f"load_demo made no conversation between {DEMO_RESIDENT} and {DEMO_HELPER}")
        lines = ["水龙头还在滴水吗？", "今天好多了，谢谢！", "我周六再带个垫圈过来。", "好的，我在家等您。"]
        last_body = ""
        messages = []
        for n in range(MESSAGES):
            last_body = f"{lines[n % len(lines)]}（{n}）"
            messages.append(
                Message(
                    conversation=conversation,
                    sender=(resident, helper)[n % 2],
                    body=last_body,
                    published_at=now,
                )
            )
        Message.objects.bulk_create(messages)
    # The planner's statistics, as a live database has them: without them it took the 2,000 rows
    # for one and chose plans twice as slow for the home page.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    client = Client()
    client.force_login(resident)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    out.write_text(
        json.dumps(
            {
                "cookie": cookie,
                "display_name": resident.profile.display_name,
                "conversation": conversation.pk,
                "last_message": last_body,
                "open_requests": AidPost.objects.filter(community=community, status=AidPost.Status.OPEN).count(),
                "messages": conversation.messages.count(),
                "static_root": str(settings.STATIC_ROOT),
                "session_engine": settings.SESSION_ENGINE,
                "settings": os.environ["DJANGO_SETTINGS_MODULE"],
            },
            ensure_ascii=False,
        )
    )


def logging_to(queries: list[str]):
    """A database execute wrapper that notes each statement in `queries`."""

    def wrapper(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    return wrapper


def postgres_cpu_ms(client, path: str) -> float:
    """The CPU a PostgreSQL backend spends on one request of `path`, over PG_RUNS requests on one
    connection (kept open for them: the cost of opening one is not in it). Read from /proc: the
    database runs on this machine."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections, connection

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]
        before = process_cpu_seconds(backend)
        for _run in range(PG_RUNS):
            client.get(path)
        return 1000 * (process_cpu_seconds(backend) - before) / PG_RUNS
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
        connection.close()


def inspect(paths: list[str], out: Path) -> None:
    """Each page in this process, one request at a time as the resident: its queries, and the
    median wall and CPU time over INSPECT_RUNS; and what opening a PostgreSQL connection costs
    (with CONN_MAX_AGE 0 every request opens one). Runs after collectstatic: the production
    storage needs its manifest to render a page."""
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    from neighbors.models import User

    client = Client(HTTP_HOST="127.0.0.1", HTTP_ACCEPT_LANGUAGE="zh-hans")  # not "testserver": no test run
    client.force_login(User.objects.get(email=DEMO_RESIDENT))
    figures = {}
    for path in paths:
        client.get(path)
        queries: list[str] = []
        with connection.execute_wrapper(logging_to(queries)):
            response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code} in process")
        walls, cpus = [], []
        for _run in range(INSPECT_RUNS):
            connection.close()  # as every request under ASGI starts
            wall, cpu = time.perf_counter(), time.process_time()
            client.get(path)
            walls.append(1000 * (time.perf_counter() - wall))
            cpus.append(1000 * (time.process_time() - cpu))
        figures[path] = {
            "queries": len(queries),
            "wall_ms": statistics.median(walls),
            "cpu_ms": statistics.median(cpus),
            "postgres_cpu_ms": postgres_cpu_ms(client, path),
            "bytes": len(response.content),
        }
    connects = []
    for _run in range(INSPECT_RUNS):
        connection.close()
        started = time.perf_counter()
        connection.ensure_connection()
        connects.append(1000 * (time.perf_counter() - started))
    connection.close()
    out.write_text(json.dumps({"pages": figures, "connect_ms": statistics.median(connects)}))


# --- Database, Redis, processes: the parent's side -------------------------------------------


def admin_sql(statement: str) -> None:
    import psycopg

    with psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True, connect_timeout=10) as connection:
        connection.execute(statement)


@contextmanager
def bench_database(keep: bool):
    admin_sql(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")
    admin_sql(f"CREATE DATABASE {BENCH_DATABASE}")
    try:
        yield f"{POSTGRES_SERVER}/{BENCH_DATABASE}"
    finally:
        if keep:
            print(f"kept the database {BENCH_DATABASE}", flush=True)
        else:
            admin_sql(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")


def redis_db_clear() -> int:
    """Deletes every key of this bench's own Redis database (db 7): the cache and the sessions of
    an earlier run would answer for rows that no longer exist."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_timeout=10)
    try:
        deleted = 0
        batch = []
        for key in client.scan_iter(count=1000):
            batch.append(key)
            if len(batch) == 1000:
                deleted += client.delete(*batch)
                batch = []
        if batch:
            deleted += client.delete(*batch)
        return deleted
    finally:
        client.close()


def production_env(database_url: str, workdir: Path) -> dict[str, str]:
    """The production profile's environment (deploy/env.example), on loopback, plain HTTP."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "CHANNEL_", "RATE_LIMIT", "STATIC_", "MEDIA_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(48),  # 64 characters
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=database_url,
        REDIS_URL=REDIS_URL,
        DJANGO_SECURE_SSL_REDIRECT="false",
        SERVE_MEDIA="true",
        STATIC_ROOT=str(workdir / "static"),
        # load_demo stores a certificate picture: not into the working tree.
        MEDIA_ROOT=str(workdir / "media"),
        PRIVATE_MEDIA_ROOT=str(workdir / "private-media"),
        LOG_LEVEL="WARNING",
    )
    return env


def run_step(command: list[str], env: dict[str, str], what: str) -> None:
    completed = subprocess.run(  # noqa: S603 (our own interpreter and arguments)
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT
    )
    if completed.returncode:
        raise SystemExit(f"{what} failed:\n{completed.stdout[-2000:]}{completed.stderr[-4000:]}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    kind: ServerKind
    port: int
    process: subprocess.Popen
    log: Path


def server_command(kind: ServerKind, port: int) -> list[str]:
    venv_bin = Path(sys.executable).parent
    if kind.name == "daphne":
        # -v 0: no access log (daphne writes one to stdout by default), warnings and above.
        return [str(venv_bin / "daphne"), "-b", "127.0.0.1", "-p", str(port), "-v", "0", APP]
    # The production profile's command (deploy/), with the bench's application.
    return [
        str(venv_bin / "uvicorn"),
        APP,
        "--app-dir",
        str(BENCH),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(kind.workers),
        "--lifespan",
        "off",
        "--no-proxy-headers",
        "--log-level",
        "warning",
    ]


def start_server(kind: ServerKind, env: dict[str, str], workdir: Path) -> Server:
    port = free_port()
    log = workdir / f"{kind.name}-{kind.workers}-{port}.log"
    env = {**env, "PYTHONPATH": os.pathsep.join(filter(None, [str(BENCH), str(ROOT), env.get("PYTHONPATH")]))}
    with log.open("w") as output:
        # A session of its own: uvicorn's workers are its children, stopped with it as one group.
        process = subprocess.Popen(  # noqa: S603 (our own binaries and arguments)
            server_command(kind, port),
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(kind, port, process, log)
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{kind.title} stopped while starting:\n{log.read_text()[-4000:]}")
        with suppress(OSError, http.client.HTTPException):
            status, _body = fetch(port, TRIVIAL_PATH, "")
            if status == 200:
                if kind.workers > 1:
                    wait_for_workers(server)
                return server
        time.sleep(0.3)
    stop_server(server)
    raise SystemExit(f"{kind.title} did not answer {TRIVIAL_PATH} within {SERVER_START_TIMEOUT} s:\n{log.read_text()}")


def wait_for_workers(server: Server) -> None:
    """uvicorn's supervisor starts its workers one by one; the first may answer before the
    second has loaded Django. Wait until each has been up a few seconds and is idle."""
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        workers = [pid for pid in group_pids(server.process.pid) if pid != server.process.pid]
        if len(workers) >= server.kind.workers:
            before = sum(process_cpu_seconds(pid) for pid in workers)
            time.sleep(1.0)
            if sum(process_cpu_seconds(pid) for pid in workers) - before < 0.1:
                return
        else:
            time.sleep(0.3)
    raise SystemExit(f"{server.kind.title}: its workers did not settle within {SERVER_START_TIMEOUT} s")


def stop_server(server: Server) -> None:
    if server.process.poll() is not None:
        return
    with suppress(ProcessLookupError):
        os.killpg(server.process.pid, signal.SIGTERM)
    try:
        server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=20)


def fetch(port: int, path: str, cookie: str) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers={"Cookie": cookie, "Accept-Language": "zh-hans"})
        response = connection.getresponse()
        return response.status, response.read().decode(errors="replace")
    finally:
        connection.close()


# --- CPU, read from /proc (Linux) ------------------------------------------------------------


def process_cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def group_pids(pgid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with suppress(OSError, IndexError):
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:
                pids.append(int(entry.name))
    return pids


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot."""
    values = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


# --- The load: wrk ---------------------------------------------------------------------------

# Each wrk thread has its own Lua state: `response` counts there, `done` (in the main state)
# adds the threads' counts up through the thread objects `setup` kept.
WRK_SCRIPT = textwrap.dedent(
    """\
    local threads = {}

    function setup(thread)
      table.insert(threads, thread)
    end

    function init(args)
      not_2xx = 0
      first_not_2xx = 0
    end

    function response(status, headers, body)
      if status < 200 or status > 299 then
        not_2xx = not_2xx + 1
        if first_not_2xx == 0 then first_not_2xx = status end
      end
    end

    function done(summary, latency, requests)
      local bad, first = 0, 0
      for _, thread in ipairs(threads) do
        bad = bad + thread:get("not_2xx")
        if first == 0 then first = thread:get("first_not_2xx") end
      end
      local e = summary.errors
      io.write(string.format(
        "BENCH requests=%d duration_us=%d p50_us=%d p95_us=%d not_2xx=%d first_not_2xx=%d " ..
        "connect=%d read=%d write=%d timeout=%d\\n",
        summary.requests, summary.duration, latency:percentile(50), latency:percentile(95), bad, first,
        e.connect, e.read, e.write, e.timeout))
    end
    """
)


def wrk(port: int, path: str, cookie: str, seconds: float, script: Path, mode: str) -> dict[str, int]:
    command = [
        "wrk",
        f"-t{THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{seconds:g}s",
        "--timeout",
        WRK_TIMEOUT,
        "-s",
        str(script),
        "-H",
        "Accept-Language: zh-hans",
        *(["-H", f"Cookie: {cookie}"] if cookie else []),
        # wrk opens a new connection after each answer that closes one.
        *(["-H", "Connection: close"] if mode == CLOSE else []),
        f"http://127.0.0.1:{port}{path}",
    ]
    completed = subprocess.run(  # noqa: S603 (wrk with our own arguments)
        command, capture_output=True, text=True, timeout=seconds + 60
    )
    line = next((line for line in completed.stdout.splitlines() if line.startswith("BENCH ")), None)
    if completed.returncode or line is None:
        raise SystemExit(f"wrk failed on {path}:\n{completed.stdout}{completed.stderr}")
    figures = {key: int(value) for key, value in (item.split("=") for item in line.split()[1:])}
    errors = {key: figures[key] for key in ("connect", "read", "write", "timeout") if figures[key]}
    if figures["not_2xx"] or errors:
        raise SystemExit(
            f"{path}: {figures['not_2xx']} of {figures['requests']} answers were not 2xx "
            f"(the first: {figures['first_not_2xx'] or '-'}), socket errors {errors or 'none'}"
        )
    if not figures["requests"]:
        raise SystemExit(f"{path}: no answer at all in {seconds:g} s")
    return figures


def check_page(server: Server, page: Page, cookie: str) -> None:
    status, body = fetch(server.port, page.path, cookie)
    if status != 200 or page.marker not in body:
        raise SystemExit(
            f"{server.kind.title}: {page.path} answered {status} without {page.marker!r} "
            f"(is the session cookie accepted?):\n{body[:1500]}"
        )


def measure(server: Server, page: Page, mode: str, cookie: str, seconds: float, warmup: float, script: Path) -> Result:
    check_page(server, page, cookie)
    wrk(server.port, page.path, cookie, warmup, script, mode)
    pids = server_pids(server)
    server_before = [process_cpu_seconds(pid) for pid in pids]
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy_before, total_before = machine_ticks()
    # Which worker holds wrk's connections, looked at halfway: a worker's event loop accepts every
    # connection waiting when it wakes, so one worker may take all of them.
    connections: list[int] = []
    census = threading.Timer(seconds / 2, lambda: connections.extend(connections_per_process(server.port, pids)))
    if mode == KEEP_ALIVE:  # a new connection per request lasts one request: nothing to count
        census.start()
    started = time.perf_counter()
    try:
        figures = wrk(server.port, page.path, cookie, seconds, script, mode)
    finally:
        census.cancel()
    wall = time.perf_counter() - started
    if mode == KEEP_ALIVE:
        census.join()
    busy_after, total_after = machine_ticks()
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_after = [process_cpu_seconds(pid) for pid in pids]
    wrk_cpu = (children_after.ru_utime + children_after.ru_stime) - (
        children_before.ru_utime + children_before.ru_stime
    )
    return Result(
        server=server.kind,
        mode=mode,
        page=page,
        rps=figures["requests"] / (figures["duration_us"] / 1e6),
        p50_ms=figures["p50_us"] / 1000,
        p95_ms=figures["p95_us"] / 1000,
        wrk_cpu=wrk_cpu / wall,
        worker_cpu=[(after - before) / wall for before, after in zip(server_before, server_after, strict=True)],
        machine_busy=(busy_after - busy_before) / max(1, total_after - total_before),
        connections=" + ".join(map(str, connections)) or "–",
    )


def median_result(rounds: list[Result]) -> Result:
    """One case's rounds as one: the median of each figure (the mean of two); the connections as
    they were held in each round."""
    first = rounds[0]
    return Result(
        server=first.server,
        mode=first.mode,
        page=first.page,
        rps=statistics.median(r.rps for r in rounds),
        p50_ms=statistics.median(r.p50_ms for r in rounds),
        p95_ms=statistics.median(r.p95_ms for r in rounds),
        wrk_cpu=statistics.median(r.wrk_cpu for r in rounds),
        worker_cpu=[statistics.median(shares) for shares in zip(*(r.worker_cpu for r in rounds), strict=True)],
        machine_busy=statistics.median(r.machine_busy for r in rounds),
        connections=" / ".join(r.connections for r in rounds) if first.mode == KEEP_ALIVE else "–",
    )


def server_pids(server: Server) -> list[int]:
    """The processes that serve requests: uvicorn's workers when it has several (their supervisor
    only watches them), else the server's own process."""
    if server.kind.workers == 1:
        return [server.process.pid]
    # Not multiprocessing's resource tracker, which the supervisor starts beside them.
    return sorted(pid for pid in group_pids(server.process.pid) if "spawn_main" in process_cmdline(pid))


def connections_per_process(port: int, pids: list[int]) -> list[int]:
    """Established connections to `port` (IPv4 loopback) held by each of `pids`."""
    established = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == "01":
            established.add(fields[9])  # the socket's inode
    counts = []
    for pid in pids:
        held = 0
        with suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with suppress(OSError):
                    target = os.readlink(fd)
                    if target.startswith("socket:[") and target[8:-1] in established:
                        held += 1
        counts.append(held)
    return counts


def log_problems(server: Server) -> list[str]:
    """The server logs at WARNING and above: anything it wrote is worth a look."""
    text = server.log.read_text(errors="replace").strip()
    if not text:
        return []
    kept = ROOT / "test-artifacts" / f"bench-http-{server.kind.name}-{server.kind.workers}.log"
    kept.parent.mkdir(exist_ok=True)
    shutil.copyfile(server.log, kept)
    return [f"{server.kind.title} logged {len(text.splitlines())} lines (kept in {kept.relative_to(ROOT)}):"] + [
        f"    {line[:200]}" for line in text.splitlines()[-5:]
    ]


# --- Figures ---------------------------------------------------------------------------------


def print_row(result: Result, trivial: Result) -> None:
    share = f"{result.rps / trivial.rps:.0%}"
    print(
        f"| {result.server.title} | {MODES[result.mode]} | {result.page.title} | {result.rps:,.0f} | {result.p50_ms:.1f} | {result.p95_ms:.1f} "
        f"| {share} | {result.server_ms_per_request:.1f} | {result.wrk_cpu:.0%} "
        f"| {' + '.join(f'{cpu:.0%}' for cpu in result.worker_cpu)} "
        f"| {result.connections} "
        f"| {result.rest_cpu:.0%} | {result.machine_busy:.0%} |",
        flush=True,
    )


def print_ratios(results: list[Result], pages: list[Page]) -> None:
    by = {(r.server, r.mode, r.page.key): r for r in results}
    modes = [mode for mode in MODES if any(r.mode == mode for r in results)]
    uvicorn = sorted({r.server.workers for r in results if r.server.name == "uvicorn"})
    comparisons = [
        (f"uvicorn {count} workers ÷ 1 worker", ServerKind("uvicorn", count), ServerKind("uvicorn", 1))
        for count in uvicorn
        if count > 1
    ]
    comparisons.append(("daphne ÷ uvicorn, one process each", ServerKind("daphne", 1), ServerKind("uvicorn", 1)))
    for title, top, bottom in comparisons:
        rows = [
            (mode, page, by[top, mode, page.key], by[bottom, mode, page.key])
            for mode in modes
            for page in pages
            if (top, mode, page.key) in by and (bottom, mode, page.key) in by
        ]
        if not rows:
            continue
        print(f"\n| connections | page | {title}: req/s | p50 | p95 |\n|---|---|---|---|---|")
        for mode, page, a, b in rows:
            print(
                f"| {MODES[mode]} | {page.title} | {a.rps / b.rps:.2f} ({a.rps:,.0f} ÷ {b.rps:,.0f}) "
                f"| {a.p50_ms / b.p50_ms:.2f} | {a.p95_ms / b.p95_ms:.2f} |"
            )


def print_inspection(env: dict[str, str], workdir: Path, pages: list[Page]) -> None:
    """One request at a time, in a process of the production profile (no server, no load)."""
    out = workdir / "inspection.json"
    run_step(
        [sys.executable, str(Path(__file__)), "--inspect", str(out), *(page.path for page in pages)],
        env,
        "inspecting the pages",
    )
    inspection = json.loads(out.read_text())
    print(
        f"\nOne request at a time, in process (median of {INSPECT_RUNS}; each opens its PostgreSQL connection, "
        f"{inspection['connect_ms']:.1f} ms alone; PostgreSQL's CPU: its backend's over {PG_RUNS} requests "
        "on one connection):\n\n"
        "| page | queries | wall ms | CPU ms | PostgreSQL CPU ms | HTML KB |\n|---|---|---|---|---|---|"
    )
    for page in pages:
        figures = inspection["pages"][page.path]
        print(
            f"| {page.title} | {figures['queries']} | {figures['wall_ms']:.1f} | {figures['cpu_ms']:.1f} "
            f"| {figures['postgres_cpu_ms']:.1f} "
            f"| {figures['bytes'] / 1024:.0f} |",
            flush=True,
        )


# --- The whole run ---------------------------------------------------------------------------


def server_kinds(spec: str, uvicorn_workers: str) -> list[ServerKind]:
    try:
        counts = sorted({int(part) for part in uvicorn_workers.split(",") if part.strip()})
    except ValueError:
        raise SystemExit(f"--uvicorn-workers: {uvicorn_workers!r} is not a list of numbers, e.g. 1,2") from None
    if not counts or counts[0] < 1 or counts[-1] > 16:
        raise SystemExit("--uvicorn-workers: give worker counts from 1 to 16, e.g. 1,2")
    kinds = []
    for name in (part.strip() for part in spec.split(",") if part.strip()):
        if name == "uvicorn":
            kinds += [ServerKind("uvicorn", count) for count in counts]
        elif name == "daphne":
            kinds.append(ServerKind("daphne", 1))
        else:
            raise SystemExit(f"--servers: unknown server {name!r}; choose from uvicorn, daphne")
    if not kinds:
        raise SystemExit("--servers: name at least one of uvicorn, daphne")
    return kinds


def prepare(env: dict[str, str], workdir: Path) -> dict:
    python = sys.executable
    started = time.perf_counter()
    run_step([python, "manage.py", "migrate", "--no-input", "-v", "0"], env, "migrate")
    run_step([python, "manage.py", "load_demo"], env, "load_demo")
    population_file = workdir / "population.json"
    run_step([python, str(Path(__file__)), "--populate", str(population_file)], env, "generating rows")
    population = json.loads(population_file.read_text())
    if Path(population["static_root"]) != Path(env["STATIC_ROOT"]):
        raise SystemExit(
            f"{population['settings']} does not read STATIC_ROOT from the environment "
            f"(it is {population['static_root']}): collectstatic would write into the working tree"
        )
    run_step([python, "manage.py", "collectstatic", "--no-input", "-v", "0"], env, "collectstatic")
    print(
        f"database ready in {time.perf_counter() - started:.0f} s: {population['open_requests']:,} open requests "
        f"in {DEMO_COMMUNITY}, {population['messages']} messages in the conversation; "
        f"settings {population['settings']}, sessions {population['session_engine']}",
        flush=True,
    )
    return population


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, help=f"measured seconds per page (default {SECONDS:g}, --quick 3)")
    parser.add_argument(
        "--servers", default="uvicorn,daphne", help="comma-separated: uvicorn (1 and 2 workers), daphne"
    )
    parser.add_argument(
        "--uvicorn-workers", default="1,2", help="comma-separated worker counts to run uvicorn with (default 1,2)"
    )
    parser.add_argument(
        "--connections",
        default=f"{KEEP_ALIVE},{CLOSE}",
        help=f"comma-separated: {KEEP_ALIVE} (wrk's 8 connections for the whole run), {CLOSE} (a new one per request)",
    )
    parser.add_argument("--rounds", type=int, default=1, help="measure every case this many times; print medians")
    parser.add_argument("--keep", action="store_true", help=f"keep the database {BENCH_DATABASE} afterwards")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 3 s a page after 1 s of warm-up")
    parser.add_argument("--populate", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--inspect", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("paths", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.populate:
        populate(args.populate)
        return
    if args.inspect:
        inspect(args.paths, args.inspect)
        return
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk (Debian/Ubuntu), or see github.com/wg/wrk")
    kinds = server_kinds(args.servers, args.uvicorn_workers)
    modes = [mode.strip() for mode in args.connections.split(",") if mode.strip()]
    if not modes or any(mode not in MODES for mode in modes):
        raise SystemExit(f"--connections: choose from {', '.join(MODES)}")
    seconds = args.seconds or (3.0 if args.quick else SECONDS)
    rounds = args.rounds
    if rounds < 1:
        raise SystemExit("--rounds must be at least 1")
    warmup = 1.0 if args.quick else WARMUP_SECONDS
    if seconds <= 0:
        raise SystemExit("--seconds must be positive")
    # A plain `kill` is a Ctrl-C too: the servers and the database go with the bench.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    print(
        f"bench/http_pages.py: {os.cpu_count()} cores, load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}; "
        f"wrk -t{THREADS} -c{CONNECTIONS} ({', '.join(MODES[mode] for mode in modes)}), {rounds} round(s), {seconds:g} s a page after {warmup:g} s of warm-up",
        flush=True,
    )
    workdir = Path(tempfile.mkdtemp(prefix="bench-http-"))
    script = workdir / "figures.lua"
    script.write_text(WRK_SCRIPT)
    servers: list[Server] = []
    try:
        with bench_database(args.keep) as database_url:
            redis_db_clear()
            env = production_env(database_url, workdir)
            population = prepare(env, workdir)
            cookie = population["cookie"]
            pages = [
                Page("trivial", "trivial view", TRIVIAL_PATH, "ok"),
                Page("home", "home page", "/", population["display_name"]),
                Page("nearby", "nearby list (1 km)", "/posts/nearby/", 'class="card post nearby-row"'),
                Page(
                    "conversation",
                    f"conversation ({population['messages']} messages)",
                    f"/messages/{population['conversation']}/",
                    population["last_message"],
                ),
            ]
            print_inspection(env, workdir, pages[1:])
            notes = []
            # All servers at once, idle but for the one under load: each round measures every
            # server on a page in turn, so that whatever else the machine is doing falls on all.
            for kind in kinds:
                servers.append(start_server(kind, env, workdir))
            measured: dict[tuple[ServerKind, str, str], list[Result]] = {}
            for round_number in range(1, rounds + 1):
                for mode in modes:
                    for page in pages:
                        for server in servers:
                            result = measure(server, page, mode, cookie, seconds, warmup, script)
                            measured.setdefault((server.kind, mode, page.key), []).append(result)
                            print(
                                f"round {round_number}, {server.kind.title}, {MODES[mode]}, {page.title}: "
                                f"{result.rps:,.0f} req/s, p50 {result.p50_ms:.1f} ms, p95 {result.p95_ms:.1f} ms, "
                                f"machine busy {result.machine_busy:.0%}",
                                flush=True,
                            )
            for server in servers:
                stop_server(server)
                notes += log_problems(server)
            servers = []
            results = [median_result(rounds_of_case) for rounds_of_case in measured.values()]
            print(
                f"\nMedians of {rounds} round{'s' if rounds > 1 else ''}:\n\n"
                "| server | connections | page | req/s | p50 ms | p95 ms | of the trivial view | server CPU ms a request "
                "| CPU wrk | CPU server | held by each | CPU rest | machine busy |\n"
                "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
                flush=True,
            )
            by = {(r.server, r.mode, r.page.key): r for r in results}
            for kind in kinds:
                for mode in modes:
                    for page in pages:
                        print_row(by[kind, mode, page.key], by[kind, mode, "trivial"])
            print_ratios(results, pages)
            for line in notes:
                print(line)
            print(
                f"\nCPU wrk / server / rest: shares of one core (rest: PostgreSQL, Redis and anything else "
                f"running); machine busy: share of all {os.cpu_count()} cores."
            )
            print(f"load average at the end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    finally:
        for server in servers:
            stop_server(server)
        with suppress(Exception):
            redis_db_clear()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
