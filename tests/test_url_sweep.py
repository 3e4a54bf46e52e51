"""Every URL of the project, as every kind of visitor (anonymous, company member, company admin, hub staff and staff
with a second factor), answers real and hostile paths, bodies and methods with a 4xx (or a redirect), never a 500,
and a Danish error page under /da/. Routes come from the URL resolver, so a new view is swept the day it is added;
its path parameters get real values from PARAMETERS (or, for a ModelAdmin's own pages, an object of its model), and
a route with a parameter nobody supplied fails by name."""

import re
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import quote

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.db import transaction
from django.test import Client, RequestFactory, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.resolvers import RoutePattern
from django.utils import timezone, translation

from tests.factories import (
    CampaignFactory,
    EventFactory,
    EventQuestionFactory,
    EventRegistrationFactory,
    MatchmakingEventFactory,
    OrganisationRoleFactory,
    StaffFactory,
    SubscriberFactory,
    TopicFactory,
    UserFactory,
    cvr_valid,
    event_hub,
    matchmaking_profile,
    member_organisation_create,
    staff_totp_activate,
)
from tests.support.billing import invoice_issued

HUGE = "99999999999999999999"
TEXT_VALUES = ["does-not-exist", "x" * 300, "%00", "../../etc/passwd", "<script>alert(1)</script>", "ø", "ü-ø-æ"]
LANGUAGES = ("da", "en")
ROLES = ("anonymous", "member", "owner", "hub_staff", "staff")
STAFF_ROLES = ("hub_staff", "staff")
SAMPLE_ROLES = ("anonymous", "owner")
COMMON_FIELDS = ["email", "name", "full_name", "message", "q", "password", "password1", "password2", "token"]

