from django.contrib import admin

from .models import AidPost, Claim, PostEvent


class ClaimInline(admin.TabularInline):
    model = Claim
    extra = 0
    raw_id_fields = ["helper"]


class PostEventInline(admin.TabularInline):
    model = PostEvent
    extra = 0
    readonly_fields = ["actor", "from_status", "to_status", "created_at"]
    can_delete = False


@admin.register(AidPost)
class AidPostAdmin(admin.ModelAdmin):
    list_display = ["title", "community", "category", "status", "created_at"]
    list_filter = ["community", "status", "category"]
    raw_id_fields = ["author"]
    inlines = [ClaimInline, PostEventInline]
