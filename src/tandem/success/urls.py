from django.urls import path

from tandem.success import views

app_name = "success"
urlpatterns = [
    path("accounts/<int:account_id>/milestones/", views.account_milestones_section, name="account_milestones"),
    path("milestones/<int:milestone_id>/complete/", views.milestone_complete_view, name="complete"),
]
