from django.urls import path

from tandem.ingest import views

app_name = "ingest"
urlpatterns = [
    # Segment's HTTP Tracking API paths; no trailing slash, as the clients send them.
    path("v1/<str:call_type>", views.track_call, name="track"),
    path("sources/", views.source_list, name="sources"),
    path("sources/<int:source_id>/rotate/", views.source_rotate_view, name="source_rotate"),
    path("sources/<int:source_id>/revoke/", views.source_revoke_view, name="source_revoke"),
    path("sources/events/", views.event_catalog, name="events"),
]
