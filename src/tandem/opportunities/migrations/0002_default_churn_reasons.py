from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

REASONS = (
    ("budget", "Budget cut"),
    ("product_fit", "Product did not fit"),
    ("competitor", "Moved to a competitor"),
    ("champion_left", "Champion left"),
    ("low_adoption", "Low adoption"),
    ("acquired", "Acquired or merged"),
    ("out_of_business", "Went out of business"),
    ("support", "Support experience"),
)


def add_reasons(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    ChurnReason = apps.get_model("opportunities", "ChurnReason")
    for code, name in REASONS:
        ChurnReason.objects.get_or_create(code=code, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("opportunities", "0001_initial")]
    operations = [migrations.RunPython(add_reasons, migrations.RunPython.noop)]
