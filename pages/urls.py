from django.urls import path

from pages import views
from pages.models import Page

app_name = "pages"
urlpatterns = [path(f"{kind}/", views.page_detail, {"kind": kind}, name=kind) for kind in Page.Kind.values]
