"""Event pages, sign-up, registration links, calendars and the door check-in page."""

from django.urls import path

from events import views

app_name = "events"
urlpatterns = [
    path("", views.event_list, name="list"),
    path("past/", views.event_past, name="past"),
    path("calendar.ics", views.calendar_feed, name="feed"),
    path("hub/<slug:slug>/calendar.ics", views.hub_calendar_feed, name="hub_feed"),
    path("registration/<str:token>/", views.registration_detail, name="registration"),
    path("registration/<str:token>/cancel/", views.registration_cancel, name="registration_cancel"),
    path("<slug:slug>/", views.event_detail, name="detail"),
    path("<slug:slug>/register/", views.event_register, name="register"),
    path("<slug:slug>/calendar.ics", views.event_calendar, name="ics"),
    path("<slug:slug>/check-in/", views.checkin, name="checkin"),
]
