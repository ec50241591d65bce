"""The production profile (issue 8): what it refuses, `check --deploy`, static files from WhiteNoise,
the client address behind the proxy, the failed-login limit, the site's own posting and claiming
limits, and the 503 page while the database or Redis is away.

Production settings cannot be loaded into the test process (it runs the test settings), so those
tests run `manage.py` or a uvicorn server in a subprocess with the production environment. They
need no PostgreSQL or Redis to answer: nothing here connects.
"""

import asyncio
import http.client
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from unittest import mock
from urllib.parse import urlencode

import pytest
import redis
from asgiref.testing import ApplicationCommunicator
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone

from aid_posts.models import AidPost, Claim
from aid_posts.services import aid_post_claim, aid_post_create
from neighbors.ratelimits import TooFast
from tests.factories import skill, window
from tests.messaging.servers import free_port

ROOT = Path(settings.BASE_DIR)
SERVER_START_TIMEOUT = 30


def production_env(**overrides: str) -> dict[str, str]:
    """What deploy/env.example asks for, on a machine where nothing needs to answer."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="jinlin.example.gov.cn",
        DATABASE_URL="postgres://jinlin@127.0.0.1:5432/jinlin",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    env.update(overrides)
    return {key: value for key, value in env.items() if value is not None}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


# --- What production refuses -------------------------------------------------------------


class TestProductionRefusesToStart:
    @pytest.mark.parametrize(
        ("missing", "said"),
        [
            ("DJANGO_SECRET_KEY", "DJANGO_SECRET_KEY"),
            ("ALLOWED_HOSTS", "ALLOWED_HOSTS"),
            ("DATABASE_URL", "PostgreSQL DATABASE_URL"),
            ("REDIS_URL", "REDIS_URL"),
        ],
    )
    def test_without_each_required_setting(self, missing, said):
        result = manage("check", env=production_env(**{missing: None}))
        assert result.returncode != 0
        assert "ImproperlyConfigured" in result.stderr
        assert said in result.stderr

    @pytest.mark.parametrize(
        ("setting", "value", "said"),
        [
            ("DATABASE_URL", "sqlite:////tmp/jinlin.sqlite3", "PostgreSQL"),
            ("ALLOWED_HOSTS", "*", "ALLOWED_HOSTS"),
            ("TRUSTED_PROXIES", "*", "TRUSTED_PROXIES"),
            ("DJANGO_DEBUG", "true", "DJANGO_DEBUG"),
            ("DJANGO_SECRET_KEY", "   ", "DJANGO_SECRET_KEY"),
        ],
    )
    def test_with_a_setting_it_cannot_run_on(self, setting, value, said):
        result = manage("check", env=production_env(**{setting: value}))
        assert result.returncode != 0
        assert said in result.stderr

    def test_with_everything_it_needs_it_starts(self):
        result = manage("check", env=production_env())
        assert result.returncode == 0, result.stderr


class TestCheckDeploy:
    def test_is_clean_with_nothing_silenced(self):
        result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
        assert result.returncode == 0, result.stdout + result.stderr
        assert "System check identified no issues (0 silenced)." in result.stdout

    def test_fails_when_production_is_weakened(self):
        """The check can fail: plain HTTP without HSTS is what it is there to catch."""
        weakened = production_env(DJANGO_SECURE_SSL_REDIRECT="false", DJANGO_SECURE_HSTS_SECONDS="0")
        result = manage("check", "--deploy", "--fail-level", "WARNING", env=weakened)
        assert result.returncode != 0
        assert "security.W008" in result.stderr
        assert "security.W004" in result.stderr


# --- Static files from WhiteNoise --------------------------------------------------------


def get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers={"Host": "jinlin.example.gov.cn", **(headers or {})})
        response = connection.getresponse()
        return response.status, {name.lower(): value for name, value in response.getheaders()}, response.read()
    finally:
        connection.close()


@pytest.fixture(scope="module")
def static_server(tmp_path_factory):
    """collectstatic into a folder of its own, then the production application under uvicorn."""
    static_root = tmp_path_factory.mktemp("static")
    # Nothing listens on port 1: a page that needs the database meets an outage.
    env = production_env(
        STATIC_ROOT=str(static_root),
        LOG_LEVEL="CRITICAL",
        DATABASE_URL="postgres://jinlin@127.0.0.1:1/jinlin",
        REDIS_URL="redis://127.0.0.1:1/0",
    )
    collected = manage("collectstatic", "--no-input", "--verbosity", "0", env=env)
    assert collected.returncode == 0, collected.stderr
    port = free_port(set())
    command = [sys.executable, "-m", "uvicorn", "config.asgi:application", "--port", str(port)]
    command += ["--lifespan", "off", "--no-proxy-headers", "--log-level", "warning"]
    log = (static_root.parent / "uvicorn.log").open("wb")
    server = subprocess.Popen(  # noqa: S603 - a fixed command line of ours
        command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            assert server.poll() is None, (static_root.parent / "uvicorn.log").read_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the server did not listen in time"
                time.sleep(0.1)
        yield port, static_root
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


class TestStaticFiles:
    def test_pages_name_the_hashed_files_and_whitenoise_serves_them_compressed_for_a_year(self, static_server):
        port, static_root = static_server
        manifest = (static_root / "staticfiles.json").read_text()
        hashed = re.search(r'"css/site.css": "(css/site\.[0-9a-f]{12}\.css)"', manifest).group(1)
        assert (static_root / f"{hashed}.gz").exists()
        assert (static_root / f"{hashed}.br").exists()

        status, headers, body = get(port, f"/static/{hashed}", {"Accept-Encoding": "gzip"})
        assert status == 200
        assert headers["content-encoding"] == "gzip"
        assert "immutable" in headers["cache-control"]
        assert "max-age=315360000" in headers["cache-control"]
        assert body == (static_root / f"{hashed}.gz").read_bytes()

        status, headers, body = get(port, f"/static/{hashed}", {"Accept-Encoding": "br, gzip"})
        assert headers["content-encoding"] == "br"

        status, headers, body = get(port, f"/static/{hashed}")
        assert "content-encoding" not in headers
        assert body == (static_root / hashed).read_bytes()

    def test_the_unhashed_name_is_served_briefly_and_an_unknown_file_is_a_404(self, static_server):
        port, _static_root = static_server
        status, headers, _body = get(port, "/static/css/site.css")
        assert status == 200
        assert "immutable" not in headers["cache-control"]
        status, _headers, body = get(port, "/static/css/no-such-file.css")
        assert status == 404
        status, _headers, _body = get(port, "/static/../config/settings/base.py")
        assert status == 404

    def test_plain_http_is_sent_to_https(self, static_server):
        port, _static_root = static_server
        status, headers, _body = get(port, "/accounts/login/")
        assert status == 301
        assert headers["location"] == "https://jinlin.example.gov.cn/accounts/login/"

    def test_behind_the_proxy_pages_link_the_hashed_names(self, static_server):
        """X-Forwarded-Proto from a trusted proxy (this machine) says the request came over HTTPS."""
        port, _static_root = static_server
        status, headers, body = get(port, "/accounts/login/", {"X-Forwarded-Proto": "https"})
        assert status == 200
        assert "max-age=31536000; includeSubDomains; preload" == headers["strict-transport-security"]
        assert re.search(rb"/static/css/site\.[0-9a-f]{12}\.css", body)

    def test_a_page_that_needs_the_database_while_it_is_down_gets_503(self, static_server):
        """This server's DATABASE_URL points where nothing listens: the page says so, in seconds."""
        port, _static_root = static_server
        started = time.monotonic()
        status, headers, body = get(
            port, "/accounts/login/", {"X-Forwarded-Proto": "https", "Cookie": "sessionid=" + "x" * 32}
        )
        assert status == 503
        assert headers["retry-after"] == "5"
        assert "Briefly unavailable" in body.decode()
        assert time.monotonic() - started < 10


