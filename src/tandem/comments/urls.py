from django.urls import path

from tandem.comments import views

app_name = "comments"
urlpatterns = [
    path("comments/<str:kind>/<int:object_id>/", views.thread, name="thread"),
    path("comments/<str:kind>/<int:object_id>/people/", views.people, name="people"),
    path("comments/<int:comment_id>/delete/", views.delete, name="delete"),
]
