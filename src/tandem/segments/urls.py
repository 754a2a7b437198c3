from django.urls import path

from tandem.segments import views

app_name = "segments"
urlpatterns = [
    path("", views.segments_page, name="list"),
    path("new/", views.segment_new, name="new"),
    path("builder/", views.segment_builder, name="builder"),
    path("<int:segment_id>/", views.segment_detail, name="detail"),
    path("<int:segment_id>/edit/", views.segment_edit, name="edit"),
    path("<int:segment_id>/delete/", views.segment_remove, name="delete"),
]
