"""How fast posts_near answers "open requests within 5 km" in a crowded district.

Run: DJANGO_SETTINGS_MODULE=config.settings.test .venv/bin/python bench/nearby.py [--rows 100000] [--database sqlite|postgres]

The district: 10,000 buildings in 100 communities packed into 50 × 50 km (each community
a 5 × 5 km square of 100 buildings), and `--rows` open requests spread over them. The
viewer is an approved member of every community, so that everything is visible and
nothing is cut by the communities, only by the distance. posts_near runs from 50 random
buildings; the script prints p50/p95 with how many buildings the box held, how many were
within the radius, how many needed the geodesic, and how many request rows were counted.

The database is the benchmark's own, never the dev or test one: a SQLite file under
test-artifacts/ (kept, and reused by later runs and by bench/nearby_page.py), or a
PostgreSQL database `bench_nearby_<rows>` on the server of DATABASE_URL (or
127.0.0.1:5432), created here and dropped at the end unless --keep.
"""

import argparse
import math
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import django

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COMMUNITIES_PER_SIDE = 10  # 10 × 10 = 100 communities
BUILDINGS_PER_COMMUNITY = 100
COMMUNITY_SIDE_KM = 5.0  # 10 × 5 km = a 50 × 50 km district
CENTRE = (24.48, 118.10)  # Xiamen
AUTHORS = 2_000
BATCH = 50_000
VIEWER = "bench-nearby-viewer"
SEED = 20261123
# (normal, soon, urgent): most requests can wait a day.
URGENCY_WEIGHTS = (70, 20, 10)


def sqlite_path(rows: int) -> Path:
    return ROOT / "test-artifacts" / f"bench-nearby-{rows}.sqlite3"


def database_url(database: str, rows: int) -> str:
    if database == "sqlite":
        return f"sqlite:///{sqlite_path(rows)}"
    server = urlsplit(os.environ.get("DATABASE_URL", "") or "postgres://postgres@127.0.0.1:5432/postgres")
    if not server.scheme.startswith("postgres"):
        server = urlsplit("postgres://postgres@127.0.0.1:5432/postgres")
    return urlunsplit(server._replace(path=f"/bench_nearby_{rows}"))


def _postgres_admin(url: str, sql: str) -> None:
    """CREATE or DROP DATABASE, which run outside a transaction, from the server's maintenance database."""
    import psycopg

    maintenance = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as admin:
        admin.execute(sql)


def setup(database: str, rows: int, *, rebuild: bool) -> str:
    """Point Django at the benchmark's database (before it reads its settings) and set Django up."""
    url = database_url(database, rows)
    if database == "sqlite":
        path = sqlite_path(rows)
        path.parent.mkdir(exist_ok=True)
        if rebuild:
            for leftover in path.parent.glob(f"{path.name}*"):
                leftover.unlink()
    else:
        name = urlsplit(url).path.lstrip("/")
        if rebuild:
            _postgres_admin(url, f'DROP DATABASE IF EXISTS "{name}"')
        try:
            _postgres_admin(url, f'CREATE DATABASE "{name}"')
        except Exception as error:  # already there: reused if complete, see ensure_district
            if "already exists" not in str(error):
                raise
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    django.setup()
    return url


def drop_postgres(url: str) -> None:
    from django.db import connections

    connections.close_all()
    _postgres_admin(url, f'DROP DATABASE IF EXISTS "{urlsplit(url).path.lstrip("/")}"')


def _build_people_and_places(rng: random.Random) -> None:
    from django.conf import settings
    from django.contrib.auth.hashers import make_password

    from neighbors.models import Community, Consent, Membership, Place, Profile, Street, User

    street = Street.objects.create(name="思明区 (bench)")
    communities = Community.objects.bulk_create(
        Community(street=street, name=f"社区{n:03d}") for n in range(COMMUNITIES_PER_SIDE**2)
    )
    km_lat = 1 / 110.574
    km_lng = 1 / (111.320 * math.cos(math.radians(CENTRE[0])))
    half = COMMUNITIES_PER_SIDE * COMMUNITY_SIDE_KM / 2
    places = []
    for index, community in enumerate(communities):
        row, column = divmod(index, COMMUNITIES_PER_SIDE)
        for n in range(BUILDINGS_PER_COMMUNITY):
            north = (row + rng.random()) * COMMUNITY_SIDE_KM - half
            east = (column + rng.random()) * COMMUNITY_SIDE_KM - half
            places.append(
                Place(
                    community=community,
                    name=f"{n + 1}号楼",
                    latitude=Decimal(f"{CENTRE[0] + north * km_lat:.6f}"),
                    longitude=Decimal(f"{CENTRE[1] + east * km_lng:.6f}"),
                )
            )
    Place.objects.bulk_create(places, batch_size=5_000)
    unusable = make_password(None)  # nobody logs in as these
    users = User.objects.bulk_create(
        [User(username=VIEWER, password=unusable)]
        + [User(username=f"bench-author-{n}", password=unusable) for n in range(AUTHORS)],
        batch_size=5_000,
    )
    Profile.objects.bulk_create([Profile(user=user, display_name=user.username) for user in users], batch_size=5_000)
    viewer = users[0]
    Consent.objects.bulk_create(
        Consent(user=viewer, kind=kind, version=settings.CONSENT_VERSIONS[kind])
        for kind in (Consent.Kind.PRIVACY_NOTICE, Consent.Kind.LOCATION)
    )
    homes = {}
    for place in Place.objects.order_by("pk").values("pk", "community_id"):
        homes.setdefault(place["community_id"], place["pk"])
    Membership.objects.bulk_create(
        Membership(user=viewer, community_id=community_id, home_place_id=place_id, status=Membership.Status.APPROVED)
        for community_id, place_id in homes.items()
    )


