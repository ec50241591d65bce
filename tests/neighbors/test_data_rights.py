"""The rights to see, copy, correct and delete one's data: the export, the consequences, account_delete."""

import io
import json
from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress
from django.apps import apps
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core import serializers
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Sum
from django.urls import reverse
from django.utils import translation
from PIL import Image

from aid_posts.models import AidPost, Claim, PostEvent
from aid_posts.services import (
    aid_post_claim,
    aid_post_confirm,
    aid_post_create,
    aid_post_mark_done,
    claim_accept,
    claim_decline,
)
from messaging.models import Conversation, Participant
from messaging.permissions import can_access_conversation
from messaging.selectors import recent_messages
from messaging.services import message_send
from neighbors.data_rights import DataHolder, _holders, account_consequences, account_data, data_holder_register
from neighbors.images import image_process
from neighbors.models import (
    Block,
    Consent,
    ContactDisclosure,
    ContactMethod,
    GuardianConsent,
    LedgerEntry,
    Membership,
    Partnership,
    Profile,
    User,
)
from neighbors.permissions import can_view_contact
from neighbors.selectors import contact_card, ledger_totals
from neighbors.services import (
    account_delete,
    block_add,
    contact_method_set,
    contact_reveal,
    profile_update,
)
from talent_pool.models import TalentProfile
from talent_pool.services import talent_profile_ensure, talent_skill_add, talent_skill_verify
from tests.factories import PASSWORD, phone_of, skill, window

pytestmark = pytest.mark.django_db

# One unique string per personal field: none may be found anywhere after deletion.
MARKERS = {
    "username": "xq7login",
    "email": "xq7mail@example.test",
    "first_name": "Xq7First",
    "last_name": "Xq7Last",
    "display_name": "Xq7阿梅",
    "bio": "Xq7Bio 退休教师",
    "phone": "18677700123",
    "wechat": "xq7wechat",
    "contact_email": "xq7contact@example.test",
    "address": "Xq7Address 5单元1201",
    "guardian": "Xq7Guardian",
    "headline": "Xq7Headline 数学辅导",
}
ALL_OUR_APPS = {"neighbors", "aid_posts", "messaging", "talent_pool", "account"}


def small_jpeg() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 120, 40)).save(buffer, "JPEG")
    return SimpleUploadedFile("阿梅家门口.jpg", buffer.getvalue(), content_type="image/jpeg")


def everything_stored() -> str:
    """Every row of every model of our apps and allauth's accounts, as JSON."""
    models = [m for m in apps.get_models(include_auto_created=True) if m._meta.app_label in ALL_OUR_APPS]
    return "\n".join(serializers.serialize("json", m._default_manager.all()) for m in models)


def accepted(post: AidPost, helper: User) -> Claim:
    claim = aid_post_claim(actor=helper, post=post)
    claim_accept(actor=post.author, claim=claim)
    claim.refresh_from_db()
    post.refresh_from_db()
    return claim


def new_post(author: User, community, building, title: str) -> AidPost:
    return aid_post_create(
        **window(),
        actor=author,
        community=community,
        category=skill(),
        title=title,
        description="请帮忙。",
        place=building,
    )


def community_ledger(community) -> dict:
    return LedgerEntry.objects.filter(community=community).aggregate(points=Sum("points"), hours=Sum("hours"))


@pytest.fixture
def mei(make_member):
    """The person who deletes their account: a committee member with every personal field filled."""
    return make_member(
        role=Membership.Role.COMMITTEE,
        username=MARKERS["username"],
        email=MARKERS["email"],
        first_name=MARKERS["first_name"],
        last_name=MARKERS["last_name"],
    )


def fill_every_personal_field(mei: User, committee: User, community) -> list[str]:
    """Profile, photo, contacts, guardian, talent profile; returns the stored photo names."""
    profile_update(
        actor=mei,
        profile=mei.profile,
        display_name=MARKERS["display_name"],
        bio=MARKERS["bio"],
        spoken_languages=["nan", "cmn"],
        language="en",
        large_text=True,
        avatar=image_process(small_jpeg()),
    )
    for kind, value in [
        (ContactMethod.Kind.PHONE, MARKERS["phone"]),
        (ContactMethod.Kind.WECHAT, MARKERS["wechat"]),
        (ContactMethod.Kind.EMAIL, MARKERS["contact_email"]),
        (ContactMethod.Kind.ADDRESS, MARKERS["address"]),
    ]:
        contact_method_set(actor=mei, kind=kind, value=value, scope=ContactMethod.Scope.PARTNERS)
    GuardianConsent.objects.create(
        minor=mei,
        community=community,
        guardian_name=MARKERS["guardian"],
        relation="母亲",
        method=GuardianConsent.Method.IN_PERSON,
        recorded_by=committee,
    )
    talent_profile_ensure(actor=mei, headline=MARKERS["headline"])
    talent_skill_add(actor=mei, skill=skill("tutoring"))
    profile = Profile.objects.get(user=mei)
    return [profile.avatar.name, profile.avatar_thumbnail.name]


