# Each profile's phone becomes a contact method with the scope it had: partners.
# Sharing with a partner already needed the privacy notice's consent, so that
# consent carries over as the contact-sharing consent of the same version.

from django.db import migrations


def phone_to_contact_method(apps, schema_editor):
    Profile = apps.get_model("neighbors", "Profile")
    ContactMethod = apps.get_model("neighbors", "ContactMethod")
    Consent = apps.get_model("neighbors", "Consent")
    for profile in Profile.objects.exclude(phone="").iterator():
        ContactMethod.objects.get_or_create(
            user_id=profile.user_id, kind="phone", defaults={"value": profile.phone, "scope": "partners"}
        )
        notice = Consent.objects.filter(user_id=profile.user_id, kind="privacy_notice").order_by("granted_at").first()
        if notice is not None:
            Consent.objects.get_or_create(
                user_id=profile.user_id, kind="contact_sharing", version=notice.version, withdrawn_at=None
            )


def contact_method_to_phone(apps, schema_editor):
    Profile = apps.get_model("neighbors", "Profile")
    ContactMethod = apps.get_model("neighbors", "ContactMethod")
    for method in ContactMethod.objects.filter(kind="phone").iterator():
        Profile.objects.filter(user_id=method.user_id).update(phone=method.value)


class Migration(migrations.Migration):
    dependencies = [("neighbors", "0003_grids_roles_contacts_blocks")]

    operations = [migrations.RunPython(phone_to_contact_method, contact_method_to_phone)]
