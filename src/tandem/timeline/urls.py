from django.urls import path

from tandem.timeline import views

app_name = "timeline"
urlpatterns = [
    path("accounts/<int:account_id>/log/", views.log_interaction, name="log"),
    path("accounts/<int:account_id>/timeline/", views.account_timeline, name="account"),
    path("accounts/<int:account_id>/notes/", views.note_new, name="note_new"),
    path("contacts/<int:contact_id>/timeline/", views.contact_timeline, name="contact"),
    path("entries/<int:interaction_id>/edit/", views.interaction_edit, name="edit"),
    path("entries/<int:interaction_id>/delete/", views.interaction_remove, name="delete"),
    path("entries/<int:interaction_id>/pin/", views.interaction_pin_toggle, name="pin"),
    path("attachments/<int:attachment_id>/", views.attachment_download, name="attachment"),
    path("ctas/<int:cta_id>/notes/", views.cta_notes, name="cta_notes"),
]
