import io

import pytest
from django.core.management import call_command

from aid_posts.models import AidPost, WelfareRole
from committee.models import Redemption, Report, Reward
from messaging.models import Message
from neighbors.models import AuditEntry, Community, LedgerEntry, Membership, Place, User
from neighbors.selectors import ledger_totals
from talent_pool.models import Credential, TalentSkill

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (
            User,
            Community,
            Place,
            Membership,
            AidPost,
            TalentSkill,
            Credential,
            WelfareRole,
            LedgerEntry,
            AuditEntry,
            Reward,
            Redemption,
            Report,
            Message,
        )
    }


def test_demo_loads_once_and_again_changes_nothing():
    output = io.StringIO()
    call_command("load_demo", stdout=output)
    first = counts()
    call_command("load_demo", stdout=io.StringIO())

    assert counts() == first
    assert first["AidPost"] >= 3
    assert "judge@demo.jinlin" in output.getvalue()
    community = Community.objects.get(name="莲兴社区")
    assert Membership.objects.filter(community=community, role="committee", status="approved").count() == 1
    # The judge's consultation certificate is verified; the mediation one waits for the committee.
    judge_skills = {
        talent_skill.skill.code: talent_skill
        for talent_skill in TalentSkill.objects.filter(talent__user__email="judge@demo.jinlin")
    }
    assert judge_skills["legal-consultation"].is_verified
    assert not judge_skills["legal-mediation"].is_verified
    assert Credential.objects.filter(status="pending", talent_skill=judge_skills["legal-mediation"]).count() == 1
    role = WelfareRole.objects.get(community=community)
    assert (role.skill.code, role.seats) == ("legal-mediation", 2)


def test_demo_gives_each_part_of_the_committee_workspace_something_to_do():
    call_command("load_demo", stdout=io.StringIO())

    community = Community.objects.get(name="莲兴社区")
    li = User.objects.get(email="li@demo.jinlin")
    # A confirmed repair and an award: hours for a certificate, points for the catalogue.
    assert AidPost.objects.get(title="厨房水龙头漏水").status == AidPost.Status.CONFIRMED
    assert ledger_totals(li) == {"points": 60, "hours": 3.5}
    assert Reward.objects.filter(community=community).count() == 3
    assert Redemption.objects.get(user=li).status == Redemption.Status.PENDING
    report = Report.objects.get()
    assert (report.target_kind, report.status) == ("message", "open")
    assert Message.objects.filter(status=Message.Status.HELD).count() == 1
    assert AidPost.objects.get(title="帮忙开张发票").status == AidPost.Status.HELD
    # The street's dashboard has two communities, both the demo committee's.
    committee = User.objects.get(email="committee@demo.jinlin")
    assert set(
        Membership.objects.filter(user=committee, role="committee").values_list("community__name", flat=True)
    ) == {"莲兴社区", "莲秀社区"}
