"""Chat delivery under load: the site's chat socket against a bare echo, on each channel layer.

Run: .venv/bin/python bench/chat.py [--quick] [--layers memory,core,pubsub] [--rate 100] [--seconds 20]
     .venv/bin/python bench/chat.py --production --layers core   (the production profile, issue 8)

For each channel layer it builds a throwaway site (the in-memory layer: a SQLite file under a
temporary directory and one uvicorn worker; Redis, core or pub/sub layer: a PostgreSQL database
created for the run and dropped after it, and two uvicorn workers sharing Redis), with 1,000
people, 100 request conversations of 10 and one conversation of 100, and a session per person.
This process is the client (asyncio and `websockets`): it opens a socket per person in their
conversation, the sockets of each room split half and half over the workers, so that every
message must cross from one worker to the other through the layer. Then, for a fixed time,
it sends 100 messages a second in all, each from a random member of a random room, and
counts what every socket receives:

- delivery latency: from just before the frame is sent to the moment a socket reads the
  "message" frame (one clock: one process). Every socket in the room counts, the sender's
  own included (the broadcast reaches its socket too), so delivered should be sent × members;
- ack latency: from the send to the sender's "message.ack", which the server writes after the
  access check, the save, the commit and the broadcast: the server's send time including the
  save, plus one round trip on loopback;
- lost: expected minus delivered once nothing more arrives (at most DRAIN_MAX_SECONDS after
  the last send); duplicates are counted apart.

Then the room of 100 at 10 messages a second. Each load runs first through `ws/echo/<room>/`
(bench/chat_asgi.py: the layer and the server alone), then through the site, on the same worker
processes and each after the workers have gone quiet, for the ratio site / echo. The rate
limits are raised through MESSAGE_RATE_LIMITS (same three windows, each far above the bench's
pace) so that no bench message is refused for the rate. CPU is reported for this client, for
the workers, and for the whole machine, to show which one was the bottleneck. `--settings` and
`--app` run the workers with another settings module or application, to measure a change.

Redis runs use database 5 of redis://127.0.0.1:6379; the layer's and the rate limiter's keys
there are deleted before and after. Everything this starts is stopped, and the databases
dropped, on failure and Ctrl-C too.
"""

import argparse
import asyncio
import itertools
import json
import os
import random
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

POSTGRES_SERVER = "postgres://postgres@127.0.0.1:5432"
BENCH_DATABASE = "jinlin_bench_chat"
REDIS_URL = "redis://127.0.0.1:6379/5"
# It must route ws/echo/<room>/ as bench/chat_asgi.py does.
DEFAULT_APP = "bench.chat_asgi:application"
DEFAULT_SETTINGS = "config.settings.base"
# The keys the site puts in Redis: the channel layer's, the rate limiter's and the cache's, all under
# REDIS_KEY_PREFIX (config/settings/base.py), and channels_redis's default prefix of older settings.
REDIS_KEY_PATTERNS = ("jinlin*", "asgi*")
PRODUCTION_SETTINGS = "config.settings.production"
# The site's three windows (config/settings/base.py), each far above what one bench person sends.
GENEROUS_RATE_LIMITS = "1000 per 10 seconds; 5000 per minute; 50000 per hour"

USERS = 1000
ROOM_SIZE = 10
BIG_ROOM_SIZE = 100
RATE = 100.0
BIG_ROOM_RATE = 10.0

SERVER_START_TIMEOUT = 60
SUBPROCESS_TIMEOUT = 900
CONNECT_TIMEOUT = 30
CONNECT_CONCURRENCY = 25
SEND_TIMEOUT = 10
CLOSE_TIMEOUT = 30
# After the last send: wait for stragglers while something still arrives, at most this long.
DRAIN_QUIET_SECONDS = 5
DRAIN_MAX_SECONDS = 30
# Before each case: the workers idle (below this share of a core over a second), at most this long.
SETTLE_CPU = 0.1
SETTLE_MAX_SECONDS = 120


@dataclass(frozen=True)
class Layer:
    key: str
    title: str
    workers: int
    channel_layer: str  # CHANNEL_LAYER for the Redis runs; "" for the in-memory layer
    database: str


