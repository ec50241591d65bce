from django.db import migrations


def fill(apps, schema_editor):
    """A request's conversation names its community now (whose committee reviews held messages
    and can be asked in). The subject is "aid_post:N", or "aid_post:N#M" once retired."""
    Conversation = apps.get_model("messaging", "Conversation")
    AidPost = apps.get_model("aid_posts", "AidPost")
    for conversation in Conversation.objects.filter(kind="claim", community__isnull=True):
        number = conversation.subject.removeprefix("aid_post:").split("#")[0]
        if not conversation.subject.startswith("aid_post:") or not number.isdecimal():
            continue
        community_id = AidPost.objects.filter(pk=int(number)).values_list("community_id", flat=True).first()
        if community_id is not None:
            Conversation.objects.filter(pk=conversation.pk).update(community_id=community_id)


def empty(apps, schema_editor):
    apps.get_model("messaging", "Conversation").objects.filter(kind="claim").update(community=None)


class Migration(migrations.Migration):
    dependencies = [
        ("aid_posts", "0005_require_windows_and_expiry"),
        ("messaging", "0003_conversation_kinds_read_state_review_email"),
    ]

    operations = [migrations.RunPython(fill, empty)]
