from django.urls import path

from accounts import views

app_name = "accounts"
urlpatterns = [
    path("", views.portal, name="portal"),
    path("profile/", views.profile_edit, name="profile"),
    path("data/", views.personal_data_download, name="personal_data"),
    path("data/page/", views.personal_data_page, name="personal_data_page"),
    path("delete/", views.account_delete, name="delete"),
]
