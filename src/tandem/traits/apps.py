from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TraitsConfig(AppConfig):
    name = "tandem.traits"
    label = "traits"
    verbose_name = _("Custom fields")
