from django.urls import path

from tandem.users import views

app_name = "users"
urlpatterns = [
    path("settings/api-tokens/", views.api_tokens, name="api_tokens"),
    path(
        "settings/api-tokens/<int:token_id>/revoke/",
        views.api_token_revoke_view,
        name="api_token_revoke",
    ),
]
