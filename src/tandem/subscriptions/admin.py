from django.contrib import admin

from tandem.subscriptions.models import ExchangeRate, Product, Subscription, SubscriptionItem


class SubscriptionItemInline(admin.TabularInline):
    model = SubscriptionItem
    extra = 0


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = (
        "account",
        "status",
        "start_date",
        "end_date",
        "renewal_date",
        "currency",
        "mrr",
        "arr",
    )
    list_filter = ("status", "currency", "billing_period", "auto_renew")
    search_fields = ("account__name", "external_id")
    raw_id_fields = ("account",)
    list_select_related = ("account",)
    readonly_fields = ("mrr", "arr")
    inlines = [SubscriptionItemInline]
    show_full_result_count = False


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "kind", "unit_label", "is_active")


@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin):
    list_display = ("currency", "valid_from", "rate")
    list_filter = ("currency",)
