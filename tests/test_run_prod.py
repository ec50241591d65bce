"""`make run-prod` (deploy/run-prod.sh): the production profile on this machine, two uvicorn workers
against PostgreSQL and Redis, with the demo data, serving pages a demo person can log in to.

Only in the PostgreSQL + Redis profile. It runs the script itself, on a database, a Redis key
prefix and a folder of its own, and drops them afterwards.
"""

import http.client
import os
import re
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

import psycopg
import pytest
import redis
from django.conf import settings
from psycopg import sql

from tests.conftest import require_service
from tests.deploy.stack import children_of
from tests.messaging.servers import free_port, redis_error

ROOT = Path(settings.BASE_DIR)
START_TIMEOUT_SECONDS = 240
WORKERS = 2


def request(port: int, method: str, path: str, headers: dict | None = None, body: str | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers={"Host": "localhost", **(headers or {})})
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read().decode()
    finally:
        connection.close()


def cookies_of(headers) -> dict[str, str]:
    found = {}
    for name, value in headers:
        if name.lower() == "set-cookie":
            cookie_name, cookie_value = value.split(";", 1)[0].split("=", 1)
            found[cookie_name] = cookie_value
    return found


def worker_processes(parent: int) -> list[int]:
    """uvicorn's workers: its children started by multiprocessing (not its resource tracker)."""
    return [pid for pid in children_of(parent) if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]


@pytest.fixture
def run_prod(tmp_path):
    require_service("Redis", bool(settings.REDIS_URL), lambda: redis_error(settings.REDIS_URL))
    require_service("PostgreSQL", settings.DATABASES["default"]["ENGINE"].endswith("postgresql"), lambda: None)
    server = settings.DATABASES["default"]
    admin = f"host={server['HOST'] or '127.0.0.1'} port={server['PORT'] or 5432} user={server['USER']} dbname=postgres"
    name = f"jinlin_runprod_{os.getpid()}"
    prefix = f"jinlin-runprod-{uuid.uuid4().hex[:8]}"
    port = free_port(set())
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_"))},
        "RUN_PROD_DATABASE_URL": f"postgres://{server['USER']}@{server['HOST'] or '127.0.0.1'}:{server['PORT'] or 5432}/{name}",
        "RUN_PROD_REDIS_URL": settings.REDIS_URL,
        "RUN_PROD_STATE": str(tmp_path / "state"),
        "REDIS_KEY_PREFIX": prefix,
        "PORT": str(port),
        "WORKERS": str(WORKERS),
        "LOG_LEVEL": "WARNING",
    }
    log = (tmp_path / "run-prod.log").open("wb")
    process = subprocess.Popen(  # noqa: S603 - our own script
        ["/bin/bash", "deploy/run-prod.sh"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            assert process.poll() is None, (tmp_path / "run-prod.log").read_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, (tmp_path / "run-prod.log").read_text()
                time.sleep(0.5)
        yield port, process.pid, tmp_path / "state"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        log.close()
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        client = redis.Redis.from_url(settings.REDIS_URL)
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


@pytest.mark.postgres
@pytest.mark.redis
def test_run_prod_serves_the_demo_on_two_workers_with_postgresql_and_redis(run_prod):
    port, parent, state = run_prod
    assert len(worker_processes(parent)) == WORKERS
    assert (state / "static" / "staticfiles.json").exists()

    # The demo committee member logs in over plain HTTP (the redirect to HTTPS is off here).
    status, headers, page = request(port, "GET", "/accounts/login/")
    assert status == 200
    assert re.search(r"/static/css/site\.[0-9a-f]{12}\.css", page)
    csrf = cookies_of(headers)["csrftoken"]
    status, headers, _page = request(
        port,
        "POST",
        "/accounts/login/",
        headers={
            "Cookie": f"csrftoken={csrf}",
            "X-CSRFToken": csrf,
            "Content-Type": "application/x-www-form-urlencoded",
        },
        body=urlencode({"login": "committee@demo.jinlin", "password": "jinlin-demo-2026"}),
    )
    assert status == 302
    session = cookies_of(headers)["sessionid"]
    session_cookie = next(value for name, value in headers if name.lower() == "set-cookie" and "sessionid=" in value)
    assert "Secure" in session_cookie
    # Every worker reads the session (Redis, then the database) and the demo data.
    for _ in range(2 * WORKERS):
        status, _headers, page = request(port, "GET", "/", headers={"Cookie": f"sessionid={session}"})
        assert status == 200
        assert "陈主任" in page

    # A wrong password is refused like anywhere else.
    status, _headers, page = request(
        port,
        "POST",
        "/accounts/login/",
        headers={
            "Cookie": f"csrftoken={csrf}",
            "X-CSRFToken": csrf,
            "Content-Type": "application/x-www-form-urlencoded",
        },
        body=urlencode({"login": "committee@demo.jinlin", "password": "wrong"}),
    )
    assert status == 200
    assert "sessionid" not in page
