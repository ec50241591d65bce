# The privacy-notice consent becomes one kind of consent among several
# (location, contact sharing, health), each versioned and withdrawable.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("neighbors", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="privacyconsent", name="consent_once_per_version"),
        migrations.RenameModel(old_name="PrivacyConsent", new_name="Consent"),
        migrations.RenameField(model_name="consent", old_name="notice_version", new_name="version"),
        migrations.RenameField(model_name="consent", old_name="accepted_at", new_name="granted_at"),
        migrations.AlterField(
            model_name="consent",
            name="user",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="consents", to=settings.AUTH_USER_MODEL
            ),
        ),
        migrations.AddField(
            model_name="consent",
            name="kind",
            field=models.CharField(
                choices=[
                    ("privacy_notice", "Privacy notice"),
                    ("location", "Use of my home building for distances"),
                    ("contact_sharing", "Showing my contact details to helpers and neighbours"),
                    ("health", "Health-related details in my requests"),
                ],
                default="privacy_notice",
                max_length=30,
            ),
        ),
        migrations.AddField(
            model_name="consent",
            name="withdrawn_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterModelOptions(name="consent", options={"ordering": ["-granted_at", "-id"]}),
        migrations.AddConstraint(
            model_name="consent",
            constraint=models.UniqueConstraint(
                condition=models.Q(("withdrawn_at__isnull", True)),
                fields=("user", "kind", "version"),
                name="consent_once_live",
            ),
        ),
    ]
