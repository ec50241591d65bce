"""The deploy tests run the production profile (config.settings.production) in real uvicorn
processes, each test with a private redis-server, and only in the PostgreSQL + Redis profile."""

import asyncio
import contextlib
import os
import tempfile
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.conftest import require_service
from tests.messaging.servers import REDIS_SERVER, ServerProcesses, redis_error

from .stack import manage, new_secret_key, production_env


@pytest.fixture(autouse=True)
def _deploy_services():
    """Checked before anything else, so that a run without them skips without starting anything."""
    require_service("Redis", bool(settings.REDIS_URL), lambda: redis_error(settings.REDIS_URL))
    require_service("PostgreSQL", connection.vendor == "postgresql", lambda: None)
    require_service("redis-server", True, lambda: None if os.access(REDIS_SERVER, os.X_OK) else f"no {REDIS_SERVER}")


@pytest.fixture(scope="session")
def production_state():
    """The production profile's folders, with the static files collected once for the session
    (WhiteNoise serves hashed names from STATIC_ROOT; pages fail without its manifest)."""
    with tempfile.TemporaryDirectory(prefix="jinlin-deploy-") as state:
        env = production_env(
            database_url="postgres://unused@127.0.0.1/unused",
            redis_url="redis://127.0.0.1:6379/9",
            state=Path(state),
            secret_key=new_secret_key(),
        )
        manage(env, "collectstatic", "--no-input", "--verbosity", "0")
        yield Path(state)


@pytest.fixture
def processes(tmp_path):
    """The server processes of one test, all stopped at its end whatever happened."""
    started = ServerProcesses(tmp_path, prefix=f"deploy-{os.getpid()}")
    yield started
    started.stop_all()


@pytest.fixture
def private_redis(processes):
    """A redis-server of the test's own, started: the test may kill it."""
    server = processes.redis()
    server.start()
    asyncio.run(server.wait_ready())
    return server


@contextlib.contextmanager
def logs_on_failure(processes: ServerProcesses, *more):
    """A failure says what the servers said (and anything else given, e.g. PostgreSQL's log)."""
    try:
        yield
    except BaseException as error:
        extra = "".join(f"\n{log()}" for log in more)
        error.add_note(f"server output:\n{processes.logs()}{extra}")
        raise