class TestDeletion:
    def test_no_personal_field_survives_and_what_others_need_stays(
        self, mei, helper, resident, committee, make_member, community, building, django_capture_on_commit_callbacks
    ):
        # Given a person with every personal field filled…
        photos = fill_every_personal_field(mei, committee, community)
        assert all(default_storage.exists(name) for name in photos)
        # …who blocks someone and is blocked by someone,
        block_add(actor=mei, person=make_member())
        block_add(actor=make_member(), person=mei)
        # …verified a helper's skill as a committee member,
        verified = talent_skill_add(actor=helper, skill=skill())
        talent_skill_verify(actor=mei, talent_skill=verified)
        # …earned points helping the resident,
        earned = new_post(resident, community, building, "搬一下柜子")
        accepted(earned, mei)
        aid_post_mark_done(actor=mei, post=earned, hours=Decimal("1.50"))
        aid_post_confirm(actor=resident, post=earned)
        # …and has a request in progress with a helper, a conversation and disclosures both ways.
        own = new_post(mei, community, building, "教孩子数学")
        accepted(own, helper)
        conversation = Conversation.objects.get(subject=own.subject)
        message_send(actor=mei, conversation_id=conversation.pk, body="周六下午可以吗？", client_id="mei-device-1")
        message_send(actor=helper, conversation_id=conversation.pk, body="可以，三点到。")
        contact_reveal(viewer=helper, owner=mei, kind=ContactMethod.Kind.PHONE, subject=own.subject)
        contact_reveal(viewer=mei, owner=helper, kind=ContactMethod.Kind.PHONE, subject=own.subject)
        stored = everything_stored()
        assert all(marker in stored for marker in [*MARKERS.values(), *photos])
        mei_ledger, town_ledger = ledger_totals(mei), community_ledger(community)
        assert mei_ledger["points"] > 0

        # When they delete their account
        with django_capture_on_commit_callbacks(execute=True):
            account_delete(actor=mei, user=mei)

        # Then no personal value is left in any row of any of our models…
        stored = everything_stored()
        left = [marker for marker in [*MARKERS.values(), *photos] if marker.lower() in stored.lower()]
        assert left == []
        # …the photo files are gone from storage…
        assert not any(default_storage.exists(name) for name in photos)
        # …what was personal is gone, and the login is dead.
        mei.refresh_from_db()
        assert mei.username == f"deleted-{mei.pk}"
        assert (mei.email, mei.first_name, mei.last_name, mei.is_active) == ("", "", "", False)
        assert not mei.has_usable_password()
        profile = Profile.objects.get(user=mei)
        assert profile.deleted_at is not None
        assert (profile.display_name, profile.bio, profile.spoken_languages, profile.large_text) == ("", "", [], False)
        assert not profile.avatar and not profile.avatar_thumbnail
        for model, lookup in [
            (ContactMethod, {"user": mei}),
            (Membership, {"user": mei}),
            (GuardianConsent, {"minor": mei}),
            (Block, {"blocker": mei}),
            (Block, {"blocked": mei}),
            (Partnership, {"user": mei}),
            (Partnership, {"partner": mei}),
            (ContactDisclosure, {"owner": mei}),
            (EmailAddress, {"user": mei}),
            (TalentProfile, {"user": mei}),
            (Participant, {"user": mei}),
        ]:
            assert not model.objects.filter(**lookup).exists(), model
        # The consents stay on record, withdrawn; the reveal mei made stays in the helper's log.
        assert Consent.objects.filter(user=mei).exists()
        assert not Consent.objects.filter(user=mei, withdrawn_at__isnull=True).exists()
        assert ContactDisclosure.objects.filter(viewer=mei, owner=helper).exists()
        # The ledger is untouched: the person's balance and the community's totals agree with before.
        assert ledger_totals(mei) == mei_ledger
        assert community_ledger(community) == town_ledger
        # The helper keeps the conversation, with mei's message shown as from a deleted user.
        assert Participant.objects.filter(conversation=conversation, user=helper).exists()
        thread = recent_messages(conversation, resident)
        assert [m.body for m in thread] == ["周六下午可以吗？", "可以，三点到。"]
        assert thread[0].client_id == ""
        with translation.override("en"):
            assert str(thread[0].sender.profile) == "Deleted user"
            assert str(Profile.objects.get(user=mei)) == "Deleted user"
        # The request someone took part in stays, cancelled by the leaving person, on record.
        own.refresh_from_db()
        assert own.status == AidPost.Status.CANCELLED
        assert PostEvent.objects.filter(post=own, actor=mei, from_status="in_progress", to_status="cancelled").exists()
        # The skill mei verified stays verified.
        verified.refresh_from_db()
        assert verified.is_verified and verified.verified_by_id == mei.pk

    def test_the_helper_sees_deleted_user_on_the_conversation_page(self, client, resident, helper, post):
        accepted(post, helper)
        conversation = Conversation.objects.get(subject=post.subject)
        message_send(actor=resident, conversation_id=conversation.pk, body="谢谢你来帮忙")

        account_delete(actor=resident, user=resident)

        client.force_login(helper)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        page = client.get(reverse("messaging:conversation", args=[conversation.pk])).content.decode()
        assert "谢谢你来帮忙" in page
        assert "Deleted user" in page
        assert "wang" not in page

    def test_a_request_nobody_took_part_in_is_deleted(self, resident, post):
        account_delete(actor=resident, user=resident)
        assert not AidPost.objects.filter(pk=post.pk).exists()

    def test_an_open_request_with_a_past_offer_is_cancelled_and_kept(self, resident, helper, post):
        claim_decline(actor=resident, claim=aid_post_claim(actor=helper, post=post))
        account_delete(actor=resident, user=resident)
        post.refresh_from_db()
        assert post.status == AidPost.Status.CANCELLED
        assert post.events.last().to_status == AidPost.Status.CANCELLED

    def test_a_claimed_request_is_cancelled_and_the_waiting_offer_declined(self, resident, helper, post):
        claim = aid_post_claim(actor=helper, post=post)
        with translation.override("en"):
            sentences = account_consequences(resident)
        assert (
            f"Your request “{post.title}” will be cancelled and the offer of help waiting on it declined." in sentences
        )
        account_delete(actor=resident, user=resident)
        post.refresh_from_db()
        claim.refresh_from_db()
        assert (post.status, claim.status) == (AidPost.Status.CANCELLED, Claim.Status.DECLINED)
        assert post.events.last().actor_id == resident.pk

    def test_a_pending_offer_is_withdrawn_and_the_request_opens_again(self, resident, helper, post):
        claim = aid_post_claim(actor=helper, post=post)
        with translation.override("en"):
            assert f"Your offer of help on “{post.title}” will be withdrawn." in account_consequences(helper)
        account_delete(actor=helper, user=helper)
        claim.refresh_from_db()
        post.refresh_from_db()
        assert (claim.status, post.status) == (Claim.Status.WITHDRAWN, AidPost.Status.OPEN)

    def test_a_request_marked_done_stays_as_it_is(self, resident, helper, post):
        claim = accepted(post, helper)
        aid_post_mark_done(actor=helper, post=post, hours=Decimal("2"))
        with translation.override("en"):
            sentences = account_consequences(helper)
        assert f"“{post.title}” is done and waiting for confirmation; it stays as it is." in sentences

        account_delete(actor=helper, user=helper)

        post.refresh_from_db()
        claim.refresh_from_db()
        assert (post.status, claim.status) == (AidPost.Status.DONE, Claim.Status.ACCEPTED)

    def test_nobody_can_delete_someone_elses_account(self, resident, committee):
        with pytest.raises(PermissionDenied):
            account_delete(actor=committee, user=resident)
        resident.refresh_from_db()
        assert resident.is_active
        assert Profile.objects.get(user=resident).deleted_at is None
        assert Membership.objects.filter(user=resident).exists()

    def test_an_account_is_deleted_once(self, resident):
        account_delete(actor=resident, user=resident)
        resident.refresh_from_db()
        with pytest.raises(ValidationError):
            account_delete(actor=resident, user=resident)


