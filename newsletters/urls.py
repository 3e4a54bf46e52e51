"""Newsletter URLs under /<language>/newsletter/."""

from django.urls import path

from newsletters import views

app_name = "newsletters"
urlpatterns = [
    path("", views.subscribe, name="subscribe"),
    path("confirm/<str:token>/", views.confirm, name="confirm"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("preferences/<str:token>/", views.preferences, name="preferences"),
    path("account/", views.account_topics, name="account_topics"),
    path("archive/", views.archive, name="archive"),
    path("archive/feed/", views.ArchiveFeed(), name="archive_feed"),
    path("archive/<int:pk>/", views.archive_detail, name="archive_detail"),
]