# The one place where path parameters get real values: (route name, parameter) -> value from the world. A ModelAdmin's
# own pages (change, delete, history, password) take an object of their model without an entry here.
PARAMETERS = {
    ("members:invitation", "token"): lambda w: w["tokens"]["invitation"],
    ("members:organisation", "slug"): lambda w: w["own"].slug,
    ("members:manage", "pk"): lambda w: w["own"].pk,
    ("members:edit", "pk"): lambda w: w["own"].pk,
    ("members:invite", "pk"): lambda w: w["own"].pk,
    ("members:export", "pk"): lambda w: w["own"].pk,
    ("members:invitation_revoke", "pk"): lambda w: w["own"].pk,
    ("members:invitation_revoke", "invitation_pk"): lambda w: w["invitation"].pk,
    ("members:colleague_remove", "pk"): lambda w: w["own"].pk,
    ("members:colleague_remove", "user_pk"): lambda w: w["colleague"].pk,
    ("members:colleague_role", "pk"): lambda w: w["own"].pk,
    ("members:colleague_role", "user_pk"): lambda w: w["colleague"].pk,
    ("members:hand_on", "pk"): lambda w: w["own"].pk,
    ("members:hand_on", "user_pk"): lambda w: w["colleague"].pk,
    ("members:invoices", "pk"): lambda w: w["own"].pk,
    ("members:billing", "pk"): lambda w: w["own"].pk,
    ("members:membership", "pk"): lambda w: w["own"].pk,
    ("members:membership_next", "pk"): lambda w: w["own"].pk,
    ("members:membership_cancel", "pk"): lambda w: w["own"].pk,
    ("members:invoice_pdf", "pk"): lambda w: w["own"].pk,
    ("members:invoice_pdf", "number"): lambda w: w["invoice"].number,
    ("members:invoice_xml", "pk"): lambda w: w["own"].pk,
    ("members:invoice_xml", "number"): lambda w: w["invoice"].number,
    ("events:hub_feed", "slug"): lambda w: "copenhagen",
    ("events:registration", "token"): lambda w: w["tokens"]["registration"],
    ("events:registration_cancel", "token"): lambda w: w["tokens"]["registration"],
    ("events:detail", "slug"): lambda w: w["event"].slug,
    ("events:register", "slug"): lambda w: w["event"].slug,
    ("events:ics", "slug"): lambda w: w["event"].slug,
    ("events:checkin", "slug"): lambda w: w["event"].slug,
    ("hubs:detail", "slug"): lambda w: "copenhagen",
    ("matchmaking:catalogue", "slug"): lambda w: w["mm_event"].slug,
    ("matchmaking:join", "slug"): lambda w: w["mm_event"].slug,
    ("matchmaking:profile_edit", "slug"): lambda w: w["mm_event"].slug,
    ("matchmaking:profile", "slug"): lambda w: w["mm_event"].slug,
    ("matchmaking:profile", "pk"): lambda w: w["other"].pk,
    ("matchmaking:suggestions", "slug"): lambda w: w["mm_event"].slug,
    ("matchmaking:requests", "slug"): lambda w: w["mm_event"].slug,
    ("matchmaking:request_answer", "slug"): lambda w: w["mm_event"].slug,
    ("matchmaking:request_answer", "pk"): lambda w: w["pending_request"].pk,
    ("matchmaking:request_answer", "answer"): lambda w: "accept",
    ("matchmaking:agenda", "slug"): lambda w: w["mm_event"].slug,
    ("matchmaking:agenda_ics", "slug"): lambda w: w["mm_event"].slug,
    ("matchmaking:feedback", "slug"): lambda w: w["mm_event"].slug,
    ("matchmaking:feedback", "pk"): lambda w: w["meeting"].pk,
    ("newsletters:confirm", "token"): lambda w: w["tokens"]["confirm"],
    ("newsletters:unsubscribe", "token"): lambda w: w["tokens"]["unsubscribe"],
    ("newsletters:preferences", "token"): lambda w: w["tokens"]["preferences"],
    ("newsletters:archive_detail", "pk"): lambda w: w["sent_campaign"].pk,
    ("account_confirm_email", "key"): lambda w: w["tokens"]["email_confirmation"],
    ("account_reset_password_from_key", "uidb36"): lambda w: w["tokens"]["reset_uid"],
    ("account_reset_password_from_key", "key"): lambda w: _reset_key(w["colleague"]),
    ("admin:auth_user_password_change", "id"): lambda w: w["colleague"].pk,
    ("admin:app_list", "app_label"): lambda w: "events",
    ("admin:view_on_site", "content_type_id"): lambda w: ContentType.objects.get_for_model(w["event"]).pk,
    ("admin:view_on_site", "object_id"): lambda w: w["event"].pk,
    ("admin:None", "url"): lambda w: "events/event/",
    ("admin:matchmaking_grid", "pk"): lambda w: w["config"].pk,
    ("admin:matchmaking_run", "pk"): lambda w: w["mm_event"].schedule_runs.first().pk,
    ("admin:newsletters_subscriber_consent", "pk"): lambda w: w["subscriber"].pk,
    ("admin:newsletters_campaign_preview", "pk"): lambda w: w["campaign"].pk,
    ("admin:newsletters_campaign_preview", "language"): lambda w: "da",
    ("admin:newsletters_campaign_schedule", "pk"): lambda w: w["campaign"].pk,
    ("admin:newsletters_campaign_control", "pk"): lambda w: w["sending_campaign"].pk,
    ("admin:newsletters_campaign_control", "operation"): lambda w: "pause",
    ("admin:newsletters_campaign_send", "pk"): lambda w: w["campaign"].pk,
    ("admin:members_membershipapplication_approve", "object_id"): lambda w: w["application"].pk,
    ("admin:members_membershipapplication_reject", "object_id"): lambda w: w["application"].pk,
    ("admin:outbox_outboxmessage_html", "pk"): lambda w: w["mail"].pk,
    ("admin:billing_invoice_payment", "object_id"): lambda w: w["paid_invoice"].pk,
    ("admin:billing_invoice_pdf", "object_id"): lambda w: w["paid_invoice"].pk,
    ("media", "path"): lambda w: w["media_file"],
}


def _reset_key(user) -> str:
    """A password-reset key made now: logging in changes `last_login`, which a key made earlier depends on."""
    from allauth.account.forms import default_token_generator

    user.refresh_from_db()
    return default_token_generator.make_token(user)


def _walk(resolver, prefix="", namespace=""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry, prefix + str(entry.pattern), inner)
        else:
            yield prefix + str(entry.pattern), f"{namespace}{entry.name}", entry


def _route(route: str, name: str, entry: URLPattern) -> dict:
    admin_route = route.startswith("{lang}/admin/") or name.startswith("admin:")
    model_admin = getattr(entry.callback, "model_admin", None)
    found = {"name": name, "admin": admin_route, "model": model_admin.model if model_admin else None}
    if not isinstance(entry.pattern, RoutePattern):
        # Regex routes (allauth's two keys, the admin's app index and catch-all): groups become {name}.
        params = list(re.compile(str(entry.pattern)).groupindex)
        template = re.sub(r"\^|\$", "", route)
        template = template.replace("(?P<uidb36>[0-9A-Za-z]+)-(?P<key>.+)", "{uidb36}-{key}")
        template = re.sub(r"\(\?P<(\w+)>(?:[^()]|\([^()]*\))*\)", r"{\1}", template)
        return found | {"template": template, "params": dict.fromkeys(params, "str")}
    converters = {key: type(value).__name__ for key, value in entry.pattern.converters.items()}
    return found | {"template": re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route), "params": converters}


