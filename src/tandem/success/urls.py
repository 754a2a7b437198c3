from django.urls import path

from tandem.success import views

app_name = "success"
urlpatterns = [
    path("outcomes/", views.portfolio, name="portfolio"),
    path("templates/", views.templates_page, name="templates"),
    path("templates/<int:template_id>/delete/", views.template_delete, name="template_delete"),
    path("accounts/<int:account_id>/plan/template/", views.template_apply, name="template_apply"),
    path("accounts/<int:account_id>/plan/save-as-template/", views.template_save, name="template_save"),
    path("accounts/<int:account_id>/milestones/", views.account_milestones_section, name="account_milestones"),
    path("accounts/<int:account_id>/plan/", views.plan_page, name="plan"),
    path("accounts/<int:account_id>/plan/edit/", views.plan_edit, name="plan_edit"),
    path("accounts/<int:account_id>/outcomes/", views.outcome_add, name="outcome_add"),
    path("accounts/<int:account_id>/milestones/new/", views.milestone_add, name="milestone_add"),
    path("outcomes/<int:outcome_id>/", views.outcome_edit, name="outcome_edit"),
    path("accounts/<int:account_id>/plan/shares/", views.share_create, name="share_create"),
    path("accounts/<int:account_id>/plan/export/", views.plan_export, name="plan_export"),
    path("plans/<int:plan_id>/", views.plan_of, name="plan_of"),
    path("shares/<int:share_id>/revoke/", views.share_revoke, name="share_revoke"),
    path("milestones/<int:milestone_id>/complete/", views.milestone_complete_view, name="complete"),
]
