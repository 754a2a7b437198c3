from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UsersConfig(AppConfig):
    name = "tandem.users"
    label = "users"
    verbose_name = _("Users and roles")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from tandem.users.roles import sync_role_groups_after_migrate

        # Runs after every app so that permissions of apps migrated later exist too; cheap.
        post_migrate.connect(sync_role_groups_after_migrate)
