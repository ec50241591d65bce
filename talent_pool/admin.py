from django.contrib import admin

from .models import AvailabilitySlot, Credential, Skill, SkillArea, TalentProfile, TalentSkill


class SkillInline(admin.TabularInline):
    model = Skill
    fields = ["code", "name_zh_hans", "name_en", "requires_credential"]
    extra = 0


@admin.register(SkillArea)
class SkillAreaAdmin(admin.ModelAdmin):
    list_display = ["code", "name_zh_hans", "name_en", "position"]
    list_editable = ["position"]
    search_fields = ["code", "name_zh_hans", "name_en"]
    inlines = [SkillInline]


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin):
    list_display = ["code", "name_zh_hans", "name_en", "area", "requires_credential"]
    list_filter = ["area", "requires_credential"]
    list_select_related = ["area"]
    search_fields = ["code", "name_zh_hans", "name_en"]


class TalentSkillInline(admin.TabularInline):
    model = TalentSkill
    fields = ["skill", "level", "description", "verified_by", "verified_at"]
    # Vouching is a committee decision, made and recorded on the site (talent_skill_verify).
    readonly_fields = ["verified_by", "verified_at"]
    extra = 0


class AvailabilitySlotInline(admin.TabularInline):
    model = AvailabilitySlot
    extra = 0


@admin.register(TalentProfile)
class TalentProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "headline", "accepting_requests", "service_radius_m"]
    list_filter = ["accepting_requests"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__profile__display_name", "headline"]
    inlines = [TalentSkillInline, AvailabilitySlotInline]


@admin.register(Credential)
class CredentialAdmin(admin.ModelAdmin):
    """Read only: the committee decides on the site, where who and when are recorded.

    The photo is left out on purpose: it carries an ID number and is served only by the
    talent pool's own view, to the talent and their committee, never by a media URL.
    """

    list_display = ["talent_skill", "status", "expires_on", "created_at", "decided_by", "decided_at"]
    list_filter = ["status", "talent_skill__skill"]
    list_select_related = ["talent_skill__talent__user", "talent_skill__skill", "decided_by"]
    search_fields = ["talent_skill__talent__user__username", "talent_skill__talent__user__profile__display_name"]
    fields = [
        "talent_skill",
        "number",
        "expires_on",
        "status",
        "created_at",
        "decided_by",
        "decided_at",
        "decision_reason",
        "reminded_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        # Deleting the row here would leave the photo, with its ID number, in storage.
        return False
