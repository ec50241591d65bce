# The skill tree: areas with their skills, and two skills the first seed lacked.

from django.db import migrations

AREAS = [
    # code, Chinese, English, skills (existing or new)
    ("legal", "法律服务", "Legal help", ["legal-mediation", "legal-consultation"]),
    ("health", "医疗健康", "Health", ["medical-advice", "nursing", "counselling", "rehabilitation"]),
    ("care", "陪伴照护", "Care and company", ["elderly-companionship", "childcare"]),
    ("learning", "学习与语言", "Learning and languages", ["tutoring", "translation"]),
    ("home", "家居维修", "Home repairs", ["home-repair", "electrical"]),
    ("daily", "生活帮办", "Everyday help", ["it-help", "paperwork", "errands"]),
]
NEW_SKILLS = [
    # code, Chinese, English, needs a verified credential
    ("rehabilitation", "康复指导", "Rehabilitation exercises", True),
    ("childcare", "儿童看护", "Childcare", False),
]


def seed(apps, schema_editor):
    SkillArea = apps.get_model("talent_pool", "SkillArea")
    Skill = apps.get_model("talent_pool", "Skill")
    for code, zh, en, credential in NEW_SKILLS:
        Skill.objects.get_or_create(
            code=code, defaults={"name_zh_hans": zh, "name_en": en, "requires_credential": credential}
        )
    for position, (code, zh, en, skills) in enumerate(AREAS):
        area, _created = SkillArea.objects.get_or_create(
            code=code, defaults={"name_zh_hans": zh, "name_en": en, "position": position}
        )
        Skill.objects.filter(code__in=skills, area__isnull=True).update(area=area)


def unseed(apps, schema_editor):
    SkillArea = apps.get_model("talent_pool", "SkillArea")
    Skill = apps.get_model("talent_pool", "Skill")
    Skill.objects.filter(area__code__in=[code for code, *_ in AREAS]).update(area=None)
    Skill.objects.filter(code__in=[code for code, *_ in NEW_SKILLS]).delete()
    SkillArea.objects.filter(code__in=[code for code, *_ in AREAS]).delete()


class Migration(migrations.Migration):
    dependencies = [("talent_pool", "0003_skill_tree_levels_slots_credentials")]

    operations = [migrations.RunPython(seed, unseed)]
