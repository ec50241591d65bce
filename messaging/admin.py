from django.contrib import admin

from .models import Conversation


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    # Message bodies stay out of the admin: people's chats are not data to browse.
    list_display = ["title", "kind", "subject", "created_at"]
