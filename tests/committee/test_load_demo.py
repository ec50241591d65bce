import io

import pytest
from django.core.management import call_command

from aid_posts.models import AidPost, WelfareRole
from neighbors.models import Community, Membership, Place, User
from talent_pool.models import Credential, TalentSkill

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (User, Community, Place, Membership, AidPost, TalentSkill, Credential, WelfareRole)
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
