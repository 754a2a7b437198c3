from django.contrib import admin

from tandem.opportunities.models import ChurnReason, Opportunity, Quota, RenewalPolicy


@admin.register(Opportunity)
class OpportunityAdmin(admin.ModelAdmin):
    list_display = ("name", "account", "kind", "stage", "forecast_category", "amount", "close_date", "owner")
    list_filter = ("kind", "stage", "forecast_category")
    search_fields = ("name", "account__name")
    raw_id_fields = ("account", "subscription", "next_subscription")


admin.site.register(ChurnReason)
admin.site.register(RenewalPolicy)


@admin.register(Quota)
class QuotaAdmin(admin.ModelAdmin):
    list_display = ("owner", "period_start", "period_end", "amount")
