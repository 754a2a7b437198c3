from django.contrib import admin

from tandem.support.models import Ticket


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = (
        "subject",
        "account",
        "priority",
        "status",
        "opened_at",
        "closed_at",
        "satisfaction",
    )
    list_filter = ("priority", "status")
    search_fields = ("subject", "external_id", "account__name")
    raw_id_fields = ("account", "contact")
    list_select_related = ("account",)
    show_full_result_count = False
