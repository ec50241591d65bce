"""Faults in the production profile (issue 8): a uvicorn worker killed, PostgreSQL restarted
under load, and Redis restarted, each while a client keeps writing.

What each must show: nothing acknowledged is lost or stored twice, everything written is
eventually acknowledged, every page ends up with every message once and in order, and while a
part is down the answers are clean (a 503 page with Retry-After, a closed socket), never a 500
and never a hang. Tests/messaging/test_multiprocess.py covers the same on the base profile with
one worker per server; these run `--workers 2` behind one port, as deploy/ does.
"""

import asyncio
import http
import os
import signal
import uuid

import psycopg
import pytest
from django.db import connection
from psycopg import sql

from messaging.models import Message
from tests.messaging.servers import database_url, free_port

from .chat import ChatClient, FormPoster, eventually
from .conftest import logs_on_failure
from .stack import (
    PostgresCluster,
    children_of,
    connection_owners,
    manage,
    new_secret_key,
    production_env,
    seed,
    uvicorn,
)

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

WORKERS = 2
MESSAGE_COUNT = 40
FAULT_AT = 15
SEND_INTERVAL_SECONDS = 0.05
SETTLE_TIMEOUT_SECONDS = 30
LIVE_TIMEOUT_SECONDS = 5
SPREAD_ATTEMPTS = 20


def message_ids(name: str, count: int) -> list[str]:
    return [f"{name}-{seq:04d}" for seq in range(count)]


async def all_synced(clients: list[ChatClient]) -> None:
    await eventually(
        lambda: all(client.synced.is_set() for client in clients),
        "every client connected and caught up",
        SETTLE_TIMEOUT_SECONDS,
    )


async def stop(runs: list[asyncio.Task]) -> None:
    for run in runs:
        run.cancel()
    for outcome in await asyncio.gather(*runs, return_exceptions=True):
        if not isinstance(outcome, asyncio.CancelledError):
            raise AssertionError("a client failed") from outcome


async def last_message_heard_live(clients: list[ChatClient], sender: ChatClient, client_id: str) -> None:
    """One more message after the fault reaches every socket live (no socket stayed open deaf),
    then every client catches up once more, as a page does with every ping."""
    connections = [client.connections for client in clients]
    await sender.send(client_id, f"{client_id} 到了吗？")
    await eventually(lambda: client_id in sender.acknowledged, "the last message acknowledged", SETTLE_TIMEOUT_SECONDS)
    await eventually(
        lambda: all(sender.acknowledged[client_id] in client.heard for client in clients),
        "the last message heard live on every socket",
        LIVE_TIMEOUT_SECONDS,
    )
    assert [client.connections for client in clients] == connections, "heard live, not after a reconnect"
    for client in clients:
        await client.catch_up()
    await all_synced(clients)


