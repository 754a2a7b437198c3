from django.contrib import admin

from tandem.jobs.models import Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "status", "attempts", "run_after", "locked_by", "finished_at"]
    list_filter = ["status", "name"]
    search_fields = ["key", "name"]
    readonly_fields = [f.name for f in Job._meta.fields]
