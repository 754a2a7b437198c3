from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommentsConfig(AppConfig):
    name = "tandem.comments"
    verbose_name = _("Comments")
    default_auto_field = "django.db.models.BigAutoField"
