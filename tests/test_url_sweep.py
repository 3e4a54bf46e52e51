"""Every URL of the project answers hostile paths, bodies and methods with a 4xx (or a redirect), never a 500, and a
Danish error page under /da/."""

import re
from html.parser import HTMLParser
from urllib.parse import quote

import pytest
from django.core import signing
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern
from django.utils import translation

from tests.factories import (
    CampaignFactory,
    EventFactory,
    EventQuestionFactory,
    MatchmakingEventFactory,
    OrganisationRoleFactory,
    SubscriberFactory,
    TopicFactory,
    UserFactory,
    matchmaking_profile,
    member_organisation_create,
)

HUGE = "99999999999999999999"
TEXT_VALUES = ["does-not-exist", "x" * 300, "%00", "../../etc/passwd", "<script>alert(1)</script>", "ø", "ü-ø-æ"]
LANGUAGES = ("da", "en")
# The project's own views under /admin/ (everything else there is Django's admin, tested by Django).
CUSTOM_ADMIN = {
    "matchmaking_grid",
    "matchmaking_report",
    "events_registration_retention",
    "newsletters_subscriber_consent",
    "newsletters_subscriber_import",
    "newsletters_campaign_preview",
    "newsletters_campaign_schedule",
    "newsletters_campaign_control",
    "newsletters_campaign_send",
    "outbox_outboxmessage_html",
}
COMMON_FIELDS = ["email", "name", "full_name", "message", "q", "password", "password1", "password2", "token"]


def _walk(resolver, prefix="", namespace=""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry, prefix + str(entry.pattern), inner)
        else:
            yield prefix + str(entry.pattern), f"{namespace}{entry.name}", entry


def _route(route: str, name: str, entry: URLPattern) -> dict | None:
    """One URL to sweep, or None for Django's own admin internals."""
    admin = route.startswith("{lang}/admin/") or "admin:" in name
    if admin and name.split(":")[-1] not in CUSTOM_ADMIN:
        return None
    if not isinstance(entry.pattern, RoutePattern):
        # allauth's two regex routes: both take a key that is filled in like a token.
        params = list(re.compile(str(entry.pattern)).groupindex)
        template = re.sub(r"\^|\$", "", route)
        template = template.replace("(?P<uidb36>[0-9A-Za-z]+)-(?P<key>.+)", "{uidb36}-{key}")
        template = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", template)
        return {"name": name, "template": template, "params": dict.fromkeys(params, "str"), "admin": admin}
    converters = {key: type(value).__name__ for key, value in entry.pattern.converters.items()}
    template = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)
    return {"name": name, "template": template, "params": converters, "admin": admin}


def _routes() -> list[dict]:
    resolver = get_resolver()
    routes = []
    for route, name, entry in _walk(resolver):
        route = route.replace("da/", "{lang}/", 1) if route.startswith("da/") else route
        found = _route(route, name, entry)
        if found:
            routes.append(found)
    return routes


with translation.override("da"):
    ROUTES = _routes()


