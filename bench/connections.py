"""Database connections under ASGI: does the number of PostgreSQL connections the servers hold
stay flat over many WebSocket connects and disconnects? (Persistent connections leak under
ASGI, channels #871 and #1206; the site keeps CONN_MAX_AGE at 0.)

Run: .venv/bin/python bench/connections.py [--cycles 1000] [--concurrency 10] [--workers 2]
        [--sample-every 100]

It builds a throwaway site in the production profile (config.settings.production): a database
of its own on the PostgreSQL server (`jinlin_bench_connections` on 127.0.0.1:5432, created and
dropped), Redis database 9 of 127.0.0.1:6379 under a key prefix of its own (its keys deleted at
the end), one person in one conversation (made by tests/deploy/seed.py with the servers'
settings), and uvicorn with `--workers` processes. This process is the client: `--concurrency`
lanes, each doing cycles one after another; a cycle is a real handshake (session from Redis,
user, access check and presence stamp from PostgreSQL), one catch-up answered from the database,
and a close. Every `--sample-every` cycles it counts the servers' connections to the database in
pg_stat_activity (its own monitoring connection excluded) while the other lanes go on; before
the first cycle and after the last (once the servers are idle) it counts again. Each worker runs
its ORM calls on one thread (database_sync_to_async), opening and closing a connection per call,
so while cycles are in flight the count is at most the number of workers, and idle it is 0.

Everything it starts is stopped, and the database dropped, on failure and Ctrl-C too.
"""

import argparse
import asyncio
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import redis
from psycopg import sql
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_SERVER = "postgres://postgres@127.0.0.1:5432"
BENCH_DATABASE = "jinlin_bench_connections"
REDIS_URL = "redis://127.0.0.1:6379/9"
SERVER_START_TIMEOUT = 60
FRAME_TIMEOUT = 10
SETTLE_SECONDS = 5
WARM_UP_CYCLES = 20
SUBPROCESS_TIMEOUT = 300


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run(command: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(  # noqa: S603 - our own command lines
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT, check=False
    )
    if result.returncode:
        sys.exit(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def count_connections(monitor: psycopg.Connection) -> int:
    row = monitor.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [BENCH_DATABASE]
    ).fetchone()
    return row[0]


async def one_cycle(url: str, origin: str, cookie: str) -> None:
    async with connect(
        url, origin=origin, additional_headers={"Cookie": cookie}, proxy=None, open_timeout=FRAME_TIMEOUT
    ) as ws:
        await ws.send(json.dumps({"type": "catch_up", "after": 0, "changed_after": None}))
        async with asyncio.timeout(FRAME_TIMEOUT):
            while json.loads(await ws.recv())["type"] != "caught_up":
                pass


async def cycles(url: str, origin: str, cookie: str, count: int, concurrency: int, on_done) -> None:
    done = 0
    started = iter(range(count))

    async def lane() -> None:
        nonlocal done
        for _ in started:
            await one_cycle(url, origin, cookie)
            done += 1
            on_done(done)

    await asyncio.gather(*(lane() for _ in range(concurrency)))


async def wait_listening(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while True:
        if server.poll() is not None:
            sys.exit("uvicorn ended before it listened (see its output above)")
        try:
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if time.monotonic() > deadline:
                sys.exit(f"uvicorn did not listen within {SERVER_START_TIMEOUT} s")
            await asyncio.sleep(0.1)
            continue
        writer.close()
        await writer.wait_closed()
        return


async def measure(args, port: int, server: subprocess.Popen, data: dict, monitor: psycopg.Connection) -> list:
    await wait_listening(port, server)
    url = f"ws://127.0.0.1:{port}/ws/conversations/{data['conversation']}/"
    origin = f"http://127.0.0.1:{port}"
    cookie = data["cookies"][0]
    clock = time.monotonic()
    samples = []

    async def settled() -> None:
        deadline = time.monotonic() + SETTLE_SECONDS
        while count_connections(monitor) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)

    def sample(done: int) -> None:
        if done % args.sample_every == 0:
            samples.append((str(done), count_connections(monitor), time.monotonic() - clock))

    await cycles(url, origin, cookie, WARM_UP_CYCLES, args.concurrency, lambda _n: None)
    await settled()
    samples.append(("before", count_connections(monitor), 0.0))
    clock = time.monotonic()
    await cycles(url, origin, cookie, args.cycles, args.concurrency, sample)
    elapsed = time.monotonic() - clock
    await settled()
    samples.append(("after", count_connections(monitor), elapsed))
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sample-every", type=int, default=100)
    args = parser.parse_args()

    prefix = f"jinlin-bench-connections-{secrets.token_hex(4)}"
    state = Path(tempfile.mkdtemp(prefix="jinlin-bench-connections-"))
    (state / "static").mkdir()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": f"{POSTGRES_SERVER}/{BENCH_DATABASE}",
        "REDIS_URL": REDIS_URL,
        "REDIS_KEY_PREFIX": prefix,
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "SERVE_MEDIA": "true",
        "STATIC_ROOT": str(state / "static"),
        "MEDIA_ROOT": str(state / "media"),
        "PRIVATE_MEDIA_ROOT": str(state / "private-media"),
        "LOG_LEVEL": "WARNING",
    }
    server = None
    admin = psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True, connect_timeout=5)
    try:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(BENCH_DATABASE)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(BENCH_DATABASE)))
        run([sys.executable, "manage.py", "migrate", "--no-input"], env)
        data = json.loads(run([sys.executable, "-m", "tests.deploy.seed", "1"], env).strip().splitlines()[-1])
        port = free_port()
        command = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1"]
        command += ["--port", str(port), "--workers", str(args.workers), "--lifespan", "off"]
        command += ["--no-proxy-headers", "--log-level", "warning"]
        server = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)  # noqa: S603
        with psycopg.connect(f"{POSTGRES_SERVER}/{BENCH_DATABASE}", autocommit=True, connect_timeout=5) as monitor:
            samples = asyncio.run(measure(args, port, server, data, monitor))
    finally:
        if server is not None and server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(BENCH_DATABASE)))
        admin.close()
        keys = redis.Redis.from_url(REDIS_URL)
        for key in keys.scan_iter(match=f"{prefix}*"):
            keys.delete(key)
        subprocess.run(["rm", "-rf", str(state)], check=False)  # noqa: S603, S607

    print(
        f"{args.cycles} WebSocket cycles (handshake, catch-up, close), {args.concurrency} at a time,"
        f" {args.workers} uvicorn workers, production profile"
    )
    print("| cycles done | server connections to the database | seconds |")
    print("|---|---|---|")
    for label, count, seconds in samples:
        print(f"| {label} | {count} | {seconds:.1f} |")
    during = [count for label, count, _seconds in samples if label not in ("before", "after")]
    elapsed = samples[-1][2]
    print(
        f"before {samples[0][1]}, max while cycling {max(during)}, after {samples[-1][1]};"
        f" {args.cycles / elapsed:.0f} cycles/s"
    )


if __name__ == "__main__":
    main()
