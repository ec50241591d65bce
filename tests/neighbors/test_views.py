import re

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse

from neighbors.models import Consent, ContactDisclosure, Membership, Profile, User
from tests.factories import PASSWORD, MembershipFactory, PlaceFactory

pytestmark = pytest.mark.django_db


def signup_data(**overrides) -> dict:
    data = {
        "email": "new@example.test",
        "display_name": "王阿姨",
        "password1": "a-long-pass-phrase-1",
        "password2": "a-long-pass-phrase-1",
        "age_group": "adult",
        "consent": "on",
        "notice_version": settings.PRIVACY_NOTICE_VERSION,
    }
    data.update(overrides)
    return data


class TestSignup:
    def test_signup_records_profile_and_consent_then_verifies_email(self, client):
        response = client.post(reverse("account_signup"), signup_data())
        assert response.status_code == 302
        user = User.objects.get(email="new@example.test")
        assert Profile.objects.get(user=user).display_name == "王阿姨"
        assert not user.profile.is_minor
        consent = Consent.objects.get(user=user)
        assert (consent.kind, consent.version) == (Consent.Kind.PRIVACY_NOTICE, settings.PRIVACY_NOTICE_VERSION)
        assert len(mail.outbox) == 1
        link = re.search(r"http://testserver(/accounts/confirm-email/\S+/)", mail.outbox[0].body).group(1)
        client.post(link)
        assert EmailAddress.objects.get(user=user).verified

    def test_no_consent_no_account(self, client):
        data = signup_data()
        del data["consent"]
        response = client.post(reverse("account_signup"), data)
        assert response.status_code == 200
        assert "需要同意隐私声明才能注册" in response.content.decode()
        assert not User.objects.exists()

    def test_a_stale_notice_version_is_refused(self, client):
        response = client.post(reverse("account_signup"), signup_data(notice_version="2020-01"))
        assert response.status_code == 200
        assert not User.objects.exists()
        assert not Consent.objects.exists()

    def test_overlong_display_name_is_a_form_error(self, client):
        response = client.post(reverse("account_signup"), signup_data(display_name="名" * 41))
        assert response.status_code == 200
        assert not User.objects.exists()

    def test_wrong_password_is_a_form_error(self, client, resident):
        response = client.post(reverse("account_login"), {"login": resident.email, "password": "wrong-one"})
        assert response.status_code == 200
        assert response.context["form"].errors
        assert not response.context["user"].is_authenticated

    def test_an_unverified_user_cannot_log_in(self, client):
        client.post(reverse("account_signup"), signup_data())
        client.logout()
        response = client.post(
            reverse("account_login"), {"login": "new@example.test", "password": "a-long-pass-phrase-1"}
        )
        assert response.status_code == 302
        assert response.url == reverse("account_email_verification_sent")

    def test_log_in_and_out(self, client, resident):
        Profile.objects.filter(user=resident).update(language="en")
        response = client.post(reverse("account_login"), {"login": resident.email, "password": PASSWORD})
        assert response.status_code == 302
        # The profile's language follows the person to this browser.
        assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
        assert client.get(reverse("home")).context["user"] == resident
        client.post(reverse("account_logout"))
        assert not client.get(reverse("home")).context["user"].is_authenticated

    def test_password_reset_sends_a_mail(self, client, resident):
        client.post(reverse("account_reset_password"), {"email": resident.email})
        assert len(mail.outbox) == 1
        assert "/accounts/password/reset/key/" in mail.outbox[0].body