# --- the world the sweep runs in ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """One set of objects for the whole module: built once in a transaction that is rolled back at the end, each
    test runs in a savepoint inside it."""
    from events.matchmaking import services as matchmaking_services
    from events.matchmaking.models import MatchmakingConfig
    from events.services import registration_token
    from members.models import Invitation
    from members.services import invitation_token
    from newsletters.services import CONFIRM_SALT, PREFERENCES_SALT, UNSUBSCRIBE_SALT, subscriber_token

    # The sweep sends many passwords; a cheap hasher keeps each from costing a PBKDF2 run.
    fast = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
    with django_db_blocker.unblock(), fast, transaction.atomic():
        with translation.override("da"):
            own = member_organisation_create()
            foreign = member_organisation_create()
            owner = OrganisationRoleFactory(organisation=own, role="admin").user
            colleague = OrganisationRoleFactory(organisation=own, role="member").user
            outsider = OrganisationRoleFactory(organisation=foreign, role="admin").user
            plain = UserFactory()
            invitation = Invitation.objects.create(
                organisation=own, email="invitee@example.com", role="member", invited_by=owner, nonce="a" * 32
            )
            event = EventFactory()
            EventQuestionFactory(event=event, kind="text", required=True)
            mm_event = MatchmakingEventFactory()
            me = matchmaking_profile(event=mm_event, user=owner, full_name=owner.full_name, email=owner.email)
            other = matchmaking_profile(event=mm_event)
            request = matchmaking_services.request_send(sender=me, recipient=other, message="Let us talk about it.")
            matchmaking_services.request_accept(request=request, by=other.user)
            request.refresh_from_db()
            topic = TopicFactory()
            subscriber = SubscriberFactory(topics=[topic])
            campaign = CampaignFactory(topics=[topic])
            registration = me.registration
            real = {
                "registration": registration_token(registration),
                "invitation": invitation_token(invitation),
                "confirm": subscriber_token(subscriber=subscriber, salt=CONFIRM_SALT),
                "unsubscribe": subscriber_token(subscriber=subscriber, salt=UNSUBSCRIBE_SALT),
                "preferences": subscriber_token(subscriber=subscriber, salt=PREFERENCES_SALT),
            }
            yield {
                "users": {"anonymous": None, "outsider": outsider, "plain": plain, "owner": owner},
                "colleague": colleague,
                "own": own,
                "foreign": foreign,
                "invitation": invitation,
                "event": event,
                "mm_event": mm_event,
                "request": request,
                "meeting": request.meeting,
                "other": other,
                "campaign": campaign,
                "subscriber": subscriber,
                "config": MatchmakingConfig.objects.get(event=mm_event),
                "tokens": real,
            }
        transaction.set_rollback(True)


def _valid(world, name: str, param: str) -> str:
    """A value for a path parameter that names a real object the owner may reach."""
    short = name.split(":")[-1]
    tokens = world["tokens"]
    table = {
        ("members:invitation", "token"): tokens["invitation"],
        ("events:registration", "token"): tokens["registration"],
        ("events:registration_cancel", "token"): tokens["registration"],
        ("newsletters:confirm", "token"): tokens["confirm"],
        ("newsletters:unsubscribe", "token"): tokens["unsubscribe"],
        ("newsletters:preferences", "token"): tokens["preferences"],
        ("members:invitation_revoke", "invitation_pk"): world["invitation"].pk,
        ("matchmaking:profile", "pk"): world["other"].pk,
        ("matchmaking:request_answer", "pk"): world["request"].pk,
        ("matchmaking:request_answer", "answer"): "accept",
        ("matchmaking:feedback", "pk"): world["meeting"].pk,
        ("newsletters:archive_detail", "pk"): world["campaign"].pk,
        ("members:organisation", "slug"): world["own"].slug,
        ("hubs:detail", "slug"): "copenhagen",
        ("events:hub_feed", "slug"): "copenhagen",
    }
    if (name, param) in table:
        return str(table[(name, param)])
    if name.startswith("matchmaking:") and param == "slug":
        return world["mm_event"].slug
    if name.startswith("events:") and param == "slug":
        return world["event"].slug
    if name.startswith("members:") and param == "pk":
        return str(world["own"].pk)
    if param == "user_pk":
        return str(world["colleague"].pk)
    if short.startswith("newsletters_campaign"):
        return {"pk": str(world["campaign"].pk), "language": "da", "operation": "pause"}.get(param, "x")
    if short.startswith("newsletters_subscriber"):
        return str(world["subscriber"].pk)
    if short == "matchmaking_grid":
        return str(world["config"].pk)
    return "x"


def _hostile(world, name: str, param: str, converter: str) -> list[str]:
    if converter == "IntConverter":
        foreign = world["foreign"].pk if param == "pk" and name.startswith("members:") else world["meeting"].pk + 1000
        return ["0", HUGE, str(foreign)]
    values = list(TEXT_VALUES)
    if param in ("token", "key"):
        real = _valid(world, name, param) if name.split(":")[0] in ("members", "events", "newsletters") else "abc"
        values += ["garbage", real[: len(real) // 2], signing.dumps({"r": 1, "i": 1}, salt="another.purpose")]
    return values


def _url(language: str, route: dict, values: dict) -> str:
    filled = {key: quote(value, safe="/%") for key, value in values.items()}
    return "/" + route["template"].format(lang=language, **filled).removeprefix("/")


# --- requests and checks -----------------------------------------------------------------------------------------


class _Fields(HTMLParser):
    def __init__(self):
        super().__init__()
        self.fields = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("input", "select", "textarea") and attrs.get("name") and attrs.get("name") != "csrfmiddlewaretoken":
            self.fields[attrs["name"]] = attrs.get("type", tag)


def _form_fields(html: str) -> dict:
    parser = _Fields()
    parser.feed(html)
    return parser.fields or dict.fromkeys(COMMON_FIELDS, "text")


def _wrong(kind: str) -> str:
    return {"email": "not-an-email", "number": "abc", "date": "2026-02-31", "datetime-local": "yesterday"}.get(
        kind, "abc"
    )


def _bodies(fields: dict) -> dict:
    return {
        "empty": {},
        "oversized": dict.fromkeys(fields, "x" * 10000),
        "markup": dict.fromkeys(fields, '<script>alert("x")</script><b>'),
        "wrong-types": {
            name: _wrong(kind) if kind != "text" else ("not-an-email" if "email" in name else "2026-13-45")
            for name, kind in fields.items()
        },
    }


def _client(user, *, csrf=False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    if user is not None:
        client.force_login(user)
    return client


def _problems(response, url: str, who: str, case: str) -> list[str]:
    problems = []
    if response.status_code >= 500:
        problems.append(f"{case} {who} {url}: {response.status_code}")
    elif (
        400 <= response.status_code < 500
        and url.startswith("/da/")
        and "text/html" in response.get("Content-Type", "")
        and response.content
        and '<html lang="da"' not in response.content.decode(errors="replace")
    ):
        problems.append(f"{case} {who} {url}: {response.status_code} page not Danish")
    return problems


def _admin_problems(response, url: str, who: str, case: str) -> list[str]:
    if response.status_code == 302 and "/login/" in response["Location"]:
        return []
    if response.status_code == 403 and "csrf" in case:
        return []
    if response.status_code == 400 and case.startswith("query"):
        return []  # Django refuses to redirect to a URL over 2,048 characters (DisallowedRedirect)
    return [f"{case} {who} {url}: {response.status_code}, expected a redirect to log in"]


def _check(route: dict, who: str, response, url: str, case: str) -> list[str]:
    """Anonymous admin requests go to log in; everything else answers below 500, and 4xx pages under /da/ are
    Danish (the admin's own pages excepted: staff see them in their own language)."""
    if route["admin"] and who == "anonymous":
        return _admin_problems(response, url, who, case)
    if route["admin"] or route["template"].startswith("webhooks/"):
        return [f"{case} {who} {url}: {response.status_code}"] if response.status_code >= 500 else []
    return _problems(response, url, who, case)


def _users(world, route: dict) -> dict:
    if route["template"].startswith("webhooks/"):
        return {"anonymous": None}
    if route["admin"]:
        return {"anonymous": None, "plain": world["users"]["plain"]}
    return world["users"]


def _languages(route: dict) -> tuple:
    return LANGUAGES if "{lang}" in route["template"] else ("",)


def _id(route: dict) -> str:
    return route["template"].replace("{lang}/", "")


@pytest.fixture(autouse=True)
def _webhook_secret(settings):
    """As deployed: the mail provider's webhooks are protected by a shared secret (without one anymail refuses to
    run, by design)."""
    settings.ANYMAIL = {"WEBHOOK_SECRET": "hook:s3cret"}


PATH_CASES = [(route, param) for route in ROUTES for param in route["params"]]
BODY_CASES = ["forms", "raw", "query", "methods"]


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "param"), PATH_CASES, ids=[f"{_id(route)}-{param}" for route, param in PATH_CASES])
def test_hostile_path_values_never_answer_500(world, route, param):
    problems = []
    clients = {who: _client(user) for who, user in _users(world, route).items() if who != "owner"}
    for value in _hostile(world, route["name"], param, route["params"][param]):
        values = {key: _valid(world, route["name"], key) for key in route["params"]} | {param: value}
        for language in _languages(route):
            url = _url(language, route, values)
            for who, client in clients.items():
                problems += _check(route, who, client.get(url), url, f"GET {param}={value!r}")
                if language != "en":
                    problems += _check(route, who, client.post(url), url, f"POST {param}={value!r}")
    assert problems == []