def _request_rows(rows: int, rng: random.Random, adapt: Callable) -> tuple[list[str], Iterator[tuple]]:
    """The aid_posts_aidpost columns and a generator of rows for them, defaults filled from the model."""
    from django.utils import timezone

    from aid_posts.models import AidPost
    from neighbors.models import Place, User
    from talent_pool.models import Skill

    places = list(Place.objects.values_list("pk", "community_id"))
    authors = list(User.objects.filter(username__startswith="bench-author-").values_list("pk", flat=True))
    categories = list(Skill.objects.values_list("pk", flat=True))
    fields = [field for field in AidPost._meta.concrete_fields if not field.primary_key]
    columns = [field.column for field in fields]
    defaults = {field.attname: field.get_default() for field in fields}
    now = timezone.now()
    urgencies = list(AidPost.Urgency.values)

    def generate() -> Iterator[tuple]:
        for n in range(rows):
            place_id, community_id = rng.choice(places)
            created = now - timedelta(seconds=rng.randrange(30 * 86_400))
            starts = now + timedelta(minutes=rng.randrange(60, 14 * 24 * 60))
            ends = starts + timedelta(hours=rng.choice((1, 2, 3, 4, 8)))
            values = {
                **defaults,
                "community_id": community_id,
                "author_id": rng.choice(authors),
                "category_id": rng.choice(categories),
                "title": f"请帮忙 {n}",
                "description": "需要邻居帮忙，时间可以商量。",
                "urgency": rng.choices(urgencies, URGENCY_WEIGHTS)[0],
                "window_starts_at": adapt(starts),
                "window_ends_at": adapt(ends),
                "place_id": place_id,
                "seats": rng.choice((1, 1, 1, 2, 3)),
                "live_claims": 0,
                "expires_at": adapt(ends),
                "status": AidPost.Status.OPEN.value,
                "created_at": adapt(created),
                "updated_at": adapt(created),
            }
            yield tuple(values[field.attname] for field in fields)

    return columns, generate()


def _load_requests(rows: int, rng: random.Random) -> None:
    """Raw inserts: executemany in batches on SQLite, COPY on PostgreSQL (the ORM would take many minutes)."""
    from django.db import connection, transaction

    from aid_posts.models import AidPost

    table = AidPost._meta.db_table
    if connection.vendor == "postgresql":
        columns, generated = _request_rows(rows, rng, lambda value: value)
        with connection.cursor() as cursor, transaction.atomic():
            with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in generated:
                    copy.write_row(row)
        return
    columns, generated = _request_rows(rows, rng, connection.ops.adapt_datetimefield_value)
    # Table and column names come from the model, not from input.
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"  # noqa: S608
    with connection.cursor() as cursor, transaction.atomic():
        batch = []
        for row in generated:
            batch.append(row)
            if len(batch) == BATCH:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)


def ensure_district(rows: int) -> None:
    """Build the district unless a complete one is already there."""
    from django.core.management import call_command
    from django.db import connection

    from aid_posts.models import AidPost
    from neighbors.models import User

    call_command("migrate", verbosity=0)
    if User.objects.filter(username=VIEWER).exists() and AidPost.objects.count() == rows:
        print(f"reusing the district in {connection.settings_dict['NAME']}")
        return
    if User.objects.filter(username=VIEWER).exists():
        raise SystemExit("the benchmark database is incomplete (an interrupted build?): run again with --rebuild")
    rng = random.Random(SEED)
    start = time.perf_counter()
    _build_people_and_places(rng)
    _load_requests(rows, rng)
    with connection.cursor() as cursor:
        # Statistics for the planner; on PostgreSQL VACUUM also sets the visibility map that
        # lets the grouped count read the partial index alone.
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    print(f"built {rows:,} requests in {time.perf_counter() - start:.0f} s into {connection.settings_dict['NAME']}")


