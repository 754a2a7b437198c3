from django.contrib import admin

from tandem.metrics.forms import MetricDefinitionForm
from tandem.metrics.models import MetricDefinition


@admin.register(MetricDefinition)
class MetricDefinitionAdmin(admin.ModelAdmin):
    form = MetricDefinitionForm
    list_display = ["key", "name", "kind", "window_days", "higher_is_better", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["key", "name"]