def _form_responses(client, url):
    page = client.get(url)
    fields = _form_fields(page.content.decode(errors="replace")) if page.status_code == 200 else {}
    bodies = _bodies(fields or dict.fromkeys(COMMON_FIELDS, "text"))
    return [(name, client.post(url, body)) for name, body in bodies.items()]


def _raw_responses(client, url):
    form = "application/x-www-form-urlencoded"
    many = "&".join(f"field{n}=x" for n in range(5000))
    csrf = Client(enforce_csrf_checks=True)
    csrf.cookies = client.cookies
    return [
        ("invalid-utf8", client.post(url, b"email=\xff\xfe&name=\xc3\x28", content_type=form)),
        ("many-fields", client.post(url, many, content_type=form)),
        ("forged-csrf", csrf.post(url, {"email": "a@example.com", "csrfmiddlewaretoken": "forged"})),
        ("missing-csrf", csrf.post(url, {"email": "a@example.com"})),
    ]


QUERY_NAMES = ["q", "page", "segment", "hub", "month", "kind", "tag", "type", "year", "next", "topic", "language"]
QUERY_VALUES = ["%00", HUGE, "x" * 10_000, "<script>-1-2026-13-ø"]


def _query_responses(client, url):
    """Filters and pagination read the query string: the page's own GET fields and the usual names."""
    page = client.get(url)
    names = QUERY_NAMES + list(_form_fields(page.content.decode(errors="replace")) if page.status_code == 200 else [])
    responses = []
    for value in QUERY_VALUES:
        query = "&".join(f"{name}={quote(value, safe='%')}" for name in dict.fromkeys(names))
        responses.append((f"query={value[:20]!r}", client.get(f"{url}?{query}")))
    return responses


