from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from tandem.api.main import api
from tandem.users import views as user_views

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="web/login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/setlang/", user_views.language_switch, name="set_language"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("accounts/", include("tandem.accounts.urls")),
    path("health/", include("tandem.health.urls")),
    path("opportunities/", include("tandem.opportunities.urls")),
    path("revenue/", include("tandem.revenue.urls")),
    path("reports/", include("tandem.reports.urls")),
    path("", include("tandem.users.urls")),
    path("", include("tandem.web.urls")),
    path("playbooks/", include("tandem.playbooks.urls")),
    path("notifications/", include("tandem.notifications.urls")),
    path("success/", include("tandem.success.urls")),
    path("shared/", include("tandem.success.shared_urls")),
    path("", include("tandem.traits.urls")),
    path("segments/", include("tandem.segments.urls")),
    path("support/", include("tandem.support.urls")),
    path("timeline/", include("tandem.timeline.urls")),
    path("subscriptions/", include("tandem.subscriptions.urls")),
    path("jobs/", include("tandem.jobs.urls")),
    path("", include("tandem.ingest.urls")),
    path("", include("tandem.access.urls")),
    path("", include("tandem.audit.urls")),
    path("", include("tandem.webhooks.urls")),
    path("", include("tandem.comments.urls")),
    path("meetings/", include("tandem.meetings.urls")),
    path("calendar/", include("tandem.meetings.feed_urls")),
    path("", include("tandem.maillog.urls")),
]
handler404 = "tandem.web.views.page_not_found"
handler403 = "tandem.web.views.permission_denied"

admin.site.site_header = _("Tandem administration")
admin.site.site_title = _("Tandem")
admin.site.index_title = _("Customer data")
