from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from tandem.daily.models import DailyRun, DailyRunStep

STEP_FIELDS = ("step", "result", "seconds", "finished_at")


class DailyRunStepInline(admin.TabularInline):
    model = DailyRunStep
    extra = 0
    can_delete = False
    fields = STEP_FIELDS
    readonly_fields = STEP_FIELDS

    def has_add_permission(self, request: HttpRequest, obj: DailyRun | None = None) -> bool:
        return False


@admin.register(DailyRun)
class DailyRunAdmin(admin.ModelAdmin):
    list_display = ["id", "day", "key", "acting_user", "started_at", "finished_at"]
    list_filter = ["day"]
    search_fields = ["key"]
    readonly_fields = [f.name for f in DailyRun._meta.fields]
    inlines = [DailyRunStepInline]
