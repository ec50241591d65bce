from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import (
    AuditEntry,
    Block,
    Community,
    Consent,
    ContactDisclosure,
    ContactMethod,
    Grid,
    GuardianConsent,
    LedgerEntry,
    Membership,
    Place,
    Profile,
    RoleChange,
    SensitiveWord,
    Street,
    User,
)

admin.site.register(User, UserAdmin)


@admin.register(Street)
class StreetAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(Community)
class CommunityAdmin(admin.ModelAdmin):
    list_display = ["name", "street"]
    list_filter = ["street"]
    search_fields = ["name"]


@admin.register(Grid)
class GridAdmin(admin.ModelAdmin):
    list_display = ["name", "community"]
    list_filter = ["community"]
    search_fields = ["name"]


@admin.register(Place)
class PlaceAdmin(admin.ModelAdmin):
    list_display = ["name", "community", "grid", "latitude", "longitude"]
    list_filter = ["community", "grid"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "community", "role", "status", "created_at"]
    list_filter = ["community", "role", "status"]
    raw_id_fields = ["user", "decided_by"]
    # Roles change on the committee's members page, where each change is recorded.
    readonly_fields = ["role"]


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["display_name", "user", "language", "is_minor"]
    search_fields = ["display_name"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records never edited or deleted by hand: logs, consents and the ledger."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["user", "community", "points", "hours", "reason", "source", "created_at"]


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    # Read here or on the committee's audit page; the database refuses edits either way.
    list_display = ["created_at", "community", "actor", "action", "subject", "target", "reason"]
    list_filter = ["action", "community"]


@admin.register(ContactDisclosure)
class ContactDisclosureAdmin(ReadOnlyAdmin):
    list_display = ["viewer", "owner", "field", "subject", "created_at"]


@admin.register(ContactMethod)
class ContactMethodAdmin(ReadOnlyAdmin):
    # The admin never shows a contact value: reveals go through contact_reveal, logged.
    list_display = ["user", "kind", "scope", "updated_at"]
    fields = ["user", "kind", "scope", "updated_at"]
    list_filter = ["kind", "scope"]


@admin.register(RoleChange)
class RoleChangeAdmin(ReadOnlyAdmin):
    list_display = ["user", "community", "from_role", "to_role", "changed_by", "reason", "created_at"]


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdmin):
    list_display = ["user", "kind", "version", "granted_at", "withdrawn_at"]
    list_filter = ["kind", "version"]


@admin.register(GuardianConsent)
class GuardianConsentAdmin(ReadOnlyAdmin):
    list_display = ["minor", "community", "relation", "method", "recorded_by", "recorded_at"]


@admin.register(Block)
class BlockAdmin(ReadOnlyAdmin):
    list_display = ["blocker", "blocked", "created_at"]


@admin.register(SensitiveWord)
class SensitiveWordAdmin(admin.ModelAdmin):
    # The district-wide list (no community) is the site admin's; committees keep their own.
    list_display = ["word", "community", "created_by", "created_at"]
    list_filter = ["community"]
    search_fields = ["word"]
