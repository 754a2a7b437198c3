from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "tandem.audit"
    verbose_name = _("Audit history")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tandem.audit import registry

        registry.register_audited_models()
