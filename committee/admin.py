from django.contrib import admin

from .models import Report


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    """Read only: reports are decided on the committee's pages, with a record of who decided.
    What was reported (the snapshot and the note) stays there too: as with messages, people's
    words are not data for the site admin to browse."""

    list_display = ["created_at", "target_kind", "target_id", "community", "reason", "status", "decided_at"]
    list_filter = ["status", "target_kind", "reason", "community"]
    fields = ["target_kind", "target_id", "community", "reason", "status", "created_at", "decided_at"]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
