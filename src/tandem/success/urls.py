from django.urls import path

from tandem.success import views

app_name = "success"
urlpatterns = [
    path("accounts/<int:account_id>/milestones/", views.account_milestones_section, name="account_milestones"),
    path("accounts/<int:account_id>/plan/", views.plan_page, name="plan"),
    path("accounts/<int:account_id>/plan/edit/", views.plan_edit, name="plan_edit"),
    path("accounts/<int:account_id>/outcomes/", views.outcome_add, name="outcome_add"),
    path("accounts/<int:account_id>/milestones/new/", views.milestone_add, name="milestone_add"),
    path("outcomes/<int:outcome_id>/", views.outcome_edit, name="outcome_edit"),
    path("milestones/<int:milestone_id>/complete/", views.milestone_complete_view, name="complete"),
]
