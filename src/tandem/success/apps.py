from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SuccessConfig(AppConfig):
    name = "tandem.success"
    label = "success"
    verbose_name = _("Success plans")
