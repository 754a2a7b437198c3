from django.contrib import admin

from tandem.surveys.models import NpsResponse


@admin.register(NpsResponse)
class NpsResponseAdmin(admin.ModelAdmin):
    list_display = ["account", "contact", "score", "responded_at"]
    list_filter = ["score"]
    search_fields = ["account__name", "comment"]
    raw_id_fields = ["account", "contact"]
    date_hierarchy = "responded_at"
