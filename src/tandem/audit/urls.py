from django.urls import path

from tandem.audit import views

app_name = "audit"
urlpatterns = [
    path("audit/", views.audit_log, name="log"),
    path("audit/history/<int:content_type_id>/<int:object_id>/", views.object_history, name="history"),
]