class TestDeletionWhileAClaimIsInProgress:
    def test_the_person_is_told_and_the_request_opens_again_for_others(self, resident, helper, post, make_member):
        # Given the helper's offer was accepted and the request is in progress
        claim = accepted(post, helper)
        assert can_view_contact(resident, helper, kind=ContactMethod.Kind.PHONE, subject=post.subject)
        old = Conversation.objects.get(subject=post.subject)
        message_send(actor=resident, conversation_id=old.pk, body="我家在3单元502室")
        # When the helper reads what deleting would do
        with translation.override("en"):
            sentences = account_consequences(helper)
        # Then it names the request and says what happens to it
        assert (
            f"Your accepted offer on “{post.title}” will be withdrawn and the request opened again for other helpers."
        ) in sentences

        account_delete(actor=helper, user=helper)

        post.refresh_from_db()
        claim.refresh_from_db()
        assert post.status == AidPost.Status.OPEN
        assert claim.status == Claim.Status.WITHDRAWN
        event = post.events.last()
        assert (event.actor_id, event.from_status, event.to_status) == (helper.pk, "in_progress", "open")
        # The poster can no longer see any of the helper's details, nor the other way round.
        assert contact_card(resident, helper) == []
        assert not ContactMethod.objects.filter(user=helper).exists()
        with pytest.raises(PermissionDenied):
            contact_reveal(viewer=resident, owner=helper, kind=ContactMethod.Kind.PHONE, subject=post.subject)
        helper.refresh_from_db()
        assert not can_view_contact(helper, resident, kind=ContactMethod.Kind.PHONE, subject=post.subject)
        assert not Partnership.objects.filter(subject=post.subject).exists()
        # And another neighbour can take the request, in a fresh conversation: they never
        # read what the poster said to the helper who left.
        newcomer = make_member()
        fresh = claim_accept(actor=resident, claim=aid_post_claim(actor=newcomer, post=post))
        assert fresh.pk != old.pk
        assert not can_access_conversation(newcomer, old.pk)
        assert can_access_conversation(resident, old.pk)

    def test_if_any_part_fails_nothing_is_half_written(self, monkeypatch, resident, helper, post):
        claim = accepted(post, helper)

        def refuse(user):
            raise ValidationError("This request has changed in the meantime; please look at it again.")

        # A holder registered after aid_posts, so aid_posts' part has already run when it fails.
        monkeypatch.setitem(_holders, "failing", DataHolder("failing", lambda user: {}, lambda user: [], refuse))
        with pytest.raises(ValidationError):
            account_delete(actor=helper, user=helper)

        post.refresh_from_db()
        claim.refresh_from_db()
        helper.refresh_from_db()
        assert (post.status, claim.status) == (AidPost.Status.IN_PROGRESS, Claim.Status.ACCEPTED)
        assert helper.is_active and helper.username == "li"
        assert Profile.objects.get(user=helper).deleted_at is None
        assert ContactMethod.objects.filter(user=helper).exists()
        assert Partnership.objects.filter(subject=post.subject, until__isnull=True).count() == 2
        assert Participant.objects.filter(user=helper).exists()


