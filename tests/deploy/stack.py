"""The production stack as the deploy tests run it: uvicorn with the production settings and
several workers, a private PostgreSQL cluster a test may restart, the data a test needs made by
the servers' own settings, and the means to see which worker holds which socket.

Built on tests/messaging/servers.py (ServerProcess, ServerProcesses, free_port)."""

import contextlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings

from tests.messaging.servers import ServerProcess, ServerProcesses, free_port

POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")
RUNUSER = "/usr/sbin/runuser"
POSTGRES_USER = "postgres"
SUBPROCESS_TIMEOUT_SECONDS = 120
# These servers are driven faster than a person types; the limits have their own tests. They
# are still counted, in Redis, on every send.
GENEROUS_RATE_LIMITS = "1000 per second"


def production_env(*, database_url: str, redis_url: str, state: Path, secret_key: str) -> dict[str, str]:
    """The production profile's environment (deploy/env.example), served over plain HTTP on
    127.0.0.1 as deploy/run-prod.sh does, with its folders under `state`. Each test gives it a
    private Redis, so no other run shares its channel layer, cache, sessions or rate-limit
    counters (and a key prefix of its own besides)."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secret_key,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "RATE_LIMIT_STORAGE_URL": redis_url,
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "SERVE_MEDIA": "true",
        "STATIC_ROOT": str(state / "static"),
        "MEDIA_ROOT": str(state / "media"),
        "PRIVATE_MEDIA_ROOT": str(state / "private-media"),
        "REDIS_KEY_PREFIX": f"jinlin-deploy-{os.getpid()}-{secrets.token_hex(4)}",
        "MESSAGE_RATE_LIMITS": GENEROUS_RATE_LIMITS,
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }


def new_secret_key() -> str:
    return secrets.token_urlsafe(50)


def manage(env: dict[str, str], *args: str) -> str:
    """`manage.py <args>` under `env`; its output, or a failure that shows it."""
    result = subprocess.run(  # noqa: S603 - a fixed command line of ours
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT_SECONDS,
        check=False,
    )
    if result.returncode:
        raise AssertionError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def seed(env: dict[str, str], members: int) -> dict:
    """A community with `members` residents sharing one conversation, each logged in, made by
    a process with the servers' settings (their SECRET_KEY signs the sessions; their session
    store keeps them). See tests/deploy/seed.py."""
    result = subprocess.run(  # noqa: S603 - a fixed command line of ours
        [sys.executable, "-m", "tests.deploy.seed", str(members)],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT_SECONDS,
        check=False,
    )
    if result.returncode:
        raise AssertionError(f"seeding failed:\n{result.stdout}\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def uvicorn(processes: ServerProcesses, env: dict[str, str], *, workers: int) -> ServerProcess:
    """The production server command (deploy/), `workers` processes behind one port."""
    port = free_port(processes.ports)
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "config.asgi:application",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--lifespan",
        "off",
        "--no-proxy-headers",
        "--log-level",
        "warning",
    ]
    log_path = processes.log_dir / f"uvicorn-{port}.log"
    server = ServerProcess(f"uvicorn:{port} ({workers} workers)", command, port, log_path, env)
    processes.asgi_servers.append(server)
    return server


def children_of(pid: int) -> list[int]:
    """The processes whose parent is `pid` (from /proc: no psutil here)."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # it ended meanwhile
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            children.append(int(entry.name))
    return children


def _socket_inodes(pid: int) -> set[int]:
    inodes = set()
    with contextlib.suppress(OSError):
        for fd in (Path("/proc") / str(pid) / "fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(int(target[len("socket:[") : -1]))
    return inodes


def connection_owners(server_port: int, client_ports: list[int], pids: list[int]) -> dict[int, int | None]:
    """For each client port, the pid (among `pids`) holding the server side of its TCP
    connection to `server_port`, or None: from /proc/net/tcp (the connection's inode) and each
    process's file descriptors."""
    inode_of = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, inode = fields[1], fields[2], int(fields[9])
        if int(local.split(":")[1], 16) == server_port and inode:
            inode_of[int(remote.split(":")[1], 16)] = inode
    held = {pid: _socket_inodes(pid) for pid in pids}
    return {
        port: next((pid for pid, inodes in held.items() if inode_of.get(port) in inodes), None) for port in client_ports
    }


class PostgresCluster:
    """A private PostgreSQL cluster in a temporary directory, owned by the postgres user
    (PostgreSQL refuses to run as root), listening on 127.0.0.1:`port` and a socket in its own
    directory, trusting local connections. A test may stop and start it: never the shared one."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.root = Path(tempfile.mkdtemp(prefix="jinlin-pg-"))
        self.data = self.root / "data"
        self.log_path = self.root / "postgres.log"
        shutil.chown(self.root, POSTGRES_USER, POSTGRES_USER)
        self.started = False

    @staticmethod
    def unavailable() -> str | None:
        """Why a private cluster cannot be made here, or None."""
        if os.geteuid() != 0:
            return "not root: cannot run PostgreSQL as the postgres user"
        if not os.access(RUNUSER, os.X_OK):
            return f"no {RUNUSER}"
        if not os.access(POSTGRES_BIN / "initdb", os.X_OK):
            return f"no {POSTGRES_BIN / 'initdb'}"
        return None

    def _run(self, *command: str) -> None:
        result = subprocess.run(  # noqa: S603 - a fixed command line of ours
            [RUNUSER, "-u", POSTGRES_USER, "--", *command],
            capture_output=True,
            text=True,
            timeout=SUBPROCESS_TIMEOUT_SECONDS,
            check=False,
        )
        if result.returncode:
            raise AssertionError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}\n{self.log()}")

    def init(self) -> None:
        self._run(
            str(POSTGRES_BIN / "initdb"),
            "-D",
            str(self.data),
            "-U",
            POSTGRES_USER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root} -c fsync=off"
        self._run(
            str(POSTGRES_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log_path), "-o", options, "-w", "start"
        )
        self.started = True

    def stop(self) -> None:
        """A fast shutdown, as a restart by the operator does it: open sessions are ended."""
        self._run(str(POSTGRES_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        self.started = False

    def url(self, database: str) -> str:
        return f"postgres://{POSTGRES_USER}@127.0.0.1:{self.port}/{database}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def destroy(self) -> None:
        if self.started:
            with contextlib.suppress(AssertionError, subprocess.TimeoutExpired):
                self._run(str(POSTGRES_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


def wait_for(condition, what: str, timeout: float) -> None:
    """Blocking: until `condition()` holds, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.05)