def _routes() -> list[dict]:
    routes = []
    for route, name, entry in _walk(get_resolver()):
        route = route.replace("da/", "{lang}/", 1) if route.startswith("da/") else route
        routes.append(_route(route, name, entry))
    return routes


with translation.override("da"):
    ROUTES = _routes()
ADMIN_ROUTES = [route for route in ROUTES if route["admin"]]
SITE_ROUTES = [route for route in ROUTES if not route["admin"]]


# --- the world the sweep runs in ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """One set of objects for the whole module, each in a state where its views render (a sent campaign for the
    archive, a draft one for the editor, one being sent for its controls, a pending request to answer, a meeting
    with a slot): built once in a transaction rolled back at the end, each test runs in a savepoint inside it."""
    from allauth.account.models import EmailAddress, EmailConfirmationHMAC
    from allauth.account.utils import user_pk_to_url_str
    from django.contrib.auth.models import Group
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from billing.payments import payment_register
    from billing.services import Buyer, Line, invoice_create_issued
    from events.matchmaking import services as matchmaking_services
    from events.models import MatchmakingConfig
    from events.services import registration_token
    from hubs.models import Region
    from members.models import Invitation, Segment, Tag
    from members.services import application_submit, invitation_token
    from newsletters.subscriptions import (
        CONFIRM_SALT,
        PREFERENCES_SALT,
        UNSUBSCRIBE_SALT,
        consent_record,
        subscriber_token,
    )
    from outbox.models import OutboxMessage

    # The sweep logs in many times and sends many passwords; a cheap hasher keeps each from costing a PBKDF2 run.
    fast = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
    with django_db_blocker.unblock(), fast, transaction.atomic():
        with translation.override("da"):
            own = member_organisation_create()
            foreign = member_organisation_create()
            owner = OrganisationRoleFactory(organisation=own, role="admin").user
            colleague = OrganisationRoleFactory(organisation=own, role="member").user
            OrganisationRoleFactory(organisation=foreign, role="admin")
            staff = StaffFactory()
            staff_totp_activate(staff)
            hub_staff = UserFactory(is_staff=True)
            staff_totp_activate(hub_staff)
            hub_staff.groups.add(Group.objects.get(name="Hub staff"))
            event_hub("copenhagen").staff.add(hub_staff)
            invitation = Invitation.objects.create(
                organisation=own, email="invitee@example.com", role="member", invited_by=owner, nonce="a" * 32
            )
            event = EventFactory(hub=event_hub("copenhagen"))
            EventQuestionFactory(event=event, kind="text", required=True)
            EventRegistrationFactory(event=event)
            mm_event = MatchmakingEventFactory(hub=event_hub("copenhagen"))
            matchmaking_services.session_create(
                event=mm_event, starts_at=mm_event.starts_at, slot_minutes=30, slot_count=4
            )
            me = matchmaking_profile(event=mm_event, user=owner, full_name=owner.full_name, email=owner.email)
            other = matchmaking_profile(event=mm_event)
            third = matchmaking_profile(event=mm_event)
            accepted = matchmaking_services.request_send(sender=me, recipient=other, message="Let us talk about it.")
            matchmaking_services.request_accept(request=accepted, by=other.user)
            accepted.refresh_from_db()
            matchmaking_services.schedule_run(event=mm_event, by=staff, time_limit=2.0)
            pending = matchmaking_services.request_send(sender=third, recipient=me, message="Shall we meet, please?")
            topic = TopicFactory()
            subscriber = SubscriberFactory(topics=[topic])
            campaign = CampaignFactory(topics=[topic])
            sent_campaign = CampaignFactory(topics=[topic], status="sent", finished_at=timezone.now())
            sending_campaign = CampaignFactory(topics=[topic], status="sending", started_at=timezone.now())
            registration = me.registration
            application = application_submit(
                data={
                    "name": "Havbrise Health",
                    "legal_name": "Havbrise Health A/S",
                    "cvr": cvr_valid(77),
                    "kind": "company",
                    "country": "DK",
                    "size_band": "10-49",
                    "region": Region.objects.get(code="syddanmark"),
                    "city": "Odense",
                    "contact_name": "Hanne Hav",
                    "contact_email": "hanne@havbrise.example",
                },
                segments=Segment.objects.filter(code="medtech"),
                password=None,
                request=RequestFactory().get("/"),
            )
            Tag.objects.create(slug="imaging", name="Imaging")
            # An issued invoice with a part paid, so its admin pages (payment, PDF) and the payments list render.
            paid_invoice = invoice_issued(hub=event_hub("copenhagen"))
            payment_register(invoice=paid_invoice, amount="100", paid_on=timezone.localdate(), by=staff)
            media_file = default_storage.save("sweep/logo.png", ContentFile(b"\x89PNG\r\n\x1a\n"))
            invoice, _ = invoice_create_issued(
                buyer=Buyer(
                    name=own.legal_name, cvr=own.cvr, ean="5798000000001", customer_key=f"organisation:{own.pk}"
                ),
                lines=[Line(description="Membership", unit_price=Decimal("8000.00"))],
                origin="sweep:membership",
            )
            consent_record(subscriber=subscriber, action="opt_in", source="form", consent_text_version="1")
            unverified = EmailAddress.objects.create(user=colleague, email="second@example.com", verified=False)
            real = {
                "registration": registration_token(registration),
                "invitation": invitation_token(invitation),
                "confirm": subscriber_token(subscriber=subscriber, salt=CONFIRM_SALT),
                "unsubscribe": subscriber_token(subscriber=subscriber, salt=UNSUBSCRIBE_SALT),
                "preferences": subscriber_token(subscriber=subscriber, salt=PREFERENCES_SALT),
                "email_confirmation": EmailConfirmationHMAC(unverified).key,
                "reset_uid": user_pk_to_url_str(colleague),
            }
            yield {
                "users": {
                    "anonymous": None,
                    "member": colleague,
                    "owner": owner,
                    "hub_staff": hub_staff,
                    "staff": staff,
                },
                "colleague": colleague,
                "own": own,
                "foreign": foreign,
                "invitation": invitation,
                "event": event,
                "mm_event": mm_event,
                "pending_request": pending,
                "meeting": accepted.meeting,
                "other": other,
                "campaign": campaign,
                "sent_campaign": sent_campaign,
                "sending_campaign": sending_campaign,
                "subscriber": subscriber,
                "config": MatchmakingConfig.objects.get(event=mm_event),
                "application": application,
                "paid_invoice": paid_invoice,
                "mail": OutboxMessage.objects.exclude(body_html="").order_by("pk").first(),
                "media_file": media_file,
                "invoice": invoice,
                "tokens": real,
            }
            default_storage.delete(media_file)
            # The invoice's PDF is stored by a download inside a test's rolled-back transaction: its file stays.
            folder = f"invoices/{invoice.year}"
            if default_storage.exists(folder):
                for name in default_storage.listdir(folder)[1]:
                    if name.startswith((invoice.number, paid_invoice.number)):
                        default_storage.delete(f"{folder}/{name}")
        transaction.set_rollback(True)


def _valid(world, route: dict, param: str) -> str:
    """A value for a path parameter that names a real object (the owner's, or one staff may reach)."""
    key = (route["name"], param)
    if key in PARAMETERS:
        return str(PARAMETERS[key](world))
    if route["model"] is not None and param in ("object_id", "id"):
        found = route["model"]._default_manager.order_by("pk").first()
        if found is None:
            pytest.fail(f"{route['name']}: the sweep's world has no {route['model']._meta.label}; add one")
        return str(found.pk)
    pytest.fail(f"{route['template']} ({route['name']}) has no real value for <{param}>: add it to PARAMETERS")


def _values(world, route: dict) -> dict:
    return {key: _valid(world, route, key) for key in route["params"]}


def _hostile(world, route: dict, param: str) -> list[str]:
    if route["params"][param] == "IntConverter":
        foreign = world["foreign"].pk if route["name"].startswith("members:") else world["meeting"].pk + 1000
        return ["0", HUGE, str(foreign)]
    values = list(TEXT_VALUES)
    if param in ("token", "key"):
        real = _valid(world, route, param)
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


@pytest.fixture(scope="module")
def sessions(world):
    """One login per role for the module (staff pass the admin's second-factor check: they have TOTP)."""
    keys = {}
    for who, user in world["users"].items():
        client = Client()
        if user is not None:
            client.force_login(user)
            keys[who] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return keys


@pytest.fixture
def clients(sessions):
    """Fresh clients on those sessions for each test: a logout or an account deletion in one test is rolled back
    with its savepoint and must not leave the next test's client without its cookie."""
    made = {}
    for who in ROLES:
        client = Client()
        if who in sessions:
            client.cookies[settings.SESSION_COOKIE_NAME] = sessions[who]
        made[who] = client
    return made


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
    """Visitors who are not staff are sent from the admin to log in; everything else answers below 500, and 4xx
    pages under /da/ are Danish (the admin's own pages excepted: staff see them in their own language)."""
    if route["admin"] and who not in STAFF_ROLES and route["name"] not in ("admin:login", "admin:logout"):
        return _admin_problems(response, url, who, case)
    if route["admin"] or route["template"].startswith("webhooks/"):
        return [f"{case} {who} {url}: {response.status_code}"] if response.status_code >= 500 else []
    return _problems(response, url, who, case)


def _roles(route: dict) -> tuple:
    return ("anonymous",) if route["template"].startswith("webhooks/") else ROLES


def _languages(route: dict) -> tuple:
    return LANGUAGES if "{lang}" in route["template"] else ("",)


def _id(route: dict) -> str:
    return f"{route['template'].replace('{lang}/', '')}[{route['name']}]"


@pytest.fixture(autouse=True)
def _webhook_secret(settings):
    """As deployed: the mail provider's webhooks are protected by a shared secret (without one anymail refuses to
    run, by design)."""
    settings.ANYMAIL = {"WEBHOOK_SECRET": "hook:s3cret"}


# --- every route, as every role, with real values -------------------------------------------------------------------

REACHED = {200, 204, 301, 302, 303, 405}


@pytest.mark.django_db
@pytest.mark.parametrize("route", ROUTES, ids=[_id(route) for route in ROUTES])
def test_every_route_as_every_role_answers_below_500_and_renders_for_someone(world, clients, route):
    """With real values, someone reaches each page: a route that answers 4xx to everyone sweeps only its refusal."""
    values = _values(world, route)
    problems, statuses = [], {}
    for language in _languages(route):
        url = _url(language, route, values)
        # Every role in Danish; English pages share the views, so one visitor there.
        for who in _roles(route) if language != "en" else ("anonymous",):
            response = clients[who].get(url)
            statuses[f"{who} {language}"] = response.status_code
            problems += _check(route, who, response, url, "GET")
    if not route["template"].startswith("webhooks/"):
        assert set(statuses.values()) & REACHED, f"{_id(route)}: nobody reaches it with real values: {statuses}"
    assert problems == []


# --- hostile path values ------------------------------------------------------------------------------------------

PATH_CASES = [(route, param) for route in SITE_ROUTES for param in route["params"]]
# The admin's pages share Django's views: a sample of hostile values, as staff, GET, in Danish.
ADMIN_PATH_CASES = [(route, param) for route in ADMIN_ROUTES for param in route["params"]]


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "param"), PATH_CASES, ids=[f"{_id(route)}-{param}" for route, param in PATH_CASES])
def test_hostile_path_values_never_answer_500(world, clients, route, param):
    problems = []
    for value in _hostile(world, route, param):
        values = _values(world, route) | {param: value}
        for language in _languages(route):
            url = _url(language, route, values)
            # GET as every role in Danish; in English and for POST, a sample: the visitor and the owner.
            for who in _roles(route) if language != "en" else ("anonymous",):
                client = clients[who]
                problems += _check(route, who, client.get(url), url, f"GET {param}={value!r}")
                if language != "en" and who in SAMPLE_ROLES:
                    problems += _check(route, who, client.post(url), url, f"POST {param}={value!r}")
    assert problems == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("route", "param"), ADMIN_PATH_CASES, ids=[f"{_id(route)}-{param}" for route, param in ADMIN_PATH_CASES]
)
def test_hostile_admin_path_values_never_answer_500(world, clients, route, param):
    problems = []
    for value in _hostile(world, route, param)[:4]:
        url = _url("da", route, _values(world, route) | {param: value})
        for who in STAFF_ROLES:
            problems += _check(route, who, clients[who].get(url), url, f"GET {param}={value!r}")
    assert problems == []