LAYERS = {
    "memory": Layer("memory", "in-memory", 1, "", "sqlite"),
    "core": Layer("core", "Redis core", 2, "core", "postgres"),
    "pubsub": Layer("pubsub", "Redis pub/sub", 2, "pubsub", "postgres"),
}


@dataclass(frozen=True)
class Load:
    title: str
    big_room: bool
    rate: float


@dataclass
class Tally:
    """What one measured stretch sent and received; frames of other stretches are ignored."""

    sent_at: dict[str, float] = field(default_factory=dict)
    expected: int = 0
    delivered: set[tuple[int, str]] = field(default_factory=set)
    latencies: list[float] = field(default_factory=list)
    duplicates: int = 0
    acks: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    send_failures: int = 0
    late: list[float] = field(default_factory=list)
    last_arrival: float = 0.0

    def record(self, socket_index: int, text: str, now: float) -> None:
        frame = json.loads(text)
        kind = frame.get("type")
        if kind == "message.ack":
            sent_at = self.sent_at.get(frame.get("client_id"))
            if sent_at is not None:
                self.acks.append(now - sent_at)
                self.last_arrival = now
            return
        if kind == "error":
            self.errors[frame.get("code", "?")] += 1
            return
        if kind == "message":  # the site's broadcast
            body = frame["message"]["body"]
        elif kind == "message.send":  # the echo gives back the frame as it was sent
            body = frame["body"]
        else:
            return
        content = json.loads(body)
        if content["k"] not in self.sent_at:
            return
        if (socket_index, content["k"]) in self.delivered:
            self.duplicates += 1
            return
        self.delivered.add((socket_index, content["k"]))
        self.latencies.append(now - content["t"])
        self.last_arrival = now


@dataclass
class Connection:
    index: int
    ws: object
    reader: asyncio.Task | None = None


@dataclass
class Case:
    """One load through one consumer: the sockets' readers write into whichever tally is current."""

    consumer: str  # "site" or "echo"
    load: Load
    tally: Tally = field(default_factory=Tally)
    closing: bool = False
    refused: Counter = field(default_factory=Counter)
    closed: Counter = field(default_factory=Counter)


@dataclass
class Result:
    layer: Layer
    consumer: str
    load: Load
    sockets: int
    sent: int
    seconds: float
    expected: int
    delivered: int
    duplicates: int
    latency_p50: float
    latency_p99: float
    ack_p50: float | None
    ack_p99: float | None
    # From the last send to the last frame that arrived: near zero unless the server fell behind.
    tail_seconds: float
    client_cpu: float
    server_cpu: list[float]
    machine_busy: float
    notes: list[str]


# --- Setup: runs in a subprocess with the servers' environment ------------------------------


