from django.contrib import admin

from tandem.success.models import SuccessMilestone


@admin.register(SuccessMilestone)
class SuccessMilestoneAdmin(admin.ModelAdmin):
    list_display = ["title", "account", "due_date", "completed_at", "owner"]
    list_filter = ["completed_at"]
    search_fields = ["title", "account__name"]
    raw_id_fields = ["account", "owner"]
