from django.contrib import admin

from tandem.accounts.models import Account, Contact, ContactRole


class ContactRoleInline(admin.TabularInline):
    model = ContactRole
    extra = 0


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    fields = ("first_name", "last_name", "email", "title", "is_primary", "still_at_company")
    show_change_link = True


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "tier",
        "lifecycle_stage",
        "country",
        "arr",
        "renewal_date",
        "csm_owner",
        "am_owner",
    )
    list_filter = ("tier", "lifecycle_stage", "country")
    search_fields = ("name", "domain", "external_id", "crm_id", "billing_id")
    raw_id_fields = ("parent",)
    list_select_related = ("csm_owner", "am_owner")
    readonly_fields = ("mrr", "arr", "renewal_date", "created_at", "updated_at")
    inlines = [ContactInline]
    show_full_result_count = False


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("__str__", "account", "email", "title", "is_primary", "still_at_company")
    list_filter = ("is_primary", "still_at_company", "roles__role")
    search_fields = ("first_name", "last_name", "email", "account__name")
    raw_id_fields = ("account",)
    list_select_related = ("account",)
    inlines = [ContactRoleInline]
    show_full_result_count = False
