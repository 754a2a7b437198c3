from django.contrib import admin

from tandem.timeline.models import Interaction


@admin.register(Interaction)
class InteractionAdmin(admin.ModelAdmin):
    list_display = ("__str__", "account", "kind", "occurred_at", "author")
    list_filter = ("kind",)
    search_fields = ("subject", "summary", "account__name")
    raw_id_fields = ("account", "author", "contacts")
    filter_horizontal = ("users",)
    list_select_related = ("account", "author")
    show_full_result_count = False
