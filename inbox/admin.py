from django.contrib import admin

from inbox import models


@admin.register(models.Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "created_at"]
    search_fields = ["name", "identities__value"]


@admin.register(models.Identity)
class IdentityAdmin(admin.ModelAdmin):
    list_display = ["kind", "value", "contact", "opted_out"]
    search_fields = ["value"]


@admin.register(models.Inbox)
class InboxAdmin(admin.ModelAdmin):
    list_display = ["name", "channel", "address", "team"]


@admin.register(models.Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ["id", "contact", "inbox", "status", "assignee", "last_message_at"]
    list_filter = ["status", "inbox__channel"]
    raw_id_fields = ["contact", "last_message"]


@admin.register(models.Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["id", "conversation", "direction", "kind", "channel", "status", "created_at"]
    list_filter = ["direction", "kind", "channel", "status"]
    raw_id_fields = ["conversation", "contact", "identity"]


@admin.register(models.RawInboundEvent)
class RawInboundEventAdmin(admin.ModelAdmin):
    list_display = ["id", "channel", "endpoint", "result", "received_at", "error"]
    list_filter = ["channel", "result"]


admin.site.register([models.Team, models.AgentProfile, models.Label, models.CannedResponse, models.Event])
