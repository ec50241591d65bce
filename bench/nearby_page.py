"""The nearby page's throughput, as a share of a trivial view's on the same server, and its queries.

Run: DJANGO_SETTINGS_MODULE=config.settings.test .venv/bin/python bench/nearby_page.py [--rows 100000]

Uses the district of bench/nearby.py (its SQLite file under test-artifacts/, built first
if missing). One uvicorn worker serves the site from a subprocess; a client process
with a few threads, each on its own keep-alive connection, asks as fast as answers come,
first for a trivial view (an "ok" through the whole middleware stack, the floor any page
pays), then for the nearby page at 1 km (the default) and at 5 km from 20 buildings,
logged in as a resident of one community in the middle of the district (added here if
missing), then as bench/nearby.py's viewer who belongs to all 100 communities. It prints
the requests per second of each and the page's share of the trivial view's.

Then, in this process, the page's query count for 10, 20 and 50 rows a page, to show
that it does not grow with the page.

The server imports this module (`--app-dir bench`): `application` is the site's ASGI
application with one more URL, the trivial view, added in front of the site's own.
"""

import argparse
import http.client
import multiprocessing
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

TRIVIAL_PATH = "/bench/trivial/"
THREADS = 4
SECONDS = 10
ORIGINS = 20
SERVER_START_TIMEOUT = 30


# --- The server side: imported by uvicorn in the subprocess ------------------------------


def _server_application():
    import django
    from django.conf import settings

    django.setup()
    # Before the first request: the resolver reads ROOT_URLCONF then, and caches by its value.
    settings.ROOT_URLCONF = "nearby_page"
    from config.asgi import application as site

    return site


def trivial(request):
    from django.http import HttpResponse

    return HttpResponse("ok", content_type="text/plain")


def __getattr__(name: str):
    # Module attributes made on first use, so that importing this file as a script does not
    # set Django up: `urlpatterns` for the URLconf and `application` for uvicorn.
    if name == "urlpatterns":
        from django.urls import path

        from config.urls import urlpatterns as site_patterns

        return [path(TRIVIAL_PATH.strip("/") + "/", trivial), *site_patterns]
    if name == "application":
        return _server_application()
    raise AttributeError(name)


# --- The client: a process of its own, so that it does not share the server's GIL -----------


