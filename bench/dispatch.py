"""How long smart dispatch (智能派发) takes to rank a talent pool of 10,000 for one request.

Run: .venv/bin/python bench/dispatch.py [--postgres postgres://postgres@127.0.0.1:5432/postgres]

Builds a throwaway database (a SQLite file under test-artifacts/, and with --postgres a
database created on that server and dropped afterwards) holding two pools of 10,000 talents,
each with weekly slots, rated help, live claims, recent dispatches and a few blocks, and times
`rank_talents` for three requests:

- "district": the pool spread over a district's 40 communities (250 talents each, homes in a
  7 × 5 km area), each talent offering 1–3 of 12 categories. Only the request's community is
  ranked, so the SQL cut leaves a few dozen: the everyday case;
- "one community, skills spread": all 10,000 in one community of 200 buildings over 4 × 4 km,
  the category offered by about one talent in six;
- "one community, every talent fits": the same, with a category all 10,000 offer: the worst
  case, where the SQL cut by skill leaves everyone and only each one's own radius thins them.

Each is timed for the top three (what `dispatch_for_post` asks for) and for the whole ordered
list, over RUNS runs after WARMUP: the median and p95 of the wall-clock time, the median CPU
time, and the number of talents after the SQL cut and of candidates. Each database runs in
its own process, as Django is set up once per process.
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import time as clock
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TALENTS = 10_000
CATEGORIES = 12
DISTRICT_COMMUNITIES = (8, 5)  # a grid of communities, 0.9 km apart
DISTRICT_BUILDINGS = 25
DENSE_BUILDINGS = 200
OTHER_POSTS = 300
LIVE_CLAIMS = 600
RECENT_DISPATCHES = 900
RUNS = 30
WARMUP = 3
SEED = 20261123
CENTRE = (24.4781, 118.1453)  # Siming, Xiamen
KM_IN_DEGREES = 0.009
RADII_M = [500, 1000, 2000, 3000, 5000, 10_000]
UNUSABLE_PASSWORD = "!"  # what set_unusable_password stores, without hashing 20,000 times  # noqa: S105


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _degrees(value: float) -> Decimal:
    return Decimal(f"{value:.6f}")


def _places(rng: random.Random, community, centre: tuple[float, float], count: int, spread_km: float) -> list:
    """`count` buildings of `community` within ± spread_km of `centre`, the first at the centre."""
    from neighbors.models import Place

    offsets = [(0.0, 0.0)] + [
        (rng.uniform(-spread_km, spread_km), rng.uniform(-spread_km, spread_km)) for _ in range(count - 1)
    ]
    return Place.objects.bulk_create(
        [
            Place(
                community=community,
                name=str(number),
                latitude=_degrees(centre[0] + north * KM_IN_DEGREES),
                longitude=_degrees(centre[1] + east * KM_IN_DEGREES),
            )
            for number, (north, east) in enumerate(offsets)
        ]
    )


def _pool(rng: random.Random, *, label: str, homes: list, categories: list, everyone_offers=None) -> list:
    """10,000 approved members with talent profiles, living in `homes` ([(community, places)]),
    offering 1–3 of `categories` (and `everyone_offers`, when given), with what scores read."""
    from django.conf import settings
    from django.utils import timezone

    from neighbors.models import Consent, Membership, Profile, User
    from talent_pool.models import AvailabilitySlot, HelpRecord, TalentProfile, TalentSkill

    now = timezone.now()
    users = User.objects.bulk_create(
        [User(username=f"{label}-{n}", password=UNUSABLE_PASSWORD) for n in range(TALENTS)], batch_size=2000
    )
    Profile.objects.bulk_create(
        [Profile(user=user, display_name=user.username, is_minor=rng.random() < 0.01) for user in users]
    )
    location = settings.CONSENT_VERSIONS[Consent.Kind.LOCATION]
    Consent.objects.bulk_create(
        [Consent(user=user, kind=Consent.Kind.LOCATION, version=location) for user in users if rng.random() < 0.95]
    )
    memberships = []
    for user in users:
        community, places = rng.choice(homes)
        memberships.append(
            Membership(user=user, community=community, home_place=rng.choice(places), status=Membership.Status.APPROVED)
        )
    Membership.objects.bulk_create(memberships)
    profiles = TalentProfile.objects.bulk_create(
        [
            TalentProfile(user=user, accepting_requests=rng.random() < 0.9, service_radius_m=rng.choice(RADII_M))
            for user in users
        ]
    )
    skills = []
    for profile in profiles:
        offered = rng.sample(categories, rng.randint(1, 3)) + ([everyone_offers] if everyone_offers else [])
        skills += [
            TalentSkill(
                talent=profile,
                skill=category,
                level=rng.choice(TalentSkill.Level.values),
                verified_at=now if rng.random() < 0.3 else None,
            )
            for category in offered
        ]
    TalentSkill.objects.bulk_create(skills, batch_size=5000)
    slots = []
    for profile in profiles:
        for weekday in rng.sample(range(7), rng.randint(0, 3)):
            starts = rng.randint(8, 18)
            slots.append(
                AvailabilitySlot(talent=profile, weekday=weekday, starts_at=clock(starts), ends_at=clock(starts + 3))
            )
    AvailabilitySlot.objects.bulk_create(slots, batch_size=5000)
    HelpRecord.objects.bulk_create(
        [
            HelpRecord(
                user=user,
                skill=rng.choice(categories),
                hours=Decimal("1.5"),
                rating=rng.choice([None, 3, 4, 4, 5, 5]),
                source=f"bench:{user.pk}:{n}",
            )
            for user in users
            for n in range(rng.randint(0, 6))
        ],
        batch_size=5000,
    )
    return users


def _activity(rng: random.Random, *, community, places: list, author, users: list, categories: list) -> None:
    """Other requests with live claims and recent dispatches (load and fairness), and blocks."""
    from aid_posts.models import Claim, Dispatch
    from neighbors.models import Block

    others = [
        request(community, author, rng.choice(categories), rng.choice(places), f"other {n}") for n in range(OTHER_POSTS)
    ]
    others = type(others[0]).objects.bulk_create(others)
    pairs = {(rng.choice(others).pk, rng.choice(users).pk) for _ in range(LIVE_CLAIMS)}
    Claim.objects.bulk_create([Claim(post_id=post, helper_id=helper) for post, helper in pairs])
    pairs = {(rng.choice(others).pk, rng.choice(users).pk) for _ in range(RECENT_DISPATCHES)}
    Dispatch.objects.bulk_create([Dispatch(post_id=post, talent_id=talent) for post, talent in pairs])
    Block.objects.bulk_create([Block(blocker=author, blocked=user) for user in rng.sample(users, 20)])


def request(community, author, category, place, title: str):
    from django.utils import timezone

    from aid_posts.models import AidPost

    starts = timezone.now() + timedelta(days=1)
    return AidPost(
        community=community,
        author=author,
        category=category,
        title=title,
        description="bench",
        place=place,
        window_starts_at=starts,
        window_ends_at=starts + timedelta(hours=3),
        expires_at=starts + timedelta(hours=3),
    )


def populate() -> list:
    """Both pools and the three requests ranked against them."""
    from django.db import transaction

    from neighbors.models import Community, Membership, Profile, Street, User
    from talent_pool.models import Skill

    rng = random.Random(SEED)
    with transaction.atomic():
        street = Street.objects.create(name="bench street")
        categories = Skill.objects.bulk_create(
            [Skill(code=f"bench-{n}", name_zh_hans=f"技能{n}", name_en=f"skill {n}") for n in range(CATEGORIES + 1)]
        )
        universal, categories = categories[0], categories[1:]

        columns, rows = DISTRICT_COMMUNITIES
        district = []
        for number in range(columns * rows):
            community = Community.objects.create(street=street, name=f"district {number}")
            centre = (
                CENTRE[0] + (number // columns - rows / 2) * 0.9 * KM_IN_DEGREES,
                CENTRE[1] + (number % columns - columns / 2) * 0.9 * KM_IN_DEGREES,
            )
            district.append((community, _places(rng, community, centre, DISTRICT_BUILDINGS, 0.4)))
        dense = Community.objects.create(street=street, name="dense")
        dense_places = _places(rng, dense, CENTRE, DENSE_BUILDINGS, 2.0)

        author = User.objects.create(username="bench-author", password=UNUSABLE_PASSWORD)
        Profile.objects.create(user=author, display_name="author")
        for community, places in [*district, (dense, dense_places)]:
            Membership.objects.create(
                user=author, community=community, home_place=places[0], status=Membership.Status.APPROVED
            )
        district_users = _pool(rng, label="district", homes=district, categories=categories)
        dense_users = _pool(
            rng, label="dense", homes=[(dense, dense_places)], categories=categories, everyone_offers=universal
        )
        home, home_places = district[0]
        _activity(rng, community=home, places=home_places, author=author, users=district_users, categories=categories)
        _activity(rng, community=dense, places=dense_places, author=author, users=dense_users, categories=categories)
        posts = [
            request(home, author, categories[0], home_places[0], "district"),
            request(dense, author, categories[0], dense_places[0], "one community, skills spread"),
            request(dense, author, universal, dense_places[0], "one community, every talent fits"),
        ]
        for post in posts:
            post.save()
    return posts


def time_ranking(post, limit: int | None) -> dict[str, float]:
    """Median and p95 of the wall-clock time, and the median CPU time of this process (with
    SQLite, the query runs in it too: CPU time is the cost without waiting for a busy core)."""
    from aid_posts.selectors.dispatch import rank_talents

    for _ in range(WARMUP):
        rank_talents(post, limit=limit)
    wall, cpu = [], []
    for _ in range(RUNS):
        started, started_cpu = time.perf_counter(), time.process_time()
        rank_talents(post, limit=limit)
        cpu.append((time.process_time() - started_cpu) * 1000)
        wall.append((time.perf_counter() - started) * 1000)
    return {"median": statistics.median(wall), "p95": percentile(wall, 0.95), "cpu": statistics.median(cpu)}


def report(posts, label: str) -> None:
    from django.conf import settings
    from django.utils import timezone

    from aid_posts.selectors.dispatch import MEMBERSHIP, _building_distances, _eligible, _reach_q, rank_talents

    print(f"{label} (load average {os.getloadavg()[0]:.1f})")
    for post in posts:
        reach = _reach_q(_building_distances(post), prefix=MEMBERSHIP)
        rows = _eligible(post, timezone.localdate(), reach, None).count()
        candidates = len(rank_talents(post))
        print(f"  {post.title}: {TALENTS} talents, {rows} after the SQL cut, {candidates} candidates")
        for limit in (settings.DISPATCH_NOTIFY_TOP, None):
            figures = time_ranking(post, limit)
            shown = f"top {limit}" if limit else "whole list"
            print(
                f"    {shown}: median {figures['median']:.1f} ms, p95 {figures['p95']:.1f} ms, "
                f"CPU median {figures['cpu']:.1f} ms ({RUNS} runs)"
            )


def run(database_url: str) -> None:
    """In a fresh process: set Django up on the throwaway database, fill it, time, print."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    posts = populate()
    with connection.cursor() as cursor:
        # As a live database would be: the bulk load's write-ahead log folded into the file,
        # and on PostgreSQL the statistics autovacuum would have gathered.
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            cursor.execute("VACUUM ANALYZE")
    print(f"{connection.vendor}: filled in {time.perf_counter() - started:.1f} s")
    report(posts, f"{connection.vendor}")
    if connection.vendor == "sqlite":
        # Nothing in the site runs ANALYZE on SQLite; without statistics its planner starts
        # from the community's memberships rather than from the category's talents.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        report(posts, "sqlite after ANALYZE")


