from django.contrib import admin

from tandem.notifications.models import DigestLog, Notification, NotificationPreference


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["title", "user", "created_at", "read_at", "emailed_at", "slack_sent_at"]
    search_fields = ["title", "user__username"]
    raw_id_fields = ["user"]


admin.site.register(NotificationPreference)
admin.site.register(DigestLog)
