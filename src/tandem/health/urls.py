from django.urls import path

from tandem.health import setup_views, views

app_name = "health"
urlpatterns = [
    path("", views.portfolio, name="portfolio"),
    path("account/<int:account_id>/", views.account_section, name="account"),
    path("metrics/", views.metric_list, name="metrics"),
    path("metrics/suggest/", views.metric_suggest, name="metrics_suggest"),
    path("metrics/new/", setup_views.metric_edit, name="metric_new"),
    path("metrics/<int:metric_id>/", setup_views.metric_edit, name="metric_edit"),
    path("scorecards/new/", setup_views.scorecard_new, name="scorecard_new"),
    path("scorecards/<int:scorecard_id>/", views.scorecard_edit, name="scorecard"),
    path("scorecards/<int:scorecard_id>/measures/", setup_views.measure_add, name="measure_add"),
    path(
        "scorecards/<int:scorecard_id>/measures/<int:measure_id>/remove/",
        setup_views.measure_remove,
        name="measure_remove",
    ),
    path("scorecards/<int:scorecard_id>/preview/", views.scorecard_preview, name="scorecard_preview"),
    path("scorecards/<int:scorecard_id>/backtest/", views.scorecard_backtest, name="backtest"),
]
