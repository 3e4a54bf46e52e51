from django.urls import path

from accounts import views

app_name = "accounts"
urlpatterns = [
    path("", views.portal, name="portal"),
    path("profile/", views.profile_edit, name="profile"),
]
