from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import Community, ContactDisclosure, LedgerEntry, Membership, Place, Profile, Street, User

admin.site.register(User, UserAdmin)


@admin.register(Street)
class StreetAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(Community)
class CommunityAdmin(admin.ModelAdmin):
    list_display = ["name", "street"]
    list_filter = ["street"]
    search_fields = ["name"]


@admin.register(Place)
class PlaceAdmin(admin.ModelAdmin):
    list_display = ["name", "community", "latitude", "longitude"]
    list_filter = ["community"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "community", "role", "status", "created_at"]
    list_filter = ["community", "role", "status"]
    raw_id_fields = ["user", "decided_by"]


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["display_name", "user", "language"]
    # The admin list never shows a phone number: reveals go through contact_reveal.
    exclude = ["phone"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records that are never edited: the ledger and the disclosure log."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["user", "community", "points", "hours", "reason", "source", "created_at"]


@admin.register(ContactDisclosure)
class ContactDisclosureAdmin(ReadOnlyAdmin):
    list_display = ["viewer", "owner", "field", "subject", "created_at"]
