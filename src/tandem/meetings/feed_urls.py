"""The feed lives outside /meetings/ so that calendar apps get a short URL; it needs no login."""

from django.urls import path

from tandem.meetings import views

app_name = "meetings_feed"
urlpatterns = [path("<str:token>.ics", views.feed, name="feed")]
