from django.urls import path

from tandem.support import views

app_name = "support"
urlpatterns = [
    path("tickets/<int:ticket_id>/", views.ticket_detail, name="ticket"),
]