def assert_every_client_has_every_message_once(stored: list[tuple[int, str, str]], clients: list[ChatClient]) -> None:
    """`stored`: (id, client id, body) in id order. Each client's log (upserted by id, as the
    page keeps it) holds exactly these, and what it saw acknowledged is stored under that id."""
    stored_ids = [message_id for message_id, _client_id, _body in stored]
    stored_under = {client_id: message_id for message_id, client_id, _body in stored}
    for client in clients:
        assert not client.unacknowledged, client.name
        assert client.acknowledged == {client_id: stored_under.get(client_id) for client_id in client.acknowledged}
        assert sorted(client.log) == stored_ids, client.name
        assert [client.log[message_id]["body"] for message_id in stored_ids] == [body for *_rest, body in stored]
        assert set(client.heard) <= set(stored_ids), client.name
        assert not client.errors, (client.name, client.errors)
        assert http.HTTPStatus.INTERNAL_SERVER_ERROR not in client.refusals, (client.name, client.refusals)


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_its_clients_reconnect_to_the_port_and_miss_nothing(processes, private_redis, production_state):
    """Six pages on one port served by two workers, spread over both; one participant keeps
    sending. A worker holding some of the pages is killed (SIGKILL, as the kernel's OOM killer
    does): its pages' sockets drop, they reconnect to the same port (the survivor, or the worker
    uvicorn starts in its place) and catch up; the pages on the survivor never notice."""
    env = production_env(
        database_url=database_url(connection.settings_dict),
        redis_url=f"redis://127.0.0.1:{private_redis.port}/0",
        state=production_state,
        secret_key=new_secret_key(),
    )
    data = seed(env, members=6)
    server = uvicorn(processes, env, workers=WORKERS)
    clients = [
        ChatClient(f"page-{seq}", server.port, data["conversation"], cookie)
        for seq, cookie in enumerate(data["cookies"])
    ]
    sender = clients[0]
    found: dict = {}

    def owners() -> dict[ChatClient, int | None]:
        by_port = connection_owners(
            server.port, [client.local_port for client in clients], children_of(server.process.pid)
        )
        return {client: by_port[client.local_port] for client in clients}

    async def spread_over_both_workers() -> dict[ChatClient, int | None]:
        """The kernel hands each connection to whichever worker accepts first; reconnect pages
        of the busier worker until both hold some (bounded)."""
        for _attempt in range(SPREAD_ATTEMPTS):
            await all_synced(clients)
            held = owners()
            assert None not in held.values(), held
            workers = set(held.values())
            if len(workers) == WORKERS:
                return held
            await clients[-1].socket.close()
            await asyncio.sleep(0.2)
        raise AssertionError(f"the pages stayed on one worker after {SPREAD_ATTEMPTS} reconnects: {held}")

    async def kill_a_worker() -> None:
        victim = found["held"][clients[1]]
        found["victim"] = victim
        os.kill(victim, signal.SIGKILL)

    async def scenario() -> None:
        server.start()
        await server.wait_ready()
        runs = [asyncio.create_task(client.run()) for client in clients]
        try:
            found["held"] = await spread_over_both_workers()
            before = [client.connections for client in clients]
            for seq, client_id in enumerate(message_ids(sender.name, MESSAGE_COUNT)):
                if seq == FAULT_AT:
                    await kill_a_worker()
                await sender.send(client_id, f"{client_id} 到了吗？")
                await asyncio.sleep(SEND_INTERVAL_SECONDS)
            await eventually(lambda: not sender.unacknowledged, "every message acknowledged", SETTLE_TIMEOUT_SECONDS)
            await all_synced(clients)
            found["reconnected"] = [client.connections - was for client, was in zip(clients, before, strict=True)]
            await last_message_heard_live(clients, sender, message_ids(sender.name, MESSAGE_COUNT + 1)[-1])
            # uvicorn started a worker in place of the killed one.
            await eventually(
                lambda: (
                    len(children_of(server.process.pid)) >= WORKERS
                    and found["victim"] not in children_of(server.process.pid)
                ),
                "a new worker in place of the killed one",
                SETTLE_TIMEOUT_SECONDS,
            )
        finally:
            await stop(runs)

    with logs_on_failure(processes):
        asyncio.run(scenario())
        victim = found["victim"]
        on_victim = [found["held"][client] == victim for client in clients]
        print(f"\nworker {victim} killed; pages on it: {on_victim}; reconnects per page: {found['reconnected']}")
        # The pages on the killed worker reconnected (once or more); the others never did.
        assert [reconnects > 0 for reconnects in found["reconnected"]] == on_victim
        stored = list(
            Message.objects.filter(conversation_id=data["conversation"])
            .order_by("id")
            .values_list("id", "client_id", "body")
        )
        assert [client_id for _id, client_id, _body in stored] == message_ids(sender.name, MESSAGE_COUNT + 1)
        assert_every_client_has_every_message_once(stored, clients)


HTTP_COUNT = 30
WS_COUNT = 30
OUTAGE_SECONDS = 3
# A request waits at most PostgreSQL's connect_timeout (5 s, production settings) for a
# connection before it is answered; beyond twice that, it hung.
ANSWER_BOUND_SECONDS = 10
UNAVAILABLE_TEXT = "Briefly unavailable"
CLOSE_TRY_AGAIN = 1013


@pytest.fixture
def cluster(processes):
    """A private PostgreSQL cluster, started (the servers, stopped first by `processes`, may
    hold connections to it)."""
    reason = PostgresCluster.unavailable()
    if reason:
        pytest.skip(f"no private PostgreSQL cluster here: {reason}")
    made = PostgresCluster(free_port(processes.ports))
    try:
        made.init()
        made.start()
        yield made
    finally:
        processes.stop_all()
        made.destroy()


