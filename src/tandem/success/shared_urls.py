from django.urls import path

from tandem.success import shared_views

app_name = "shared"
urlpatterns = [
    path("plans/<str:token>/", shared_views.shared_plan, name="plan"),
    path("plans/<str:token>/code/", shared_views.shared_plan_code, name="code"),
]