def _throwaway_postgres(url: str) -> tuple[str, str]:
    """(the server's maintenance URL, a fresh database's URL) on the server `url` names."""
    parts = urlsplit(url)
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    return maintenance, urlunsplit(parts._replace(path=f"/jinlin_bench_dispatch_{os.getpid()}"))


def main() -> None:
    parser = argparse.ArgumentParser(description="Time rank_talents over 10,000 talents.")
    parser.add_argument("--postgres", metavar="URL", help="also run on this PostgreSQL server (throwaway database)")
    parser.add_argument("--run", metavar="DATABASE_URL", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.run:
        run(arguments.run)
        return

    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    database = artifacts / f"bench-dispatch-{os.getpid()}.sqlite3"
    try:
        subprocess.run([sys.executable, __file__, "--run", f"sqlite:///{database}"], check=True)  # noqa: S603
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
    if arguments.postgres:
        import psycopg

        maintenance, throwaway = _throwaway_postgres(arguments.postgres)
        name = urlsplit(throwaway).path.lstrip("/")
        with psycopg.connect(maintenance, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        try:
            subprocess.run([sys.executable, __file__, "--run", throwaway], check=True)  # noqa: S603
        finally:
            with psycopg.connect(maintenance, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}"')


if __name__ == "__main__":
    main()
