from django.urls import path

from tandem.playbooks import manual_views, setup_views, views

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
    path("rules/builder/", views.rule_builder, name="rule_builder"),
    path("accounts/<int:account_id>/ctas/", views.account_ctas, name="account_ctas"),
    path("accounts/<int:account_id>/ctas/new/", manual_views.cta_new, name="cta_new"),
    path("library/", setup_views.library, name="library"),
    path("playbooks/", setup_views.playbook_list, name="playbooks"),
    path("playbooks/new/", setup_views.playbook_edit, name="playbook_new"),
    path("playbooks/<int:playbook_id>/", setup_views.playbook_edit, name="playbook_edit"),
    path("templates/", setup_views.template_list, name="templates"),
    path("templates/new/", setup_views.template_edit, name="template_new"),
    path("templates/<int:template_id>/", setup_views.template_edit, name="template_edit"),
    path("templates/preview/", setup_views.template_preview, name="template_preview"),
    path("pools/", setup_views.pool_list, name="pools"),
    path("pools/new/", setup_views.pool_edit, name="pool_new"),
    path("pools/<int:pool_id>/edit/", setup_views.pool_edit, name="pool_edit"),
]
