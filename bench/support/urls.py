"""The site's URLs plus the baseline a benchmark compares against: a CSRF-protected POST that inserts one row
into a table the benchmark creates in its scratch database."""

from django.db import connection
from django.http import HttpResponseRedirect
from django.urls import path
from django.views.decorators.http import require_POST

from bench.support import BASELINE_TABLE
from dlsc.urls import urlpatterns as site_urlpatterns


@require_POST
def baseline(request):
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {BASELINE_TABLE} (name, email) VALUES (%s, %s)",  # noqa: S608 (a constant name)
            [request.POST.get("full_name", ""), request.POST.get("email", "")],
        )
    return HttpResponseRedirect("/")


urlpatterns = [path("bench/baseline/", baseline), *site_urlpatterns]
