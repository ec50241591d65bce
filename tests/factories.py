from datetime import timedelta
from decimal import Decimal

import factory
from allauth.account.models import EmailAddress
from django.conf import settings
from django.utils import timezone

from aid_posts.models import AidPost
from neighbors.models import Community, Consent, ContactMethod, Membership, Place, Profile, Street, User
from talent_pool.models import Skill

PASSWORD = "correct-horse-battery"


class StreetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Street
        django_get_or_create = ["name"]

    name = "莲前街道"


class CommunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Community

    street = factory.SubFactory(StreetFactory)
    name = factory.Sequence(lambda n: f"社区{n}")


class PlaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Place

    community = factory.SubFactory(CommunityFactory)
    name = factory.Sequence(lambda n: f"{n}号楼")
    latitude = Decimal("24.478100")
    longitude = Decimal("118.145300")


class UserFactory(factory.django.DjangoModelFactory):
    """A signed-up person: verified email, profile, consents recorded, and a phone shared with partners."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")
    password = factory.django.Password(PASSWORD)
    profile = factory.RelatedFactory(
        "tests.factories.ProfileFactory", factory_related_name="user", display_name=factory.SelfAttribute("..username")
    )

    @factory.post_generation
    def verified_email(self, create, extracted, **kwargs):
        if create:
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)
            versions = settings.CONSENT_VERSIONS
            for kind in (Consent.Kind.PRIVACY_NOTICE, Consent.Kind.CONTACT_SHARING, Consent.Kind.LOCATION):
                Consent.objects.create(user=self, kind=kind, version=versions[kind])
            ContactMethod.objects.create(
                user=self, kind=ContactMethod.Kind.PHONE, value=f"139{self.pk:08d}", scope=ContactMethod.Scope.PARTNERS
            )


class ProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Profile

    user = factory.SubFactory(UserFactory, profile=None)
    display_name = factory.Sequence(lambda n: f"邻居{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    community = factory.SubFactory(CommunityFactory)
    home_place = factory.SubFactory(PlaceFactory, community=factory.SelfAttribute("..community"))
    status = Membership.Status.APPROVED


def skill(code: str = "home-repair") -> Skill:
    """A seeded skill; transactional tests flush the seed, so recreate it when gone."""
    found, _created = Skill.objects.get_or_create(code=code, defaults={"name_zh_hans": code, "name_en": code})
    return found


class AidPostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AidPost

    community = factory.SubFactory(CommunityFactory)
    author = factory.SubFactory(UserFactory)
    category = factory.LazyFunction(skill)
    title = factory.Sequence(lambda n: f"请帮忙 {n}")
    description = "厨房水龙头漏水，想请邻居帮忙看看。"
    place = factory.SubFactory(PlaceFactory, community=factory.SelfAttribute("..community"))
    window_starts_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=1))
    window_ends_at = factory.LazyAttribute(lambda post: post.window_starts_at + timedelta(hours=3))
    expires_at = factory.LazyAttribute(lambda post: post.window_ends_at)


def window(*, starts_in_hours: float = 1, hours: float = 3) -> dict:
    """A time window for aid_post_create: a request needs one, and it must not be over."""
    starts = timezone.now() + timedelta(hours=starts_in_hours)
    return {"window_starts_at": starts, "window_ends_at": starts + timedelta(hours=hours)}


def phone_of(user: User) -> str:
    return ContactMethod.objects.get(user=user, kind=ContactMethod.Kind.PHONE).value


def ledger_entry_at(when, *, user, community, hours, reason="help_confirmed", points=10, source=None):
    """A ledger entry written at `when` (its time is stamped on insert and never edited after).
    `source` defaults to one of its own, so that entries never collide on the once-only rule."""
    # Imported here: this helper is appended after the module's own imports.
    import uuid
    from unittest import mock

    from neighbors.models import LedgerEntry

    source = source or f"test:{uuid.uuid4().hex}"
    with mock.patch("django.utils.timezone.now", return_value=when):
        return LedgerEntry.objects.create(
            user=user, community=community, points=points, hours=Decimal(str(hours)), reason=reason, source=source
        )


# Rewards and points (appended after the module's own imports, hence these here).
import uuid  # noqa: E402

from committee.models import Reward  # noqa: E402
from neighbors.models import LedgerEntry  # noqa: E402
from neighbors.services import ledger_award  # noqa: E402


class RewardFactory(factory.django.DjangoModelFactory):
    """A reward in a committee's catalogue (the services are tested on their own; this sets a scene)."""

    class Meta:
        model = Reward

    community = factory.SubFactory(CommunityFactory)
    title = factory.Sequence(lambda n: f"理发券 {n}")
    kind = Reward.Kind.VOUCHER
    points = 10
    stock = 5
    created_by = factory.SubFactory(UserFactory)


def points_earned(
    user: User,
    community: Community,
    points: int,
    *,
    hours: Decimal = Decimal("0"),
    reason: str = LedgerEntry.Reason.HELP_CONFIRMED,
) -> LedgerEntry:
    """Points (and hours) for `user` as a confirmed help pays them, each time for a new source."""
    return ledger_award(
        user=user, community=community, points=points, hours=hours, reason=reason, source=f"test:{uuid.uuid4()}"
    )