class TestExport:
    def test_export_holds_the_persons_data_and_not_other_peoples_details(self, resident, helper, post):
        accepted(post, helper)
        conversation = Conversation.objects.get(subject=post.subject)
        message_send(actor=resident, conversation_id=conversation.pk, body="我家在2号楼")
        message_send(actor=helper, conversation_id=conversation.pk, body="好的，马上到")
        contact_method_set(
            actor=resident, kind=ContactMethod.Kind.WECHAT, value="wang_ayi", scope=ContactMethod.Scope.PRIVATE
        )
        # The resident has seen the helper's phone: the export says so, without the number.
        contact_reveal(
            viewer=resident, owner=helper, kind=ContactMethod.Kind.PHONE, subject=post.subject, subject_title=post.title
        )

        text = json.dumps(account_data(resident), ensure_ascii=False)
        data = json.loads(text)

        mine = data["neighbors"]
        assert {c["value"] for c in mine["contact_methods"]} == {phone_of(resident), "wang_ayi"}
        assert [m["community"] for m in mine["memberships"]] == ["莲兴社区"]
        assert {c["kind"] for c in mine["consents"]} >= {Consent.Kind.PRIVACY_NOTICE}
        assert (mine["details_i_saw"][0]["person"], mine["details_i_saw"][0]["about"]) == ("li", post.title)
        assert [p["title"] for p in data["aid_posts"]["posts"]] == [post.title]
        assert [m["body"] for m in data["messaging"]["messages_sent"]] == ["我家在2号楼"]
        assert data["talent_pool"]["talent_profile"] is None
        assert phone_of(helper) not in text
        assert "好的，马上到" not in text

    def test_download_is_an_attachment(self, client, resident):
        client.force_login(resident)
        response = client.get(reverse("neighbors:my_data_export"))
        assert response.status_code == 200
        assert response["Content-Disposition"] == 'attachment; filename="jinlin-my-data.json"'
        assert response["Content-Type"] == "application/json"
        data = json.loads(response.content)
        assert data["neighbors"]["account"]["email"] == resident.email
        # Readable as it is: Chinese is written as Chinese, not as \\u escapes.
        assert "莲兴社区" in response.content.decode()

    def test_the_export_needs_a_login(self, client):
        response = client.get(reverse("neighbors:my_data_export"))
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))