class TestJoin:
    def test_join_then_committee_approves(self, client, committee, community, building):
        newcomer = User.objects.create_user(username="n", email="n@example.test", password=PASSWORD)
        Profile.objects.create(user=newcomer, display_name="新邻居")
        client.force_login(newcomer)
        response = client.post(
            reverse("neighbors:communities"), {"community": community.pk, "home_place": building.pk, "tenure": "tenant"}
        )
        assert response.status_code == 302
        membership = Membership.objects.get(user=newcomer)
        assert (membership.status, membership.tenure) == (Membership.Status.PENDING, Membership.Tenure.TENANT)

        committee_client = Client()
        committee_client.force_login(committee)
        queue = committee_client.get(reverse("neighbors:membership_queue"))
        assert "新邻居" in queue.content.decode()
        committee_client.post(reverse("neighbors:membership_approve", args=[membership.pk]))
        membership.refresh_from_db()
        assert membership.status == Membership.Status.APPROVED

    def test_building_of_another_community_is_a_form_error(self, client, community, outsider):
        client.force_login(outsider)
        response = client.post(
            reverse("neighbors:communities"),
            {"community": community.pk, "home_place": PlaceFactory().pk, "tenure": "owner"},
        )
        assert response.status_code == 200
        assert response.context["form"].errors
        assert not Membership.objects.filter(user=outsider, community=community).exists()

    def test_a_resident_cannot_approve_by_url(self, client, resident, community, building):
        pending = MembershipFactory(community=community, home_place=building, status=Membership.Status.PENDING)
        client.force_login(resident)
        response = client.post(reverse("neighbors:membership_approve", args=[pending.pk]))
        assert response.status_code == 404
        pending.refresh_from_db()
        assert pending.status == Membership.Status.PENDING

    def test_decline_without_reason_changes_nothing(self, client, committee, community, building):
        pending = MembershipFactory(community=community, home_place=building, status=Membership.Status.PENDING)
        client.force_login(committee)
        client.post(reverse("neighbors:membership_decline", args=[pending.pk]), {"reason": ""})
        pending.refresh_from_db()
        assert pending.status == Membership.Status.PENDING

    def test_approve_by_get_is_not_allowed(self, client, committee, community, building):
        pending = MembershipFactory(community=community, home_place=building, status=Membership.Status.PENDING)
        client.force_login(committee)
        assert client.get(reverse("neighbors:membership_approve", args=[pending.pk])).status_code == 405


class TestProfileAndPrivacyPages:
    def test_profile_saves_bio_languages_and_large_text(self, client, resident):
        client.force_login(resident)
        response = client.post(
            reverse("neighbors:profile"),
            {
                "display_name": "王阿姨",
                "bio": "退休教师，喜欢下棋。",
                "spoken_languages": ["cmn", "nan"],
                "language": "zh-hans",
                "large_text": "on",
            },
        )
        assert response.status_code == 302
        profile = Profile.objects.get(user=resident)
        assert (profile.bio, profile.spoken_languages, profile.large_text) == (
            "退休教师，喜欢下棋。",
            ["cmn", "nan"],
            True,
        )
        assert 'class="large-text"' in client.get(reverse("neighbors:profile")).content.decode()

    def test_an_unknown_language_is_a_form_error(self, client, resident):
        client.force_login(resident)
        response = client.post(
            reverse("neighbors:profile"), {"display_name": "王", "spoken_languages": ["klingon"], "language": "en"}
        )
        assert response.status_code == 200
        assert response.context["form"].errors["spoken_languages"]
        assert Profile.objects.get(user=resident).spoken_languages == []

    def test_owner_sees_who_saw_their_phone(self, client, resident, helper):
        ContactDisclosure.objects.create(viewer=helper, owner=resident, field="phone", subject="aid_post:3")
        client.force_login(resident)
        page = client.get(reverse("neighbors:disclosures")).content.decode()
        assert helper.profile.display_name in page

    def test_login_required(self, client):
        for name in (
            "neighbors:profile",
            "neighbors:points",
            "neighbors:disclosures",
            "neighbors:communities",
            "neighbors:contacts",
            "neighbors:consents",
            "neighbors:blocked",
            "neighbors:members",
        ):
            response = client.get(reverse(name))
            assert response.status_code == 302
            assert response.url.startswith(reverse("account_login"))


class TestLanguage:
    def test_chinese_by_default_and_the_switch_keeps_the_page(self, client):
        page = client.get(reverse("neighbors:privacy"))
        assert "隐私" in page.content.decode()
        response = client.post(reverse("set_language"), {"language": "en", "next": reverse("neighbors:privacy")})
        assert response.url == reverse("neighbors:privacy")
        assert "Privacy notice" in client.get(reverse("neighbors:privacy")).content.decode()
