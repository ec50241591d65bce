"""Browser tests: the real ASGI site in a thread of this process, driven by Debian's chromium.

The server runs in this process on purpose: it shares the test database settings
and the in-memory channel layer with the test, which is what `make run` serves.
"""

import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import uvicorn
from channels.layers import channel_layers
from django.conf import settings

from tests.conftest import IN_CI

# Debian's own build; Playwright must never download a browser of its own.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SERVER_START_TIMEOUT = 10.0
SERVER_STOP_TIMEOUT = 10.0


def chromium_executable() -> str:
    """Debian's chromium; without it the test fails under CI and is skipped elsewhere.

    Called from inside the test, not from a fixture, so that CI reports a failed
    test rather than a setup error.
    """
    path = shutil.which("chromium")
    if path is None:
        message = "Debian's chromium is not on PATH (apt-get install chromium); the browser tests need it"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    path = Path(settings.BASE_DIR) / "test-artifacts" / "e2e"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _wait_until_accepting(server: uvicorn.Server, thread: threading.Thread, port: int) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if not thread.is_alive():
            pytest.fail("the ASGI server thread stopped while starting; see the captured log")
        if server.started:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return
            except OSError:
                pass
        time.sleep(0.05)
    pytest.fail(f"the ASGI server did not accept connections on 127.0.0.1:{port} within {SERVER_START_TIMEOUT:.0f} s")


@pytest.fixture
def live_asgi_url(transactional_db) -> Iterator[str]:
    """http://127.0.0.1:PORT serving config.asgi.application (HTTP and WebSockets) until the test ends."""
    from config.asgi import application

    # Bind here and hand the socket to uvicorn: the port is ours before the thread starts.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        application,
        lifespan="off",
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    # The server gets a layer of its own, made inside its event loop; see the teardown.
    channel_layers.backends.clear()
    # uvicorn installs signal handlers only from the main thread; from this one it leaves them alone.
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="e2e-uvicorn", daemon=True)
    thread.start()
    try:
        _wait_until_accepting(server, thread, port)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(SERVER_STOP_TIMEOUT)
        sock.close()
        # Its queues (in memory) or connection pools (Redis) belong to the loop that just closed.
        channel_layers.backends.clear()
        if thread.is_alive():
            pytest.fail(f"the ASGI server did not stop within {SERVER_STOP_TIMEOUT:.0f} s")


@pytest.fixture
def new_browser_context(live_asgi_url: str) -> Iterator[Callable[..., object]]:
    """new_browser_context(**options) -> a fresh Playwright BrowserContext (own cookies) on the live site.

    Playwright starts on the first call, not before. Its sync API keeps an asyncio
    loop marked as running in this thread, so Django refuses ORM calls here while
    it runs (SynchronousOnlyOperation): create the test's data first, then open
    contexts. Everything closes before the server stops and the database is flushed.
    """
    from playwright.sync_api import sync_playwright

    state: dict = {}

    def new_context(**options):
        if "browser" not in state:
            executable = chromium_executable()
            state["playwright"] = sync_playwright().start()
            state["browser"] = state["playwright"].chromium.launch(
                executable_path=executable, args=CHROMIUM_ARGS, headless=True
            )
        context = state["browser"].new_context(base_url=live_asgi_url, **options)
        context.set_default_timeout(10_000)
        return context

    yield new_context
    if "browser" in state:
        state["browser"].close()
    if "playwright" in state:
        state["playwright"].stop()