class TestPages:
    def test_the_page_shows_the_data_the_links_to_correct_it_and_the_consequences(self, client, resident, helper, post):
        accepted(post, helper)
        client.force_login(helper)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        response = client.get(reverse("neighbors:my_data"))
        assert response.status_code == 200
        page = response.content.decode()
        assert phone_of(helper) in page
        for name in ["profile", "contacts", "consents", "communities", "my_data_export", "account_delete"]:
            assert reverse(f"neighbors:{name}") in page
        assert f"Your accepted offer on “{post.title}” will be withdrawn" in page

    def test_the_profile_page_links_to_it(self, client, resident):
        client.force_login(resident)
        assert reverse("neighbors:my_data") in client.get(reverse("neighbors:profile")).content.decode()


class TestDeleteView:
    @pytest.fixture(autouse=True)
    def _url(self):
        self.url = reverse("neighbors:account_delete")

    def test_wrong_password_changes_nothing(self, client, resident):
        client.force_login(resident)
        response = client.post(self.url, {"password": "not-it", "confirm": "on"})
        assert response.status_code == 400
        assert response.context["form"].errors["password"]
        resident.refresh_from_db()
        assert resident.is_active and resident.check_password(PASSWORD)
        assert Profile.objects.get(user=resident).deleted_at is None

    def test_the_box_must_be_ticked(self, client, resident):
        client.force_login(resident)
        response = client.post(self.url, {"password": PASSWORD})
        assert response.status_code == 400
        assert response.context["form"].errors["confirm"]
        resident.refresh_from_db()
        assert resident.is_active

    def test_get_is_not_allowed(self, client, resident):
        client.force_login(resident)
        assert client.get(self.url).status_code == 405

    def test_anonymous_is_sent_to_log_in(self, client):
        response = client.post(self.url, {"password": PASSWORD, "confirm": "on"})
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))

    def test_a_failing_deletion_is_a_form_error(self, client, monkeypatch, resident):
        def refuse(user):
            raise ValidationError("This request has changed in the meantime; please look at it again.")

        monkeypatch.setitem(_holders, "failing", DataHolder("failing", lambda user: {}, lambda user: [], refuse))
        client.force_login(resident)
        response = client.post(self.url, {"password": PASSWORD, "confirm": "on"})
        assert response.status_code == 400
        assert "has changed in the meantime" in response.content.decode()
        resident.refresh_from_db()
        assert resident.is_active

    def test_success_logs_out_and_the_account_cannot_log_in_again(self, client, resident):
        email = resident.email
        client.force_login(resident)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        response = client.post(self.url, {"password": PASSWORD, "confirm": "on"}, follow=True)
        assert response.redirect_chain[-1][0] == reverse("home")
        assert SESSION_KEY not in client.session
        assert "Your account was deleted." in response.content.decode()
        resident.refresh_from_db()
        assert Profile.objects.get(user=resident).deleted_at is not None

        response = client.post(reverse("account_login"), {"login": email, "password": PASSWORD})
        assert response.status_code == 200
        assert not response.context["user"].is_authenticated


def test_registering_a_holder_again_replaces_it():
    labels = [holder.label for holder in _holders.values()]
    assert labels == ["talent_pool", "messaging", "aid_posts", "committee"]
    data_holder_register(_holders["messaging"])
    assert [holder.label for holder in _holders.values()] == labels
