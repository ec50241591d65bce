from django.db import migrations

SKILLS = [
    # code, Chinese, English, needs a verified credential
    ("legal-mediation", "法律调解", "Legal mediation", True),
    ("legal-consultation", "法律咨询", "Legal consultation", True),
    ("medical-advice", "医疗咨询", "Medical advice", True),
    ("nursing", "护理照护", "Nursing care", True),
    ("counselling", "心理疏导", "Psychological counselling", True),
    ("tutoring", "课业辅导", "Tutoring", False),
    ("elderly-companionship", "陪伴老人", "Elderly companionship", False),
    ("home-repair", "家居维修", "Home repair", False),
    ("electrical", "水电维修", "Electrical and plumbing", False),
    ("it-help", "手机电脑帮忙", "Phone and computer help", False),
    ("translation", "翻译", "Translation", False),
    ("paperwork", "办事填表", "Paperwork help", False),
    ("errands", "跑腿代办", "Errands", False),
]


def seed(apps, schema_editor):
    Skill = apps.get_model("talent_pool", "Skill")
    for code, zh, en, credential in SKILLS:
        Skill.objects.update_or_create(
            code=code, defaults={"name_zh_hans": zh, "name_en": en, "requires_credential": credential}
        )


def unseed(apps, schema_editor):
    Skill = apps.get_model("talent_pool", "Skill")
    Skill.objects.filter(code__in=[code for code, *_ in SKILLS]).delete()


class Migration(migrations.Migration):
    dependencies = [("talent_pool", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
