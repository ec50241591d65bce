"""Real server processes for the tests that need more than one process: uvicorn serving the
site (with tests.messaging.server_settings) and a private redis-server that a test may kill and
start again on the same port. Each process writes its output to a log file, so that a failing
test can show what the servers said."""

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import redis
from django.conf import settings

READY_TIMEOUT_SECONDS = 15
STOP_TIMEOUT_SECONDS = 5
REDIS_SERVER = "/usr/bin/redis-server"


def free_port(taken: set[int]) -> int:
    """A port nobody listens on now and not in `taken`: the system may offer a port it just
    offered again once it is released. Released before the server binds it, so another program
    could take it in between; the server then fails to start and the test says so with its log."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port not in taken:
            taken.add(port)
            return port


def database_url(settings_dict: dict) -> str:
    """The URL of the database this test runs on (pytest-django's test database), so that the
    servers read and write the rows the test does."""
    credentials = quote(settings_dict["USER"] or "", safe="")
    if settings_dict["PASSWORD"]:
        credentials += ":" + quote(settings_dict["PASSWORD"], safe="")
    host = settings_dict["HOST"] or "127.0.0.1"
    port = settings_dict["PORT"] or 5432
    return f"postgres://{credentials}@{host}:{port}/{quote(settings_dict['NAME'], safe='')}"


def redis_error(url: str) -> str | None:
    """Why the Redis at `url` does not answer, or None when it does."""
    try:
        redis.Redis.from_url(url, socket_timeout=2).ping()
    except redis.RedisError as error:
        return str(error)
    return None


class ServerProcess:
    """One server process on a fixed port: start, wait until it accepts connections, kill,
    start again on the same port. The log file keeps the output of every run."""

    def __init__(self, name: str, command: list[str], port: int, log_path: Path, env: dict[str, str]) -> None:
        self.name = name
        self.command = command
        self.port = port
        self.log_path = log_path
        self.env = env
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            log.write(f"--- {self.name} starting\n".encode())
            log.flush()
            # Its own process group, so that a kill reaches anything it started.
            self.process = subprocess.Popen(  # noqa: S603 - a fixed command line of ours
                self.command,
                cwd=settings.BASE_DIR,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    async def wait_ready(self, timeout: float = READY_TIMEOUT_SECONDS) -> None:
        """Until the port accepts a connection (uvicorn loads the site before it listens); fail
        with the log if the process ends or the time runs out."""
        deadline = time.monotonic() + timeout
        while True:
            if self.process is None or self.process.poll() is not None:
                raise AssertionError(f"{self.name} ended before it was ready:\n{self.log()}")
            try:
                _reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"{self.name} did not listen within {timeout} s:\n{self.log()}") from None
                await asyncio.sleep(0.1)
                continue
            writer.close()
            await writer.wait_closed()
            return

    def kill(self) -> None:
        """A crash: the process gets no chance to finish anything."""
        self._signal(signal.SIGKILL)
        self.wait()

    def terminate(self) -> None:
        """Ask it to stop (SIGTERM) without waiting; `wait` then kills what is left."""
        self._signal(signal.SIGTERM)

    def wait(self) -> None:
        if self.process is None:
            return
        try:
            self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self.process.wait(timeout=STOP_TIMEOUT_SECONDS)

    def _signal(self, signum: int) -> None:
        if self.running:
            # It may end between the check and the signal.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signum)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        if not self.log_path.exists():
            return f"--- {self.name}: no output\n"
        return self.log_path.read_text(errors="replace")


class ServerProcesses:
    """The processes one test starts; `stop_all` ends every one of them, failed test or not."""

    def __init__(self, log_dir: Path, prefix: str) -> None:
        self.log_dir = log_dir
        self.prefix = prefix
        self.asgi_servers: list[ServerProcess] = []
        self.redis_servers: list[ServerProcess] = []
        self.ports: set[int] = set()

    def redis(self) -> ServerProcess:
        """A private Redis, with nothing saved to disk, that the test may kill: never the shared
        one other runs use."""
        port = free_port(self.ports)
        command = [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        server = ServerProcess(f"redis-server:{port}", command, port, self.log_dir / f"redis-{port}.log", {})
        self.redis_servers.append(server)
        return server

    def asgi(self, *, database_url: str, redis_url: str) -> ServerProcess:
        """The site under uvicorn, one worker, on the given database and Redis (for the channel
        layer and the rate limits, as in production). The servers of one test share the
        channel-layer and rate-limit prefix: they hear each other and no other run."""
        port = free_port(self.ports)
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "config.asgi:application",
            "--lifespan",
            "off",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ]
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.messaging.server_settings",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "RATE_LIMIT_STORAGE_URL": redis_url,
            "TEST_SERVER_PREFIX": self.prefix,
            "ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_DEBUG": "false",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
        server = ServerProcess(f"uvicorn:{port}", command, port, self.log_dir / f"uvicorn-{port}.log", env)
        self.asgi_servers.append(server)
        return server

    def stop_all(self) -> None:
        # The ASGI servers first: they hold connections to Redis and to the test database,
        # which pytest-django drops at the end of the session.
        for group in (self.asgi_servers, self.redis_servers):
            for server in group:
                server.terminate()
            for server in group:
                server.wait()

    def logs(self) -> str:
        return "".join(server.log() for server in [*self.asgi_servers, *self.redis_servers])
