from django.urls import path

from tandem.maillog import views

app_name = "maillog"
urlpatterns = [
    path("mail/address/", views.address_page, name="address"),
    path("mail/address/rotate/", views.address_rotate, name="rotate"),
    path("mail/unassigned/", views.unassigned_list, name="unassigned"),
    path("mail/<int:email_id>/", views.email_detail, name="detail"),
    path("mail/<int:email_id>/assign/", views.email_assign, name="assign"),
    path("mail/<int:email_id>/attachments/<int:attachment_id>/", views.attachment_download, name="attachment"),
]