def test_postgresql_restarted_under_load_answers_cleanly_and_loses_no_write(
    processes, private_redis, production_state, cluster
):
    """Two writers on a server with two workers: a page without WebSockets posting the chat
    form, and a page sending over its socket; a third page reads. PostgreSQL is stopped (fast:
    its sessions are ended) for a few seconds and started again while they write. While it is
    down a post gets the 503 page with Retry-After, in seconds, and the writer posts the same
    client id again after it; a socket is closed or its handshake refused, never with a 500, and
    the page reconnects and sends what was not acknowledged. Afterwards every write is stored
    exactly once and every page has all of them."""
    with psycopg.connect(cluster.url("postgres"), autocommit=True, connect_timeout=5) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier("jinlin")))
    env = production_env(
        database_url=cluster.url("jinlin"),
        redis_url=f"redis://127.0.0.1:{private_redis.port}/0",
        state=production_state,
        secret_key=new_secret_key(),
    )
    manage(env, "migrate", "--no-input")
    data = seed(env, members=3)
    server = uvicorn(processes, env, workers=WORKERS)
    conversation = data["conversation"]
    form = FormPoster("form", server.port, conversation, data["cookies"][0])
    sender = ChatClient("socket", server.port, conversation, data["cookies"][1])
    reader = ChatClient("reader", server.port, conversation, data["cookies"][2])
    run = uuid.uuid4().hex[:6]
    form_ids, socket_ids = message_ids(f"form-{run}", HTTP_COUNT), message_ids(f"socket-{run}", WS_COUNT)
    outage: dict = {}
    down = asyncio.Event()

    async def post_all() -> None:
        for seq, client_id in enumerate(form_ids):
            if seq == FAULT_AT:
                outage["task"] = asyncio.create_task(restart_postgresql())
            await form.post_until_stored(client_id, f"{client_id} 收到", SETTLE_TIMEOUT_SECONDS)
            await asyncio.sleep(SEND_INTERVAL_SECONDS)

    async def send_all() -> None:
        """Half before the outage, the rest while PostgreSQL is down."""
        for seq, client_id in enumerate(socket_ids):
            if seq == WS_COUNT // 2:
                await down.wait()
            await sender.send(client_id, f"{client_id} 到了吗？")
            await asyncio.sleep(SEND_INTERVAL_SECONDS * 3)

    async def restart_postgresql() -> None:
        await asyncio.to_thread(cluster.stop)
        down.set()
        outage["answers_before"] = len(form.answers)
        await asyncio.sleep(OUTAGE_SECONDS)
        await asyncio.to_thread(cluster.start)

    async def scenario() -> None:
        server.start()
        await server.wait_ready()
        clients = [sender, reader]
        runs = [asyncio.create_task(client.run()) for client in clients]
        try:
            await all_synced(clients)
            await asyncio.gather(post_all(), send_all())
            await outage["task"]
            await eventually(
                lambda: not sender.unacknowledged, "every socket message acknowledged", SETTLE_TIMEOUT_SECONDS
            )
            await all_synced(clients)
            await last_message_heard_live(clients, sender, f"socket-{run}-last")
        finally:
            await stop(runs)

    with logs_on_failure(processes, cluster.log):
        asyncio.run(scenario())
        statuses = sorted({status for status, _text, _seconds in form.answers})
        print(
            f"\nform answers other than stored: {len(form.answers)} (statuses {statuses}), slowest post"
            f" {form.slowest:.2f} s; socket: {sender.connections} connections, closes {sender.close_codes},"
            f" refused handshakes {sender.refusals}; reader: {reader.connections} connections,"
            f" closes {reader.close_codes}, refused {reader.refusals}"
        )
        # The outage was seen, and answered cleanly and in time.
        assert form.answers, "no post met the outage"
        for status, text, seconds in form.answers:
            assert status == http.HTTPStatus.SERVICE_UNAVAILABLE, (status, text[:500])
            assert UNAVAILABLE_TEXT in text and "Retry-After: 5" in text, text[:500]
            assert seconds < ANSWER_BOUND_SECONDS, (seconds, text[:200])
        assert form.slowest < ANSWER_BOUND_SECONDS
        assert sender.connections > 1 or sender.refusals, "the socket met the outage"

        with psycopg.connect(cluster.url("jinlin"), connect_timeout=5) as check:
            stored = check.execute(
                "SELECT id, client_id, body FROM messaging_message WHERE conversation_id = %s ORDER BY id",
                [conversation],
            ).fetchall()
        client_ids = [client_id for _id, client_id, _body in stored]
        # Every write stored exactly once, each writer's in the order written.
        assert [client_id for client_id in client_ids if client_id.startswith("form-")] == form_ids
        assert [client_id for client_id in client_ids if client_id.startswith("socket-")] == [
            *socket_ids,
            f"socket-{run}-last",
        ]
        assert form.stored == form_ids
        assert_every_client_has_every_message_once(stored, [sender, reader])
        # A socket ends with "try again later" (1013), or stays open until the test ends (None);
        # a handshake is refused with 503 (the page reconnects with back-off either way).
        for client in (sender, reader):
            assert set(client.close_codes) <= {CLOSE_TRY_AGAIN, None}, (client.name, client.close_codes)
            assert set(client.refusals) <= {http.HTTPStatus.SERVICE_UNAVAILABLE}, (client.name, client.refusals)


