from django.urls import path

from tandem.notifications import views

app_name = "notifications"
urlpatterns = [
    path("", views.notification_list, name="list"),
    path("read/", views.mark_read, name="read"),
    path("unread/", views.unread_badge, name="unread"),
    path("preferences/", views.preferences, name="preferences"),
]
