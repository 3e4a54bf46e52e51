"""URL wiring: language-prefixed pages under /da/ and /en/, plus a few unprefixed endpoints."""

from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from dlsc import views
from dlsc.dashboard import staff_figures
from hubs import views as hub_views

# The hub page shows events and members too, so its view lives above those apps (dlsc/views.py).
hub_urls = (
    [path("", hub_views.hub_index, name="list"), path("<slug:slug>/", views.hub_detail, name="detail")],
    "hubs",
)

# The admin's own login form is bypassed: staff log in through allauth, so its rate limits and MFA apply.
admin.site.login = secure_admin_login(admin.site.login)
_admin_index = admin.site.index


def _admin_index_with_figures(request, extra_context=None):
    """The admin index with what staff act on, gathered from apps that must not import each other."""
    return _admin_index(
        request, extra_context={"staff_figures": staff_figures(user=request.user), **(extra_context or {})}
    )


admin.site.index = _admin_index_with_figures

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("webhooks/anymail/", include("newsletters.webhooks")),
    path("favicon.ico", RedirectView.as_view(url=settings.STATIC_URL + "img/favicon.svg", permanent=True)),
]

urlpatterns += i18n_patterns(
    path("", views.home, name="home"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("account/", include("accounts.urls")),
    path("hubs/", include(hub_urls)),
    path("members/", include("members.urls")),
    path("events/", include("events.urls")),
    path("matchmaking/", include("events.matchmaking.urls")),
    path("newsletter/", include("newsletters.urls")),
    path("about/", include("pages.urls")),
    prefix_default_language=True,
)

if settings.SERVE_MEDIA:
    # Development and tests only: in a deployment the proxy in docker-compose.yml serves /media/ from the volume.
    urlpatterns += [
        re_path(r"^media/(?P<path>.*)$", views.media, name="media"),
    ]