# --- The client address behind the proxy, and the failed-login limit ----------------------


async def asgi_request(
    method: str, path: str, *, peer: str, headers: dict[str, str] | None = None, body: bytes = b""
) -> tuple[int, dict[str, str], bytes]:
    """One request through config.asgi's application, as a server would pass it: from `peer`."""
    from config.asgi import application

    raw_headers = [(b"host", b"127.0.0.1")]
    raw_headers += [(name.lower().encode(), value.encode()) for name, value in (headers or {}).items()]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": raw_headers,
        "client": (peer, 50000),
        "server": ("127.0.0.1", 8000),
    }
    communicator = ApplicationCommunicator(application, scope)
    await communicator.send_input({"type": "http.request", "body": body, "more_body": False})
    start = await communicator.receive_output(timeout=30)
    response_headers: dict[str, str] = {}
    for name, value in start["headers"]:
        key = name.decode().lower()
        response_headers[key] = (
            f"{response_headers[key]}\n{value.decode()}" if key in response_headers else value.decode()
        )
    content = b""
    while True:
        message = await communicator.receive_output(timeout=30)
        content += message.get("body", b"")
        if not message.get("more_body"):
            break
    await communicator.wait()
    return start["status"], response_headers, content


async def failed_login(attempt: int, *, peer: str, forwarded_for: str | None = None) -> tuple[int, str]:
    """A login with a wrong password for an address nobody has (a new one each time, so that only
    the per-address limit is reached), with the CSRF cookie and token a browser would send."""
    proxy = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    status, headers, _page = await asgi_request("GET", "/accounts/login/", peer=peer, headers=proxy)
    assert status == 200
    token = re.search(r"csrftoken=([^;]+)", headers["set-cookie"]).group(1)
    form = urlencode({"login": f"nobody{attempt}@jinlin.example", "password": "wrong-password"}).encode()
    status, _headers, page = await asgi_request(
        "POST",
        "/accounts/login/",
        peer=peer,
        headers={
            **proxy,
            "Cookie": f"csrftoken={token}",
            "X-CSRFToken": token,
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept-Language": "en",
        },
        body=form,
    )
    return status, page.decode()


