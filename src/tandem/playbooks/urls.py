from django.urls import path

from tandem.playbooks import views

app_name = "playbooks"
urlpatterns = [
    path("my-day/", views.my_day, name="my_day"),
    path("team/", views.team, name="team"),
    path("pools/<int:pool_id>/", views.pool, name="pool"),
    path("ctas/<int:cta_id>/", views.cta_detail, name="cta"),
    path("ctas/<int:cta_id>/close/", views.cta_close, name="cta_close"),
    path("ctas/<int:cta_id>/opportunity/", views.cta_expansion_opportunity, name="cta_opportunity"),
    path("ctas/<int:cta_id>/snooze/", views.cta_snooze, name="cta_snooze"),
    path("ctas/<int:cta_id>/reassign/", views.cta_reassign, name="cta_reassign"),
    path("tasks/<int:task_id>/complete/", views.task_complete, name="task_complete"),
    path("tasks/<int:task_id>/send/", views.task_send_email, name="task_send"),
    path("rules/", views.rules, name="rules"),
    path("rules/new/", views.rule_edit, name="rule_new"),
    path("rules/<int:rule_id>/", views.rule_edit, name="rule_edit"),
    path("rules/preview/", views.rule_preview, name="rule_preview"),
    path("accounts/<int:account_id>/ctas/", views.account_ctas, name="account_ctas"),
]