# --- hostile bodies, query strings and methods ----------------------------------------------------------------------


def _text(response) -> str:
    """The page's HTML; a file download (a streamed response) has no form to fill in."""
    return "" if response.streaming else response.content.decode(errors="replace")


def _form_responses(client, url):
    page = client.get(url)
    fields = _form_fields(_text(page)) if page.status_code == 200 else {}
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
        ("nul-byte", client.post(url, b"email=a%00b&q=%00", content_type=form)),
        ("forged-csrf", csrf.post(url, {"email": "a@example.com", "csrfmiddlewaretoken": "forged"})),
        ("missing-csrf", csrf.post(url, {"email": "a@example.com"})),
    ]


QUERY_NAMES = ["q", "page", "segment", "hub", "month", "kind", "tag", "type", "year", "next", "topic", "language"]
QUERY_VALUES = ["%00", HUGE, "x" * 10_000, "<script>-1-2026-13-ø"]


def _query_responses(client, url):
    """Filters and pagination read the query string: the page's own GET fields and the usual names."""
    page = client.get(url)
    names = QUERY_NAMES + list(_form_fields(_text(page)) if page.status_code == 200 else [])
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


SENDERS = {"forms": _form_responses, "raw": _raw_responses, "query": _query_responses, "methods": _method_responses}
BODY_CASES = list(SENDERS)
# In the admin, as staff: the forms of our add and change pages, and the filters of our list pages.
ADMIN_BODY_CASES = [
    (route, case)
    for route in ADMIN_ROUTES
    if route["model"] is not None and not route["params"].keys() - {"object_id"}
    for case, suffix in (("forms", "_add"), ("forms", "_change"), ("query", "_changelist"))
    if route["name"].endswith(suffix)
]