@pytest.mark.django_db(transaction=True)
def test_redis_restarted_empty_the_pages_reconnect_logged_in_and_catch_up(processes, private_redis, production_state):
    """The production profile keeps sessions in cached_db: in Redis and written through to
    PostgreSQL. Redis is killed and started again empty (it saves nothing to disk) while a page
    sends; a form page posts meanwhile. Every page must come back logged in (a session kept in
    Redis alone would close them with 4401 and send the form to the login page), catch up, and
    have every message once. tests/messaging/test_multiprocess.py covers the chat side of a
    Redis restart on the base profile, with one worker per server."""
    env = production_env(
        database_url=database_url(connection.settings_dict),
        redis_url=f"redis://127.0.0.1:{private_redis.port}/0",
        state=production_state,
        secret_key=new_secret_key(),
    )
    data = seed(env, members=3)
    server = uvicorn(processes, env, workers=WORKERS)
    conversation = data["conversation"]
    sender = ChatClient("socket", server.port, conversation, data["cookies"][0])
    reader = ChatClient("reader", server.port, conversation, data["cookies"][1])
    form = FormPoster("form", server.port, conversation, data["cookies"][2])
    socket_ids, form_ids = message_ids("socket", MESSAGE_COUNT), message_ids("form", 4)

    async def scenario() -> None:
        server.start()
        await server.wait_ready()
        clients = [sender, reader]
        runs = [asyncio.create_task(client.run()) for client in clients]
        try:
            await all_synced(clients)
            for seq, client_id in enumerate(socket_ids):
                if seq == FAULT_AT:
                    private_redis.kill()
                    private_redis.start()
                    await private_redis.wait_ready()
                    for form_id in form_ids:
                        await form.post_until_stored(form_id, f"{form_id} 收到", SETTLE_TIMEOUT_SECONDS)
                await sender.send(client_id, f"{client_id} 到了吗？")
                await asyncio.sleep(SEND_INTERVAL_SECONDS)
            await eventually(lambda: not sender.unacknowledged, "every message acknowledged", SETTLE_TIMEOUT_SECONDS)
            await all_synced(clients)
            await last_message_heard_live(clients, sender, "socket-last")
        finally:
            await stop(runs)

    with logs_on_failure(processes):
        asyncio.run(scenario())
        print(
            f"\nsocket: {sender.connections} connections, closes {sender.close_codes}, refused {sender.refusals};"
            f" reader: {reader.connections} connections, closes {reader.close_codes}; form answers {form.answers}"
        )
        assert sender.connections > 1 and reader.connections > 1, "the sockets met the restart"
        for client in (sender, reader):
            # Logged in after the restart: never "not logged in".
            assert 4401 not in client.close_codes, (client.name, client.close_codes)
        assert form.stored == form_ids
        assert all(status != http.HTTPStatus.INTERNAL_SERVER_ERROR for status, _text, _seconds in form.answers)
        stored = list(
            Message.objects.filter(conversation_id=conversation).order_by("id").values_list("id", "client_id", "body")
        )
        client_ids = [client_id for _id, client_id, _body in stored]
        assert [client_id for client_id in client_ids if client_id.startswith("socket")] == [*socket_ids, "socket-last"]
        assert [client_id for client_id in client_ids if client_id.startswith("form")] == form_ids
        assert_every_client_has_every_message_once(stored, [sender, reader])
