from django.urls import path

from tandem.opportunities import setup_views, views

app_name = "opportunities"
urlpatterns = [
    path("renewals/", views.renewals, name="renewals"),
    path("renewals/export.csv", views.renewals_export, name="renewals_export"),
    path("renewals/open-due/", views.renewals_open, name="renewals_open"),
    path("pipeline/", views.pipeline, name="pipeline"),
    path("pipeline/export.csv", views.pipeline_export, name="pipeline_export"),
    path("new/", views.create, name="create"),
    path("forecast/", views.forecast_page, name="forecast"),
    path("forecast/quota/", views.quota_save, name="quota_save"),
    path("account/<int:account_id>/", views.account_section, name="account_section"),
    path("<int:opportunity_id>/", views.detail, name="detail"),
    path("<int:opportunity_id>/renewal/", views.renewal_action, name="renewal_action"),
    path("<int:opportunity_id>/stage/", views.move_stage, name="move_stage"),
    path("settings/", setup_views.renewal_settings, name="settings"),
]
