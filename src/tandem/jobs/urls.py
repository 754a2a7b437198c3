from django.urls import path

from tandem.jobs import views

app_name = "jobs"
urlpatterns = [
    path("computations/<int:computation_id>/", views.computation_status, name="computation"),
    path("computations/<int:computation_id>/file/", views.computation_download, name="computation_file"),
]
