from django.contrib import admin

from .models import Skill, TalentProfile, TalentSkill


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin):
    list_display = ["code", "name_zh_hans", "name_en", "requires_credential"]


class TalentSkillInline(admin.TabularInline):
    model = TalentSkill
    raw_id_fields = ["verified_by"]
    extra = 0


@admin.register(TalentProfile)
class TalentProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "headline", "accepting_requests"]
    inlines = [TalentSkillInline]
