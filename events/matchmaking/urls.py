"""Participant pages of an event's matchmaking, all under the event's slug."""

from django.urls import path

from events.matchmaking import views

app_name = "matchmaking"
urlpatterns = [
    path("", views.index, name="index"),
    path("<slug:slug>/", views.catalogue, name="catalogue"),
    path("<slug:slug>/join/", views.join, name="join"),
    path("<slug:slug>/me/", views.profile_edit, name="profile_edit"),
    path("<slug:slug>/people/<int:pk>/", views.profile_detail, name="profile"),
    path("<slug:slug>/suggestions/", views.suggestion_list, name="suggestions"),
    path("<slug:slug>/requests/", views.request_list, name="requests"),
    path("<slug:slug>/requests/<int:pk>/<str:answer>/", views.request_answer, name="request_answer"),
    path("<slug:slug>/agenda/", views.agenda_page, name="agenda"),
    path("<slug:slug>/agenda.ics", views.agenda_ics, name="agenda_ics"),
    path("<slug:slug>/meetings/<int:pk>/feedback/", views.feedback, name="feedback"),
]