TOO_MANY = "Too many failed login attempts"


@pytest.mark.django_db(transaction=True)
class TestFailedLoginLimit:
    """allauth counts failed logins per client address in the cache (Redis in production): the
    11th in a minute from one address is refused with 429, whichever worker it reaches."""

    def test_the_eleventh_failed_login_in_a_minute_from_one_address_gets_429(self):
        async def scenario():
            for attempt in range(10):
                status, page = await failed_login(attempt, peer="127.0.0.1", forwarded_for="203.0.113.5")
                assert status == 200, f"attempt {attempt + 1}"
                assert "not correct" in page
                assert TOO_MANY not in page
            status, page = await failed_login(10, peer="127.0.0.1", forwarded_for="203.0.113.5")
            assert status == 429
            assert TOO_MANY in page
            # Another person behind the same proxy is not held up by the first one.
            status, page = await failed_login(11, peer="127.0.0.1", forwarded_for="203.0.113.6")
            assert status == 200
            assert TOO_MANY not in page

        asyncio.run(scenario())

    def test_a_client_cannot_choose_its_address_by_sending_the_header_itself(self):
        """From a peer that is not a trusted proxy the header is ignored: a new X-Forwarded-For
        on every try does not escape the limit."""

        async def scenario():
            for attempt in range(10):
                status, _page = await failed_login(attempt, peer="198.51.100.7", forwarded_for=f"192.0.2.{attempt}")
                assert status == 200
            status, page = await failed_login(10, peer="198.51.100.7", forwarded_for="192.0.2.99")
            assert status == 429
            assert TOO_MANY in page

        asyncio.run(scenario())

    def test_a_successful_login_is_not_refused_below_the_limit(self, resident):
        resident.set_password("right-password-123")
        resident.save()

        async def scenario():
            for attempt in range(5):
                status, _page = await failed_login(attempt, peer="127.0.0.1", forwarded_for="203.0.113.9")
                assert status == 200
            status, headers, _page = await asgi_request("GET", "/accounts/login/", peer="127.0.0.1")
            token = re.search(r"csrftoken=([^;]+)", headers["set-cookie"]).group(1)
            form = urlencode({"login": resident.email, "password": "right-password-123"}).encode()
            status, headers, _page = await asgi_request(
                "POST",
                "/accounts/login/",
                peer="127.0.0.1",
                headers={
                    "X-Forwarded-For": "203.0.113.9",
                    "Cookie": f"csrftoken={token}",
                    "X-CSRFToken": token,
                    "Content-Type": "application/x-www-form-urlencoded",
                },
                body=form,
            )
            assert status == 302
            assert "sessionid=" in headers["set-cookie"]

        asyncio.run(scenario())