def index_as_in_models() -> None:
    """A database built before the index changed (it is kept between runs) gets the models' one."""
    from django.db import connection

    from aid_posts.models import AidPost

    (wanted,) = [index for index in AidPost._meta.indexes if index.name == "aidpost_open_by_place"]
    with connection.cursor() as cursor:
        present = connection.introspection.get_constraints(cursor, AidPost._meta.db_table)[wanted.name]["columns"]
    if len(present) == len(wanted.fields):
        return
    start = time.perf_counter()
    with connection.schema_editor() as editor:
        editor.execute(f'DROP INDEX "{wanted.name}"')
        editor.add_index(AidPost, wanted)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"index aidpost_open_by_place rebuilt on {', '.join(wanted.fields)} ({time.perf_counter() - start:.0f} s)")


class QueryCounter:
    def __init__(self) -> None:
        self.queries = 0

    def __call__(self, execute, sql, params, many, context):
        self.queries += 1
        return execute(sql, params, many, context)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1)]


def measure(label: str, origins: list, **kwargs) -> None:
    from django.db import connection

    from aid_posts.selectors.nearby import posts_near
    from neighbors.models import User

    viewer = User.objects.get(username=VIEWER)
    posts_near(viewer, origin=origins[0], **kwargs)  # warm caches and imports
    times, boxes, inside, checks, counted, queries = [], [], [], [], [], set()
    for origin in origins:
        counter = QueryCounter()
        with connection.execute_wrapper(counter):
            start = time.perf_counter()
            page = posts_near(viewer, origin=origin, **kwargs)
            times.append((time.perf_counter() - start) * 1000)
        boxes.append(page.buildings_in_box)
        inside.append(page.buildings_in_radius)
        checks.append(page.geodesic_checks)
        counted.append(page.total)
        queries.add(counter.queries)
    print(
        f"{label}: p50 {statistics.median(times):.1f} ms, p95 {percentile(times, 0.95):.1f} ms, "
        f"max {max(times):.1f} ms over {len(origins)} origins; "
        f"queries {'/'.join(map(str, sorted(queries)))}\n"
        f"    buildings in the box {statistics.mean(boxes):.0f} (max {max(boxes)}), "
        f"within the radius {statistics.mean(inside):.0f} (max {max(inside)}), "
        f"geodesic checks {statistics.mean(checks):.0f}; request rows counted {statistics.mean(counted):,.0f} "
        f"(max {max(counted):,})"
    )


def cold_pass(origins: list, radius_m: int) -> None:
    """One untimed-for-the-table pass over every origin first: a database file larger than the
    free memory is read from disk the first time (1M rows: 486 MB on SQLite), which says how
    fast the disk is, not the query. Printed, so that the cold figure is not lost."""
    from aid_posts.selectors.nearby import posts_near
    from neighbors.models import User

    viewer = User.objects.get(username=VIEWER)
    times = []
    for origin in origins:
        start = time.perf_counter()
        posts_near(viewer, origin=origin, radius_m=radius_m)
        times.append((time.perf_counter() - start) * 1000)
    print(f"cold pass (caches filling): p50 {statistics.median(times):.1f} ms, p95 {percentile(times, 0.95):.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="open requests in the district")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--origins", type=int, default=50)
    parser.add_argument("--radius", type=int, default=5000, help="metres")
    parser.add_argument("--rebuild", action="store_true", help="build the district again even if complete")
    parser.add_argument("--keep", action="store_true", help="PostgreSQL: keep the database for the next run")
    args = parser.parse_args()

    url = setup(args.database, args.rows, rebuild=args.rebuild)
    try:
        from django.db import connection

        from neighbors.models import Place
        from talent_pool.models import Skill

        ensure_district(args.rows)
        index_as_in_models()
        version = connection.cursor().connection.info.server_version if connection.vendor == "postgresql" else None
        engine = f"PostgreSQL {version}" if version else f"SQLite {connection.Database.sqlite_version}"
        print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {engine}, {args.rows:,} open requests")
        rng = random.Random(SEED + 1)
        ids = sorted(Place.objects.values_list("pk", flat=True))
        origins = list(Place.objects.filter(pk__in=rng.sample(ids, args.origins)))
        rng.shuffle(origins)
        radius = f"{args.radius / 1000:g} km"
        cold_pass(origins, args.radius)
        measure(f"{radius}, nearest first, page 1", origins, radius_m=args.radius)
        measure(f"{radius}, most urgent first, page 1", origins, radius_m=args.radius, sort="urgency")
        measure(f"{radius}, nearest first, page 5", origins, radius_m=args.radius, page=5)
        category = Skill.objects.order_by("pk").first()
        measure(f"{radius}, one category, nearest first", origins, radius_m=args.radius, category=category)
    finally:
        if args.database == "postgres" and not args.keep:
            drop_postgres(url)


if __name__ == "__main__":
    main()
