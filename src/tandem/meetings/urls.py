from django.urls import path

from tandem.meetings import views

app_name = "meetings"
urlpatterns = [
    path("", views.my_meetings, name="mine"),
    path("accounts/<int:account_id>/new/", views.meeting_new, name="new"),
    path("accounts/<int:account_id>/section/", views.account_section, name="account_section"),
    path("<int:meeting_id>/", views.meeting_detail, name="detail"),
    path("<int:meeting_id>/edit/", views.meeting_edit, name="edit"),
    path("<int:meeting_id>/cancel/", views.meeting_cancel, name="cancel"),
    path("<int:meeting_id>/notes/", views.meeting_notes, name="notes"),
    path("calendar/", views.calendar_settings, name="calendar"),
    path("calendar/feed/rotate/", views.feed_rotate, name="feed_rotate"),
    path("calendar/feed/revoke/", views.feed_revoke, name="feed_revoke"),
    path("calendar/caldav/", views.caldav_save, name="caldav_save"),
    path("calendar/caldav/delete/", views.caldav_delete, name="caldav_delete"),
]
