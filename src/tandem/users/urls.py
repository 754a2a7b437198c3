from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from tandem.users import views

app_name = "users"
urlpatterns = [
    path("settings/api-tokens/", views.api_tokens, name="api_tokens"),
    path(
        "settings/api-tokens/<int:token_id>/revoke/",
        views.api_token_revoke_view,
        name="api_token_revoke",
    ),
    path("settings/users/", views.user_list_view, name="list"),
    path("settings/users/<int:user_id>/", views.user_edit_view, name="edit"),
    path(
        "set-password/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="users/set_password.html",
            success_url=reverse_lazy("login"),
            post_reset_login=False,
        ),
        name="set_password",
    ),
]
