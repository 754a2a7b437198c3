from django.urls import path

from tandem.web import views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("settings/", views.settings_page, name="settings"),
]