def _hammer(port: int, paths: list[str], cookie: str, seconds: float, threads: int) -> tuple[int, list[float], int]:
    """(answers, latencies in ms, errors) from `threads` keep-alive connections for `seconds`."""
    deadline = time.perf_counter() + seconds
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def worker(offset: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, wrong, index = [], 0, offset
        while time.perf_counter() < deadline:
            path = paths[index % len(paths)]
            index += 1
            start = time.perf_counter()
            try:
                connection.request("GET", path, headers={"Cookie": cookie, "Accept-Language": "zh-hans"})
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    wrong += 1
            except (OSError, http.client.HTTPException):
                wrong += 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            mine.append((time.perf_counter() - start) * 1000)
        connection.close()
        with lock:
            latencies.extend(mine)
            errors[0] += wrong

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return len(latencies), latencies, errors[0]


def load(port: int, paths: list[str], cookie: str, seconds: float = SECONDS) -> tuple[float, float, float]:
    """Requests per second, p50 and p95 latency (ms); a short warm-up first."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        pool.apply(_hammer, (port, paths, cookie, 1.0, THREADS))
        answers, latencies, errors = pool.apply(_hammer, (port, paths, cookie, seconds, THREADS))
    if errors:
        raise SystemExit(f"{errors} requests failed or were not 200 (e.g. {paths[0]})")
    latencies.sort()
    return answers / seconds, statistics.median(latencies), latencies[int(len(latencies) * 0.95)]


# --- The parent: district, session, server, figures ------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(port: int, database_url: str) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "nearby_page:application",
        "--app-dir",
        str(ROOT / "bench"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--log-level",
        "warning",
        "--no-access-log",
        "--lifespan",
        "off",
    ]
    server = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603 (our own interpreter and arguments)
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("the server stopped while starting")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", TRIVIAL_PATH)
            if connection.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit(f"the server did not answer within {SERVER_START_TIMEOUT} s")


def session_cookie(username: str) -> str:
    from django.conf import settings
    from django.test import Client

    from neighbors.models import User

    client = Client()
    client.force_login(User.objects.get(username=username))
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


RESIDENT = "bench-nearby-resident"


def ensure_resident() -> str:
    """A resident of one community in the middle of the district, as most people are: the
    district's viewer belongs to all 100, which makes a menu of 100 homes."""
    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from neighbors.models import Community, Consent, Membership, Place, Profile, User

    if not User.objects.filter(username=RESIDENT).exists():
        with transaction.atomic():
            user = User.objects.create(username=RESIDENT, password=make_password(None))
            Profile.objects.create(user=user, display_name=RESIDENT)
            Consent.objects.create(user=user, kind=Consent.Kind.LOCATION, version=settings.CONSENT_VERSIONS["location"])
            middle = Community.objects.get(name=f"社区{district_middle():03d}")
            Membership.objects.create(
                user=user,
                community=middle,
                home_place=Place.objects.filter(community=middle).order_by("pk").first(),
                status=Membership.Status.APPROVED,
            )
    return RESIDENT


def district_middle() -> int:
    import nearby as district

    side = district.COMMUNITIES_PER_SIDE
    return (side // 2) * side + side // 2


def page_paths(username: str, radius_m: int) -> list[str]:
    """The page from buildings of the person's communities, a different one each time round."""
    from neighbors.models import Place, User
    from neighbors.permissions import communities_visible_to

    rng = random.Random(radius_m)
    communities = communities_visible_to(User.objects.get(username=username))
    ids = sorted(Place.objects.filter(community__in=communities).values_list("pk", flat=True))
    return [f"/posts/nearby/?building={pk}&radius={radius_m}" for pk in rng.sample(ids, ORIGINS)]


def query_counts(username: str, path: str) -> dict[int, tuple[int, int]]:
    """Queries and rows for 10, 20 and 50 rows a page, through the whole view and template."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from aid_posts.views import nearby
    from neighbors.models import User

    client = Client(HTTP_HOST="127.0.0.1")  # not "testserver": this is no test run
    client.force_login(User.objects.get(username=username))
    client.get(path)
    counts = {}
    for size in (10, 20, 50):
        nearby.PAGE_SIZE = size
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        assert response.status_code == 200, response.status_code
        counts[size] = (len(queries.captured_queries), response.content.decode().count('class="card post nearby-row"'))
    nearby.PAGE_SIZE = 20
    return counts


def main() -> None:
    import nearby as district

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="open requests in the district of bench/nearby.py")
    parser.add_argument("--seconds", type=float, default=SECONDS, help="per measurement")
    args = parser.parse_args()

    url = district.setup("sqlite", args.rows, rebuild=False)
    district.ensure_district(args.rows)
    district.index_as_in_models()
    from django.db import connections

    viewers = {"a resident of one community": ensure_resident(), "a member of all 100": district.VIEWER}
    cookies = {label: session_cookie(username) for label, username in viewers.items()}
    paths = {
        (label, radius): page_paths(username, radius) for label, username in viewers.items() for radius in (1000, 5000)
    }
    counts = query_counts(district.VIEWER, paths["a member of all 100", 1000][0])
    connections.close_all()

    port = free_port()
    server = start_server(port, url)
    try:
        print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, one uvicorn worker, {THREADS} client threads")
        print(f"{args.rows:,} open requests, {args.seconds:g} s per measurement")
        any_cookie = next(iter(cookies.values()))
        trivial_rps, p50, p95 = load(port, [TRIVIAL_PATH], any_cookie, args.seconds)
        print(f"trivial view: {trivial_rps:.0f} req/s (p50 {p50:.1f} ms, p95 {p95:.1f} ms)")
        for (label, radius), urls in paths.items():
            rps, p50, p95 = load(port, urls, cookies[label], args.seconds)
            print(
                f"nearby {radius / 1000:g} km, {label}: {rps:.0f} req/s (p50 {p50:.1f} ms, p95 {p95:.1f} ms), "
                f"{rps / trivial_rps:.0%} of the trivial view"
            )
    finally:
        server.terminate()
        server.wait(10)
    for size, (queries, rows) in counts.items():
        print(f"page size {size}: {queries} queries for {rows} rows")


if __name__ == "__main__":
    main()