@pytest.mark.django_db
@pytest.mark.parametrize("case", BODY_CASES)
@pytest.mark.parametrize("route", SITE_ROUTES, ids=[_id(route) for route in SITE_ROUTES])
def test_hostile_bodies_and_methods_never_answer_500(world, clients, route, case):
    problems = []
    # Bodies under /da/ only, where the error page must also be Danish; both languages get the path sweep.
    url = _url(_languages(route)[0], route, _values(world, route))
    # Forms and filters differ by who asks; raw bodies and methods are refused before any view: a sample of roles.
    roles = _roles(route) if case in ("forms", "query") else [who for who in _roles(route) if who in SAMPLE_ROLES]
    for who in roles:
        for name, response in SENDERS[case](clients[who], url):
            problems += _check(route, who, response, url, name)
    assert problems == []


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "case"), ADMIN_BODY_CASES, ids=[f"{_id(r)}-{c}" for r, c in ADMIN_BODY_CASES])
def test_hostile_admin_forms_and_filters_never_answer_500(world, clients, route, case):
    problems = []
    url = _url("da", route, _values(world, route))
    for who in STAFF_ROLES:
        for name, response in SENDERS[case](clients[who], url):
            problems += _check(route, who, response, url, name)
    assert problems == []


# --- admin actions ---------------------------------------------------------------------------------------------------