# --- The site's own limits: posting and offering help -------------------------------------


@pytest.mark.django_db
class TestPostingAndClaimingLimits:
    def post_once(self, actor, community, building, number: int):
        return aid_post_create(
            **window(),
            actor=actor,
            community=community,
            category=skill(),
            title=f"请帮忙 {number}",
            description="想请邻居帮个忙。",
            place=building,
        )

    def test_posting_past_the_hourly_limit_is_refused_and_nothing_is_stored(
        self, settings, resident, community, building
    ):
        settings.POST_RATE_LIMITS = "3 per hour; 10 per day"
        for number in range(3):
            self.post_once(resident, community, building, number)
        with pytest.raises(TooFast) as refused:
            self.post_once(resident, community, building, 3)
        assert refused.value.code == "rate_limited"
        assert 0 < refused.value.retry_after <= 3600
        assert AidPost.objects.filter(author=resident).count() == 3

    def test_the_limit_is_per_person(self, settings, resident, helper, community, building):
        settings.POST_RATE_LIMITS = "1 per hour"
        self.post_once(resident, community, building, 1)
        self.post_once(helper, community, building, 2)
        assert AidPost.objects.count() == 2

    def test_the_form_says_how_long_to_wait_with_a_429(self, client, settings, resident, community, building):
        settings.POST_RATE_LIMITS = "1 per hour"
        self.post_once(resident, community, building, 1)
        client.force_login(resident)
        starts = timezone.localtime(timezone.now() + timedelta(hours=2))
        response = client.post(
            reverse("aid_posts:create"),
            {
                "community": community.pk,
                "category": skill().pk,
                "title": "再请帮忙",
                "description": "还想请邻居帮个忙。",
                "place": building.pk,
                "urgency": AidPost.Urgency.NORMAL,
                "window_starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
                "window_ends_at": (starts + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
                "seats": 1,
            },
            HTTP_ACCEPT_LANGUAGE="en",
        )
        assert response.status_code == 429
        assert "You have posted many requests in a short time." in response.content.decode()
        assert AidPost.objects.count() == 1

    def test_offering_help_past_the_limit_is_refused_and_takes_no_seat(
        self, settings, resident, helper, community, building
    ):
        settings.CLAIM_RATE_LIMITS = "2 per hour"
        posts = [self.post_once(resident, community, building, number) for number in range(3)]
        aid_post_claim(actor=helper, post=posts[0])
        aid_post_claim(actor=helper, post=posts[1])
        with pytest.raises(TooFast):
            aid_post_claim(actor=helper, post=posts[2])
        posts[2].refresh_from_db()
        assert posts[2].live_claims == 0
        assert not Claim.objects.filter(post=posts[2]).exists()

    def test_when_the_store_is_down_posting_goes_on_uncounted(self, settings, resident, community, building, caplog):
        settings.POST_RATE_LIMITS = "1 per hour"
        settings.RATE_LIMIT_STORAGE_URL = "redis://127.0.0.1:1/0"
        for number in range(2):
            self.post_once(resident, community, building, number)
        assert AidPost.objects.count() == 2
        assert "rate-limit storage unavailable" in caplog.text


# --- The 503 page while PostgreSQL or Redis is away ----------------------------------------


@pytest.mark.django_db
class TestUnavailable:
    @pytest.mark.parametrize(
        "error",
        [
            OperationalError("connection failed: the database system is shutting down"),
            redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused."),
        ],
    )
    def test_a_request_that_meets_an_outage_gets_503_with_retry_after(self, client, resident, error):
        client.force_login(resident)
        client.raise_request_exception = False
        with mock.patch("aid_posts.views.requests.selectors.post_list", side_effect=error):
            response = client.get(reverse("home"))
        assert response.status_code == 503
        assert response["Retry-After"] == "5"
        page = response.content.decode()
        assert "Briefly unavailable" in page
        assert "暂时无法访问" in page

    def test_any_other_error_is_still_a_500(self, client, resident):
        client.force_login(resident)
        client.raise_request_exception = False
        with mock.patch("aid_posts.views.requests.selectors.post_list", side_effect=ValueError("a bug")):
            response = client.get(reverse("home"))
        assert response.status_code == 500
        assert "Retry-After" not in response


# --- Sessions while Redis is away ----------------------------------------------------------------


@pytest.mark.django_db
class TestSessionsWithoutTheCache:
    """neighbors.sessions: read from the cache, written through to the database; while the cache
    fails, read from the database; a logout is not done half."""

    @pytest.fixture
    def store(self, resident):
        from neighbors.sessions import SessionStore

        session = SessionStore()
        session["_auth_user_id"] = str(resident.pk)
        session.create()
        return SessionStore, session.session_key

    def test_a_session_is_read_from_the_database_when_the_cache_fails(self, store, caplog):
        session_store, key = store
        down = redis.ConnectionError("Connection refused")
        with (
            mock.patch("django.core.cache.backends.locmem.LocMemCache.get", side_effect=down),
            mock.patch("django.core.cache.backends.locmem.LocMemCache.set", side_effect=down),
            mock.patch("django.core.cache.backends.redis.RedisCache.get", side_effect=down),
            mock.patch("django.core.cache.backends.redis.RedisCache.set", side_effect=down),
        ):
            assert session_store(key).load()["_auth_user_id"]
        assert "session cache unavailable" in caplog.text

    def test_an_unknown_session_is_empty_either_way(self, store):
        session_store, _key = store
        assert session_store("no-such-session-key-0123456789").load() == {}

    def test_logging_out_while_the_cache_fails_is_refused_not_done_half(self, store):
        session_store, key = store
        down = redis.ConnectionError("Connection refused")
        with (
            mock.patch("django.core.cache.backends.locmem.LocMemCache.delete", side_effect=down),
            mock.patch("django.core.cache.backends.redis.RedisCache.delete", side_effect=down),
            pytest.raises(redis.ConnectionError),
        ):
            session_store(key).delete()
        # Still there, whole: the next try, with Redis back, logs out.
        assert Session.objects.filter(session_key=key).exists()
        session_store(key).delete()
        assert not Session.objects.filter(session_key=key).exists()
        assert session_store(key).load() == {}


# --- Sockets while PostgreSQL or Redis is away -------------------------------------------------


class TestSocketsUnavailable:
    """config.errors.SocketsUnavailable: a handshake that meets an outage gets 503 with Retry-After
    (or a close before accept where the server cannot answer a handshake with a response), an open
    socket 1013; anything else is not its business."""

    @staticmethod
    def run(app, extensions: dict) -> list[dict]:
        from config.errors import SocketsUnavailable

        sent: list[dict] = []

        async def receive():
            return {"type": "websocket.connect"}

        async def send(message):
            sent.append(message)

        scope = {"type": "websocket", "path": "/ws/stream/", "extensions": extensions}
        asyncio.run(SocketsUnavailable(app)(scope, receive, send))
        return sent

    def test_a_handshake_that_meets_an_outage_is_refused_with_503(self):
        async def app(scope, receive, send):
            raise OperationalError("the database system is shutting down")

        sent = self.run(app, {"websocket.http.response": {}})
        assert sent[0]["type"] == "websocket.http.response.start"
        assert sent[0]["status"] == 503
        assert (b"retry-after", b"5") in sent[0]["headers"]
        assert sent[1]["type"] == "websocket.http.response.body"

    def test_without_the_response_extension_the_handshake_is_closed(self):
        async def app(scope, receive, send):
            raise redis.ConnectionError("Connection refused")

        assert self.run(app, {}) == [{"type": "websocket.close", "code": 1013}]

    def test_an_open_socket_that_meets_an_outage_is_closed_with_1013(self):
        async def app(scope, receive, send):
            await send({"type": "websocket.accept"})
            raise OperationalError("server closed the connection unexpectedly")

        sent = self.run(app, {"websocket.http.response": {}})
        assert sent == [{"type": "websocket.accept"}, {"type": "websocket.close", "code": 1013}]

    def test_a_socket_already_closed_gets_nothing_more(self):
        async def app(scope, receive, send):
            await send({"type": "websocket.close", "code": 4403})
            raise OperationalError("late")

        assert self.run(app, {}) == [{"type": "websocket.close", "code": 4403}]

    def test_other_errors_are_not_hidden(self):
        async def app(scope, receive, send):
            raise ValueError("a bug")

        with pytest.raises(ValueError, match="a bug"):
            self.run(app, {})
