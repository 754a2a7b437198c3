from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MaillogConfig(AppConfig):
    name = "tandem.maillog"
    verbose_name = _("Email logging")
    default_auto_field = "django.db.models.BigAutoField"