def _admin_actions() -> list[tuple]:
    """Every action of every registered ModelAdmin as a superuser sees them: (model, action name)."""
    request = RequestFactory().get("/")
    request.user = StaffFactory.build()
    return [
        (model, name)
        for model, model_admin in admin.site._registry.items()
        for name in model_admin.get_actions(request)
    ]


@pytest.mark.django_db
def test_every_admin_action_on_a_real_object_answers_below_500(world, clients):
    """Each of our ModelAdmins' actions, run by staff and hub staff on the first object of its model."""
    problems = []
    for model, action in _admin_actions():
        label = model._meta.label
        found = model._default_manager.order_by("pk").first()
        if found is None:
            problems.append(f"{label}: the sweep's world has no object to run {action} on")
            continue
        with translation.override("da"):
            url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for who in STAFF_ROLES:
            with transaction.atomic():
                response = clients[who].post(url, {"action": action, "_selected_action": [found.pk], "index": 0})
                transaction.set_rollback(True)
            if response.status_code >= 500:
                problems.append(f"{who} {label} {action}: {response.status_code}")
    assert problems == []


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["mailgun/tracking/", "mandrill/", "postmark/inbound/", "amazon_ses/tracking/"])
def test_webhooks_that_need_their_own_provider_keys_are_not_mounted(client, path):
    """They answered every request with a 500 (their keys are not configured); now they are simply not there."""
    assert client.post(f"/webhooks/anymail/{path}", "{}", content_type="application/json").status_code == 404
