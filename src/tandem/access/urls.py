from django.urls import path

from tandem.access import views

app_name = "access"
urlpatterns = [
    path("settings/access/", views.access_rules, name="rules"),
    path("settings/access/teams/new/", views.team_edit, name="team_new"),
    path("settings/access/teams/<int:team_id>/", views.team_edit, name="team_edit"),
    path("settings/access/teams/<int:team_id>/delete/", views.team_remove, name="team_delete"),
]
