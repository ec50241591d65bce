"""Database connections under ASGI (issue 8): no persistent connections, so the number of
connections the servers hold stays flat however many sockets come and go.

Two uvicorn workers in the production profile on the test database; 1,000 WebSocket cycles,
10 at a time, each a real handshake (the session from Redis, the user, the access check and the
presence stamp from PostgreSQL), one catch-up answered from the database, and a close. Every
100 cycles the servers' connections to the test database are counted in pg_stat_activity.
"""

import asyncio
import json

import psycopg
import pytest
from django.db import connection
from psycopg.conninfo import make_conninfo

from tests.messaging.servers import database_url

from .chat import FRAME_TIMEOUT_SECONDS, open_socket
from .conftest import logs_on_failure
from .stack import new_secret_key, production_env, seed, uvicorn

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CYCLES = 1000
CONCURRENCY = 10
SAMPLE_EVERY = 100
WORKERS = 2
WARM_UP_CYCLES = 20
SETTLE_SECONDS = 5
# Each worker runs every ORM call of every socket on one thread: database_sync_to_async is
# thread-sensitive, and uvicorn has no outer sync thread, so asgiref's single-thread executor
# of that process runs them one after another. Each call opens a connection and closes it when
# it returns (CONN_MAX_AGE 0, close_old_connections around every call). So while cycles are in
# flight a worker holds at most one connection, whatever the number of sockets: WORKERS in all.
IN_FLIGHT_ALLOWANCE = WORKERS


def servers_connections(monitor: psycopg.Connection, database: str, test_pid: int) -> int:
    """Connections to `database` other than the monitor's own and the test's (`test_pid`)."""
    row = monitor.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid() AND pid <> %s",
        [database, test_pid],
    ).fetchone()
    return row[0]


async def one_cycle(port: int, conversation_id: int, cookie: str) -> None:
    """Connect, catch up from the start, read the answer, close."""
    async with open_socket(port, conversation_id, cookie) as socket:
        await socket.send(json.dumps({"type": "catch_up", "after": 0, "changed_after": None}))
        async with asyncio.timeout(FRAME_TIMEOUT_SECONDS):
            while (frame := json.loads(await socket.recv()))["type"] != "caught_up":
                pass
        assert frame["more"] is False, frame


async def cycles(port: int, conversation_id: int, cookie: str, count: int, on_done) -> None:
    """`count` cycles, CONCURRENCY at a time; `on_done(n)` after the n-th completes."""
    done = 0
    started = iter(range(count))

    async def lane() -> None:
        nonlocal done
        for _ in started:
            await one_cycle(port, conversation_id, cookie)
            done += 1
            on_done(done)

    await asyncio.gather(*(lane() for _ in range(CONCURRENCY)))


def test_a_thousand_socket_cycles_leave_the_connection_count_where_it_started(
    processes, private_redis, production_state
):
    url = database_url(connection.settings_dict)
    database = connection.settings_dict["NAME"]
    env = production_env(
        database_url=url,
        redis_url=f"redis://127.0.0.1:{private_redis.port}/0",
        state=production_state,
        secret_key=new_secret_key(),
    )
    data = seed(env, members=1)
    server = uvicorn(processes, env, workers=WORKERS)
    samples: list[tuple[str, int]] = []
    connection.ensure_connection()
    test_pid = connection.connection.info.backend_pid

    with (
        logs_on_failure(processes),
        psycopg.connect(make_conninfo(url, connect_timeout=5), autocommit=True) as monitor,
    ):

        async def scenario() -> None:
            server.start()
            await server.wait_ready()
            # Both workers loaded the site and served sockets before the count starts.
            await cycles(server.port, data["conversation"], data["cookies"][0], WARM_UP_CYCLES, lambda _n: None)
            await settled()
            samples.append(("before", servers_connections(monitor, database, test_pid)))

            def sample(done: int) -> None:
                if done % SAMPLE_EVERY == 0:
                    samples.append((str(done), servers_connections(monitor, database, test_pid)))

            await cycles(server.port, data["conversation"], data["cookies"][0], CYCLES, sample)
            await settled()
            samples.append(("after", servers_connections(monitor, database, test_pid)))

        async def settled() -> None:
            """The last sockets' closes reach the servers just after the clients': give the
            servers a moment, then count."""
            deadline = asyncio.get_running_loop().time() + SETTLE_SECONDS
            while servers_connections(monitor, database, test_pid) and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.1)

        asyncio.run(scenario())

    print("\ncycles  server connections (sampled while 10 cycles are in flight; before and after: idle)")
    for done, count in samples:
        print(f"{done:>6}  {count}")
    baseline, *during, final = [count for _done, count in samples]
    # Idle servers hold no connection at all: nothing persistent.
    assert baseline == 0, samples
    assert len(during) == CYCLES // SAMPLE_EVERY
    assert max(during) <= baseline + IN_FLIGHT_ALLOWANCE, samples
    assert final == baseline, samples
