"""Deleting an account: the reports the person filed stay, naming "Deleted user"; a report
about their profile loses the name and self-description it kept."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import translation

from committee.models import Certificate, Report
from committee.services.reports import report_file
from neighbors.data_rights import account_consequences, account_data
from neighbors.services import account_delete

pytestmark = pytest.mark.django_db


def test_the_export_lists_the_reports_filed_and_deletion_says_what_stays(resident, helper, post):
    report_file(actor=helper, target_kind="request", target_id=post.pk, reason="spam", note="广告")

    [filed] = account_data(helper)["committee"]["reports_filed"]
    assert filed["note"] == "广告"
    assert account_data(resident)["committee"]["reports_filed"] == []
    with translation.override("en"):
        stays = "The reports you filed stay with the committee, from “Deleted user”."
        assert stays in account_consequences(helper)
        assert stays not in account_consequences(resident)


def test_deleting_the_reported_person_empties_the_profile_snapshot_only(resident, helper, post):
    about_profile = report_file(actor=helper, target_kind="profile", target_id=resident.pk, reason="fraud", note="")
    about_post = report_file(actor=helper, target_kind="request", target_id=post.pk, reason="spam", note="")
    assert about_profile.snapshot

    account_delete(actor=resident, user=resident)

    about_profile.refresh_from_db()
    about_post.refresh_from_db()
    assert about_profile.snapshot == ""
    assert about_post.snapshot != ""


def test_deleting_the_reporter_keeps_their_reports(resident, helper, post):
    report = report_file(actor=helper, target_kind="request", target_id=post.pk, reason="spam", note="广告")

    account_delete(actor=helper, user=helper)

    assert Report.objects.filter(pk=report.pk, reporter=helper, note="广告").exists()


def test_redemptions_and_certificates_are_in_the_export_and_a_deleted_persons_certificates_stop_confirming(
    resident, helper, community
):
    certificate = Certificate.objects.create(
        user=helper,
        community=community,
        display_name="李师傅",
        period_start=date(2026, 1, 1),
        period_end=date(2026, 6, 30),
        hours=Decimal("12.50"),
        issued_by=resident,
    )
    [exported] = account_data(helper)["committee"]["certificates"]
    assert (exported["code"], exported["hours"]) == (certificate.code, "12.50")
    assert account_data(helper)["committee"]["redemptions"] == []
    with translation.override("en"):
        withdrawn = (
            "Your certificates are withdrawn: their codes no longer confirm anything. Keep a copy if you need one."
        )
        assert withdrawn in account_consequences(helper)
        assert withdrawn not in account_consequences(resident)

    account_delete(actor=helper, user=helper)

    certificate.refresh_from_db()
    assert certificate.display_name == ""
    assert certificate.revoked_at is not None