def _method_responses(client, url):
    return [
        ("HEAD", client.head(url)),
        ("PUT", client.put(url, "a=1")),
        ("DELETE", client.delete(url)),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("case", BODY_CASES)
@pytest.mark.parametrize("route", ROUTES, ids=[_id(route) for route in ROUTES])
def test_hostile_bodies_and_methods_never_answer_500(world, route, case):
    send = {"forms": _form_responses, "raw": _raw_responses, "query": _query_responses, "methods": _method_responses}[
        case
    ]
    problems = []
    values = {key: _valid(world, route["name"], key) for key in route["params"]}
    # Bodies under /da/ only, where the error page must also be Danish; both languages get the path sweep.
    for language in _languages(route)[:1]:
        url = _url(language, route, values)
        for who, user in _users(world, route).items():
            for name, response in send(_client(user), url):
                problems += _check(route, who, response, url, name)
    assert problems == []


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["mailgun/tracking/", "mandrill/", "postmark/inbound/", "amazon_ses/tracking/"])
def test_webhooks_that_need_their_own_provider_keys_are_not_mounted(client, path):
    """They answered every request with a 500 (their keys are not configured); now they are simply not there."""
    assert client.post(f"/webhooks/anymail/{path}", "{}", content_type="application/json").status_code == 404