def populate(out: Path, users: int) -> None:
    """People (profile, approved membership), rooms of ROOM_SIZE and one of BIG_ROOM_SIZE, and a
    logged-in session each, written to `out` as JSON for the client."""
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from decimal import Decimal
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from messaging.models import Conversation
    from messaging.services import conversation_open
    from neighbors.models import Community, Membership, Place, Profile, Street, User

    backend = "django.contrib.auth.backends.ModelBackend"
    assert backend in settings.AUTHENTICATION_BACKENDS
    with transaction.atomic():
        community = Community.objects.create(street=Street.objects.create(name="bench street"), name="bench")
        building = Place.objects.create(
            community=community, name="1", latitude=Decimal("24.478100"), longitude=Decimal("118.145300")
        )
        people = User.objects.bulk_create(
            User(username=f"bench{n:04d}", email=f"bench{n:04d}@example.test", password=make_password(None))
            for n in range(users)
        )
        Profile.objects.bulk_create(Profile(user=user, display_name=f"邻居{n}") for n, user in enumerate(people))
        Membership.objects.bulk_create(
            Membership(user=user, community=community, home_place=building, status=Membership.Status.APPROVED)
            for user in people
        )

    # What django.contrib.auth.login() stores, without a request to log in through.
    session_store = import_module(settings.SESSION_ENGINE).SessionStore
    cookies = {}
    with transaction.atomic():
        for user in people:
            session = session_store()
            session[SESSION_KEY] = str(user.pk)
            session[BACKEND_SESSION_KEY] = backend
            session[HASH_SESSION_KEY] = user.get_session_auth_hash()
            session.create()
            cookies[user.pk] = f"{settings.SESSION_COOKIE_NAME}={session.session_key}"

    def room(subject: str, members: list) -> dict:
        conversation = conversation_open(
            kind=Conversation.Kind.CLAIM, subject=subject, title=subject, participants=members, community=community
        )
        return {"id": conversation.pk, "cookies": [cookies[user.pk] for user in members]}

    rooms = [room(f"bench:{n}", people[n * ROOM_SIZE : (n + 1) * ROOM_SIZE]) for n in range(users // ROOM_SIZE)]
    big_room = room("bench:big", people[:BIG_ROOM_SIZE])
    out.write_text(json.dumps({"rooms": rooms, "big_room": big_room}))


# --- Databases, Redis, servers: the parent's side --------------------------------------------


@contextmanager
def bench_database(layer: Layer, workdir: Path):
    """A fresh, empty database URL for one layer's run; a PostgreSQL one is dropped afterwards."""
    if layer.database == "sqlite":
        yield f"sqlite:///{workdir / f'chat-{layer.key}.sqlite3'}"
        return
    import psycopg

    def admin(statement: str) -> None:
        with psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True, connect_timeout=10) as connection:
            connection.execute(statement)

    admin(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")
    admin(f"CREATE DATABASE {BENCH_DATABASE}")
    try:
        yield f"{POSTGRES_SERVER}/{BENCH_DATABASE}"
    finally:
        admin(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")


def redis_keys_delete() -> int:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_timeout=10)
    try:
        deleted = 0
        for pattern in REDIS_KEY_PATTERNS:
            keys = list(client.scan_iter(match=pattern, count=1000))
            if keys:
                deleted += client.delete(*keys)
        return deleted
    finally:
        client.close()


def server_env(settings: str, layer: Layer, database_url: str, workdir: Path) -> dict[str, str]:
    replaced = {"DATABASE_URL", "REDIS_URL", "CHANNEL_LAYER", "RATE_LIMIT_STORAGE_URL", "DJANGO_SETTINGS_MODULE"}
    env = {key: value for key, value in os.environ.items() if key not in replaced}
    if settings == PRODUCTION_SETTINGS:
        # What deploy/env.example asks for; plain HTTP on 127.0.0.1 as deploy/run-prod.sh serves.
        static_root = workdir / "static"
        static_root.mkdir(exist_ok=True)
        env.update(
            DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
            DJANGO_SECURE_SSL_REDIRECT="false",
            STATIC_ROOT=str(static_root),
        )
    env.update(
        DJANGO_SETTINGS_MODULE=settings,
        DATABASE_URL=database_url,
        DJANGO_DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1",
        MESSAGE_RATE_LIMITS=GENEROUS_RATE_LIMITS,
        LOG_LEVEL="WARNING",
        # Empty for the in-memory layer: a REDIS_URL in .env must not switch it to Redis.
        REDIS_URL=REDIS_URL if layer.channel_layer else "",
        CHANNEL_LAYER=layer.channel_layer or "core",
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
    port: int
    process: subprocess.Popen
    log: Path


def start_server(app: str, env: dict[str, str], workdir: Path) -> Server:
    port = free_port()
    log = workdir / f"server-{port}.log"
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--lifespan",
        "off",
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    with log.open("w") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)  # noqa: S603
    server = Server(port, process, log)
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server on port {port} stopped while starting:\n{log.read_text()[-4000:]}")
        with suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return server
        time.sleep(0.2)
    raise SystemExit(f"the server on port {port} did not listen within {SERVER_START_TIMEOUT} s")


def stop_server(server: Server) -> None:
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=15)


def server_log_problems(server: Server, layer: Layer) -> list[str]:
    """The workers log at WARNING and above: the log kept under test-artifacts/ for reading, and
    its most frequent unindented lines (a traceback's last one names the exception) counted."""
    text = server.log.read_text(errors="replace")
    if not text.strip():
        return []
    kept = ROOT / "test-artifacts" / f"bench-chat-{layer.key}-{server.port}.log"
    kept.parent.mkdir(exist_ok=True)
    shutil.copyfile(server.log, kept)
    endings = Counter(
        line[:160]
        for line in text.splitlines()
        if line and not line[0].isspace() and not line.startswith(("Traceback", "ERROR:", "WARNING:", "During"))
    )
    summary = [f"{count} × {line}" for line, count in endings.most_common(5)]
    return [f"the worker's log ({kept.relative_to(ROOT)}), most frequent lines:", *summary]


# --- CPU, read from /proc (Linux) ------------------------------------------------------------


def process_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of all cores since boot."""
    values = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


@dataclass
class CpuSnapshot:
    wall: float
    client: float
    servers: list[float]
    machine: tuple[int, int]

    @classmethod
    def take(cls, servers: list[Server]) -> "CpuSnapshot":
        return cls(
            time.perf_counter(),
            time.process_time(),
            [process_cpu_seconds(server.process.pid) for server in servers],
            machine_ticks(),
        )


# --- The client -----------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] if ordered else float("nan")


async def read_frames(case: Case, connection: Connection) -> None:
    from websockets.exceptions import ConnectionClosed

    with suppress(ConnectionClosed):
        async for text in connection.ws:
            case.tally.record(connection.index, text, time.perf_counter())
    if not case.closing:
        case.closed[connection.ws.close_code] += 1


async def open_sockets(case: Case, rooms: list[dict], ports: list[int]) -> list[list[Connection]]:
    """A socket per member, member n of each room on worker n mod workers; refusals counted."""
    from websockets.asyncio.client import connect

    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    index = itertools.count()

    async def open_one(room: dict, member: int, cookie: str) -> Connection | None:
        port = ports[member % len(ports)]
        path = f"/ws/echo/{room['id']}/" if case.consumer == "echo" else f"/ws/conversations/{room['id']}/"
        async with gate:
            try:
                ws = await connect(
                    f"ws://127.0.0.1:{port}{path}",
                    origin=f"http://127.0.0.1:{port}",
                    additional_headers={"Cookie": cookie},
                    open_timeout=CONNECT_TIMEOUT,
                    close_timeout=5,
                    ping_interval=None,
                    proxy=None,
                )
            except Exception as error:  # refused handshakes, timeouts, resets: counted, not fatal
                case.refused[type(error).__name__ + ": " + str(error)[:80]] += 1
                return None
        connection = Connection(next(index), ws)
        connection.reader = asyncio.create_task(read_frames(case, connection))
        return connection

    opened = []
    for room in rooms:
        sockets = await asyncio.gather(*(open_one(room, n, cookie) for n, cookie in enumerate(room["cookies"])))
        opened.append([connection for connection in sockets if connection is not None])
    return opened


async def close_sockets(case: Case, rooms: list[list[Connection]]) -> None:
    case.closing = True
    connections = [connection for room in rooms for connection in room]
    with suppress(TimeoutError):
        await asyncio.wait_for(
            asyncio.gather(*(connection.ws.close() for connection in connections), return_exceptions=True),
            CLOSE_TIMEOUT,
        )
    for connection in connections:
        connection.reader.cancel()
    await asyncio.gather(*(connection.reader for connection in connections), return_exceptions=True)


async def drive(tally: Tally, rooms: list[list[Connection]], rate: float, seconds: float, tag: str) -> float:
    """Send `rate` messages a second for `seconds`, each from a random open member of a random
    room; returns the time the last one went. A send is due at start + n / rate: if the client
    falls behind, lateness is recorded rather than the pace silently dropping."""
    from websockets.exceptions import ConnectionClosed
    from websockets.protocol import State

    rng = random.Random(tag)
    start = time.perf_counter()
    total = int(rate * seconds)
    for n in range(total):
        due = start + n / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            tally.late.append(-delay)
        members = [connection for connection in rng.choice(rooms) if connection.ws.state is State.OPEN]
        if not members:
            tally.send_failures += 1
            continue
        sender = rng.choice(members)
        key = f"{tag}-{n}"
        now = time.perf_counter()
        frame = {"type": "message.send", "client_id": key, "body": json.dumps({"k": key, "t": now})}
        tally.sent_at[key] = now
        tally.expected += len(members)
        try:
            await asyncio.wait_for(sender.ws.send(json.dumps(frame)), SEND_TIMEOUT)
        except (ConnectionClosed, TimeoutError):
            tally.send_failures += 1
            tally.expected -= len(members)
            del tally.sent_at[key]
    return time.perf_counter()


async def drain(tally: Tally, acks_expected: bool) -> None:
    """Wait until everything arrived, or nothing has for DRAIN_QUIET_SECONDS."""
    deadline = time.monotonic() + DRAIN_MAX_SECONDS
    seen, quiet_since = None, time.monotonic()
    while time.monotonic() < deadline:
        progress = (len(tally.delivered), len(tally.acks))
        if progress[0] >= tally.expected and (not acks_expected or progress[1] >= len(tally.sent_at)):
            return
        if progress != seen:
            seen, quiet_since = progress, time.monotonic()
        elif time.monotonic() - quiet_since > DRAIN_QUIET_SECONDS:
            return
        await asyncio.sleep(0.1)


async def measure(
    layer: Layer, consumer: str, load: Load, population: dict, servers: list[Server], seconds: float, warmup: float
) -> Result:
    case = Case(consumer, load)
    rooms = [population["big_room"]] if load.big_room else population["rooms"]
    ports = [server.port for server in servers]
    tag = f"{layer.key}-{consumer}-{'big' if load.big_room else 'rooms'}"
    sockets = await open_sockets(case, rooms, ports)
    try:
        # Warm-up: connections, caches and the layer's receive loops; its frames are not counted.
        await drive(case.tally, sockets, load.rate, warmup, f"{tag}-warmup")
        await drain(case.tally, acks_expected=consumer == "site")
        case.tally = tally = Tally()
        before = CpuSnapshot.take(servers)
        last_send = await drive(tally, sockets, load.rate, seconds, tag)
        after = CpuSnapshot.take(servers)
        await drain(tally, acks_expected=consumer == "site")
    finally:
        await close_sockets(case, sockets)
    wall = after.wall - before.wall
    notes = [f"{count} sockets refused: {reason}" for reason, count in case.refused.items()]
    notes += [f"{count} sockets closed by the server, code {code}" for code, count in case.closed.items()]
    notes += [f"{count} error frames: {code}" for code, count in tally.errors.items()]
    if tally.send_failures:
        notes.append(f"{tally.send_failures} sends not made (socket closed or send timed out)")
    if tally.late and max(tally.late) > 0.05:
        notes.append(f"the client sent up to {max(tally.late) * 1000:.0f} ms late ({len(tally.late)} sends late)")
    if consumer == "site" and len(tally.acks) < len(tally.sent_at):
        notes.append(f"{len(tally.sent_at) - len(tally.acks)} sends never acknowledged")
    busy = (after.machine[0] - before.machine[0]) / max(1, after.machine[1] - before.machine[1])
    return Result(
        layer=layer,
        consumer=consumer,
        load=load,
        sockets=sum(len(room) for room in sockets),
        sent=len(tally.sent_at),
        seconds=wall,
        expected=tally.expected,
        delivered=len(tally.delivered),
        duplicates=tally.duplicates,
        latency_p50=percentile(tally.latencies, 0.50) * 1000,
        latency_p99=percentile(tally.latencies, 0.99) * 1000,
        ack_p50=percentile(tally.acks, 0.50) * 1000 if consumer == "site" else None,
        ack_p99=percentile(tally.acks, 0.99) * 1000 if consumer == "site" else None,
        tail_seconds=max(0.0, tally.last_arrival - last_send),
        client_cpu=(after.client - before.client) / wall,
        server_cpu=[(b - a) / wall for a, b in zip(before.servers, after.servers, strict=True)],
        machine_busy=busy,
        notes=notes,
    )


async def measure_layer(
    layer: Layer, population: dict, servers: list[Server], loads: list[Load], seconds: float, warmup: float
) -> list[Result]:
    results = []
    for load in loads:
        # The echo first: a site run that fell behind leaves the workers busy for a while after
        # its sockets close, and the next case waits for them to go quiet.
        for consumer in ("echo", "site"):
            busy = await workers_settle(servers)
            result = await measure(layer, consumer, load, population, servers, seconds, warmup)
            if busy:
                result.notes.append(f"the workers were still busy {SETTLE_MAX_SECONDS} s after the previous case")
            print_result(result)
            results.append(result)
    return results


async def workers_settle(servers: list[Server]) -> bool:
    """Wait until no worker uses more than SETTLE_CPU of a core; True if they never did."""
    deadline = time.monotonic() + SETTLE_MAX_SECONDS
    while time.monotonic() < deadline:
        before = [process_cpu_seconds(server.process.pid) for server in servers]
        await asyncio.sleep(1)
        after = [process_cpu_seconds(server.process.pid) for server in servers]
        if all(b - a < SETTLE_CPU for a, b in zip(before, after, strict=True)):
            return False
    return True


def client_loop_runner() -> asyncio.Runner:
    try:
        import uvloop
    except ImportError:
        return asyncio.Runner()
    return asyncio.Runner(loop_factory=uvloop.new_event_loop)


# --- One layer, start to finish --------------------------------------------------------------


def run_layer(
    app: str, settings: str, layer: Layer, users: int, loads: list[Load], seconds: float, warmup: float
) -> list[Result]:
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-chat-{layer.key}-"))
    servers: list[Server] = []
    try:
        with bench_database(layer, workdir) as database_url:
            env = server_env(settings, layer, database_url, workdir)
            if layer.channel_layer:
                redis_keys_delete()
            started = time.perf_counter()
            run_step([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], env, "migrate")
            population_file = workdir / "population.json"
            run_step(
                [sys.executable, str(Path(__file__)), "--populate", str(population_file), "--users", str(users)],
                env,
                "populating the database",
            )
            population = json.loads(population_file.read_text())
            print(f"\n{layer.title}: database ready in {time.perf_counter() - started:.0f} s", flush=True)
            servers = [start_server(app, env, workdir) for _worker in range(layer.workers)]
            with client_loop_runner() as runner:
                results = runner.run(measure_layer(layer, population, servers, loads, seconds, warmup))
            for server in servers:
                stop_server(server)
                for line in server_log_problems(server, layer):
                    print(f"  worker {server.port} logged: {line}", flush=True)
            return results
    finally:
        for server in servers:
            stop_server(server)
        if layer.channel_layer:
            with suppress(Exception):
                redis_keys_delete()
        shutil.rmtree(workdir, ignore_errors=True)


# --- Figures ---------------------------------------------------------------------------------


def ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def print_result(result: Result) -> None:
    print(
        f"  {result.consumer:4} {result.load.title}: {result.sockets} sockets, {result.sent} sent "
        f"({result.sent / result.seconds:.0f}/s), delivered {result.delivered}/{result.expected}, "
        f"p50 {ms(result.latency_p50)} ms, p99 {ms(result.latency_p99)} ms, ack p99 {ms(result.ack_p99)} ms, "
        f"last frame {result.tail_seconds:.1f} s after the last send",
        flush=True,
    )
    for note in result.notes:
        print(f"      {note}", flush=True)


def print_tables(results: list[Result]) -> None:
    columns = (
        "layer | load | consumer | sockets | sent (msg/s) | delivered / expected | lost | dup | p50 ms | p99 ms "
        "| ack p50 ms | ack p99 ms | tail s | CPU client | CPU workers | machine busy"
    )
    print(f"\n| {columns} |\n|{'---|' * (columns.count('|') + 1)}")
    for r in results:
        workers = " + ".join(f"{share:.0%}" for share in r.server_cpu)
        print(
            f"| {r.layer.title}, {r.layer.workers} worker{'s' if r.layer.workers > 1 else ''} | {r.load.title} "
            f"| {r.consumer} | {r.sockets} | {r.sent} ({r.sent / r.seconds:.0f}) | {r.delivered:,} / {r.expected:,} "
            f"| {r.expected - r.delivered} | {r.duplicates} | {ms(r.latency_p50)} | {ms(r.latency_p99)} "
            f"| {ms(r.ack_p50)} | {ms(r.ack_p99)} | {r.tail_seconds:.1f} | {r.client_cpu:.0%} | {workers} "
            f"| {r.machine_busy:.0%} |"
        )
    print("\n| layer | load | site p50 / p99 ms | echo p50 / p99 ms | site ÷ echo p50 | site ÷ echo p99 |")
    print("|---|---|---|---|---|---|")
    pairs = {(r.layer.key, r.load.title, r.consumer): r for r in results}
    for r in results:
        echo = pairs.get((r.layer.key, r.load.title, "echo"))
        if r.consumer != "site" or echo is None:
            continue
        print(
            f"| {r.layer.title} | {r.load.title} | {ms(r.latency_p50)} / {ms(r.latency_p99)} "
            f"| {ms(echo.latency_p50)} / {ms(echo.latency_p99)} "
            f"| {r.latency_p50 / echo.latency_p50:.1f} | {r.latency_p99 / echo.latency_p99:.1f} |"
        )


def raise_open_files_limit(needed: int) -> None:
    """The client holds a socket per person; so does a lone worker (they inherit the limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(needed, hard), hard))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: 200 people, 3 s a load")
    parser.add_argument("--layers", default="memory,core,pubsub", help="comma-separated: memory, core, pubsub")
    parser.add_argument("--seconds", type=float, help="measured seconds per load (default 20, --quick 3)")
    parser.add_argument("--rate", type=float, default=RATE, help=f"messages a second over the rooms of 10 ({RATE:.0f})")
    parser.add_argument(
        "--app",
        default=DEFAULT_APP,
        help=f"the ASGI application the workers serve (default {DEFAULT_APP}): measure a change before making it",
    )
    parser.add_argument(
        "--settings",
        default=DEFAULT_SETTINGS,
        help=f"DJANGO_SETTINGS_MODULE for migrate, setup and the workers (default {DEFAULT_SETTINGS})",
    )
    parser.add_argument(
        "--production",
        action="store_true",
        help=f"the production profile: --settings {PRODUCTION_SETTINGS} and its environment (Redis layers only)",
    )
    parser.add_argument("--populate", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--users", type=int, default=USERS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.populate:
        populate(args.populate, args.users)
        return
    layers = [LAYERS[key.strip()] for key in args.layers.split(",")]
    if args.production:
        args.settings = PRODUCTION_SETTINGS
        if any(not layer.channel_layer for layer in layers):
            parser.error("the production profile runs on Redis only: --layers core,pubsub")
    users = 2 * BIG_ROOM_SIZE if args.quick else USERS
    seconds = args.seconds or (3.0 if args.quick else 20.0)
    warmup = 1.0 if args.quick else 3.0
    loads = [
        Load(f"{users // ROOM_SIZE} rooms of {ROOM_SIZE}, {args.rate:g} msg/s", big_room=False, rate=args.rate),
        Load(f"1 room of {BIG_ROOM_SIZE}, {BIG_ROOM_RATE:.0f} msg/s", big_room=True, rate=BIG_ROOM_RATE),
    ]
    raise_open_files_limit(4 * users + 256)
    print(
        f"bench/chat.py: {users} people, {seconds:.0f} s a load after {warmup:.0f} s of warm-up; "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    results = []
    for layer in layers:
        results += run_layer(args.app, args.settings, layer, users, loads, seconds, warmup)
    print_tables(results)
    print(f"\nload average at the end: {' '.join(f'{value:.1f}' for value in os.getloadavg())}")


if __name__ == "__main__":
    main()
