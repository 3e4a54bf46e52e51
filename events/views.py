"""Public event pages, sign-up, the signed registration page, calendars and the door check-in page."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.middleware import staff_mfa_required
from accounts.ratelimit import ratelimit_consume
from events import selectors, services
from events.billing import seat_price
from events.calendars import event_ics, feed_ics
from events.forms import EventFilterForm, RegistrationForm
from events.models import Event, InvalidTransition, Registration
from hubs.models import Hub
from hubs.scoping import user_hub_scope
from members.models import Benefit
from members.selectors import user_benefits, user_member_organisations, user_organisations

PAGE_SIZE = 12
# The query parameter the sign-up redirects to its registration's page with, which then tells the outcome.
JUST_REGISTERED = "new"


def _listing(request, *, upcoming: bool, template: str):
    hubs = list(Hub.objects.all())
    form = EventFilterForm(request.GET or None, hubs=hubs, kinds=Event.Kind.choices, upcoming=upcoming)
    filters = {}
    status = 200
    if form.is_bound:
        if form.is_valid():
            filters = {key: value for key, value in form.cleaned_data.items() if value}
        else:
            status = 400
    events = selectors.event_list(upcoming=upcoming, **filters)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        template,
        {"form": form, "page": page, "events": page.object_list, "query": query.urlencode()},
        status=status,
    )


@require_GET
def event_list(request):
    return _listing(request, upcoming=True, template="events/event_list.html")


@require_GET
def event_past(request):
    return _listing(request, upcoming=False, template="events/event_past.html")


def _viewer(request) -> dict:
    """What the person's membership gives them here: a seat held for members, and members-only events."""
    benefits = user_benefits(user=request.user)
    return {
        "is_member": Benefit.MEMBER_SEATS in benefits,
        "members_only_allowed": Benefit.MEMBERS_ONLY_EVENTS in benefits,
    }


def _invoice_address_needed(request, event: Event, viewer: dict | None = None) -> bool:
    """A seat with a price for this person that no member organisation pays: the invoice needs their address."""
    if not event.is_paid:
        return False
    viewer = viewer or _viewer(request)
    if seat_price(event=event, is_member=viewer["is_member"]) is None:
        return False
    return not (request.user.is_authenticated and user_member_organisations(user=request.user).exists())


def _detail_context(request, event: Event, form=None, error: str = "") -> dict:
    viewer = _viewer(request)
    left = selectors.seats_left(
        event=event,
        is_member=viewer["is_member"],
        confirmed=event.confirmed_count,
        confirmed_members=event.confirmed_members_count,
    )
    registration = selectors.user_active_registration(event=event, user=request.user)
    can_register = (
        event.registration_is_open()
        and registration is None
        and (not event.is_members_only or viewer["members_only_allowed"])
    )
    if form is None and can_register:
        form = RegistrationForm(
            event=event, user=request.user, invoice_address_needed=_invoice_address_needed(request, event, viewer)
        )
    return {
        "event": event,
        "form": form if can_register else None,
        "error": error,
        "seats_left": left,
        "is_member": viewer["is_member"],
        "members_only_allowed": viewer["members_only_allowed"],
        "my_registration": registration,
        "my_registration_url": services.registration_manage_url(registration) if registration else "",
        "my_position": selectors.waitlist_position(registration=registration) if registration else None,
        "show_online_link": registration is not None and registration.status == Registration.Status.CONFIRMED,
        "held_for_members": event.member_seats_held() and not viewer["is_member"],
        # What this person's seat costs (the member price for a member), said again next to the button.
        "signup_price": seat_price(event=event, is_member=viewer["is_member"]),
        "member_price_lower": not viewer["is_member"] and event.member_price_dkk < event.price_dkk,
        "login_next_url": f"{reverse('account_login')}?{urlencode({'next': request.path})}",
    }


def _event_or_404(request, slug) -> Event:
    try:
        return selectors.event_for_page(slug=slug, user=request.user)
    except Event.DoesNotExist as exc:
        raise Http404(_("No such event.")) from exc


@require_GET
def event_detail(request, slug):
    event = _event_or_404(request, slug)
    return render(request, "events/event_detail.html", _detail_context(request, event))


def _event_page_again(request, event: Event, *, status: int, form=None, error: str = ""):
    """The event page with the form and a message, for a sign-up that did not go through; the page's event (with
    its counts and partners) is read only here, not for every sign-up."""
    page_event = _event_or_404(request, event.slug)
    context = _detail_context(request, page_event, form=form, error=error)
    return render(request, "events/event_detail.html", context, status=status)


# `_register`'s answer when it decided nothing on a kept copy of the event: the sign-up starts over from a fresh read.
_READ_AGAIN = object()


def _signup_event_or_404(request, slug: str, *, kept: bool) -> Event:
    try:
        return selectors.event_for_signup(slug=slug, user=request.user, kept=kept)
    except Event.DoesNotExist as exc:
        raise Http404(_("No such event.")) from exc


@require_POST
def event_register(request, slug):
    # The event as this process last read it for a sign-up, where it did so less than a minute ago: the statement
    # under the lock checks that it is still so, and a sign-up that finds it is not, or that the copy refuses, starts
    # over once from a fresh read, so that nobody is answered from an out-of-date copy.
    event = _signup_event_or_404(request, slug, kept=True)
    if not ratelimit_consume(
        request=request, action="event-signup", limit=settings.EVENTS_SIGNUP_RATE_PER_MINUTE, period=60
    ):
        error = _("Too many sign-ups from your network. Please try again in a minute.")
        return _event_page_again(request, event, status=429, error=error)
    response = _register(request, event)
    if response is _READ_AGAIN:
        response = _register(request, _signup_event_or_404(request, slug, kept=False))
    return response


def _register(request, event: Event):
    """The sign-up for `event`: the redirect to the registration's page, the form again with what went wrong, or
    `_READ_AGAIN` where a kept copy of the event decided nothing."""
    viewer = _viewer(request)  # once: the invoice address and the seat both depend on it
    form = RegistrationForm(
        request.POST,
        event=event,
        user=request.user,
        invoice_address_needed=_invoice_address_needed(request, event, viewer),
    )
    if not form.is_valid():
        return _READ_AGAIN if event.from_kept else _event_page_again(request, event, status=400, form=form)
    user = request.user
    if user.is_authenticated:
        member_organisation = user_member_organisations(user=user).first()
        organisation = member_organisation or user_organisations(user=user).first()
        person = {
            "full_name": user.full_name or user.email,
            "email": user.email,
            "organisation_name": organisation.name if organisation else "",
            "user": user,
            "organisation": member_organisation,
            **viewer,
            "language": user.preferred_language,
        }
    else:
        person = {
            "full_name": form.cleaned_data["full_name"],
            "email": form.cleaned_data["email"],
            "organisation_name": form.cleaned_data["organisation_name"],
            "job_title": form.cleaned_data["job_title"],
            "language": translation.get_language(),
        }
    try:
        registration = services.registration_create(
            event=event,
            answers=form.answers(),
            invoice_address=form.invoice_address(),
            newsletter_opt_in=form.cleaned_data["newsletter_opt_in"],
            ip_address=request.META.get("REMOTE_ADDR") or None,
            questions=form.questions,
            registration_id=event.registration_id_drawn,
            **person,
        )
    except services.EventChangedSinceRead:
        return _READ_AGAIN
    except services.RegistrationError as exc:
        # A refusal made before the lock may come from the copy; one the statement made under it (the email is
        # registered already) found the copy current.
        if event.from_kept and not isinstance(exc, services.AlreadyRegistered):
            return _READ_AGAIN
        status = 403 if isinstance(exc, services.MembersOnly) else 400
        return _event_page_again(request, event, status=status, form=form, error=str(exc.message))
    # The registration's page tells the outcome when it is opened with JUST_REGISTERED (as pretix's order page
    # thanks), so that the sign-up's answer carries no message cookie to encode, sign and send back.
    url = reverse("events:registration", kwargs={"token": services.registration_token(registration)})
    # A URL, not a view's name: `redirect` would first try it as one.
    return HttpResponseRedirect(f"{url}?{urlencode({JUST_REGISTERED: '1'})}")


def _signup_outcome_tell(request, registration: Registration, position: int | None) -> None:
    """The outcome of a sign-up just made, as a message on the page that shows it: its seat, or its place on the
    waitlist as it is now. Nothing for a registration cancelled since."""
    if registration.status == Registration.Status.CONFIRMED:
        messages.success(request, _("You are registered. We have sent a confirmation by email."))
    elif registration.status == Registration.Status.WAITLISTED:
        messages.info(
            request,
            _("The event is full: you are number %(position)s on the waitlist. We write to you if a seat frees up.")
            % {"position": position},
        )


def _registration_or_400(request, token):
    try:
        return services.registration_from_token(token), None
    except (signing.BadSignature, Registration.DoesNotExist):
        response = render(request, "events/registration_invalid.html", status=400)
        return None, response


@require_GET
def registration_detail(request, token):
    registration, error = _registration_or_400(request, token)
    if error:
        return error
    position = selectors.waitlist_position(registration=registration)
    if request.GET.get(JUST_REGISTERED) == "1":
        _signup_outcome_tell(request, registration, position)  # shown on this page: no cookie is set
    return render(
        request,
        "events/registration_detail.html",
        {
            "registration": registration,
            "event": registration.event,
            "token": token,
            "position": position,
            "show_online_link": registration.status == Registration.Status.CONFIRMED,
        },
    )


@require_http_methods(["GET", "POST"])
def registration_cancel(request, token):
    """GET asks for confirmation, showing the event; only the POST cancels."""
    registration, error = _registration_or_400(request, token)
    if error:
        return error
    if request.method == "GET":
        event = registration.event
        context = {
            "registration": registration,
            "event": event,
            "token": token,
            # A paid seat: is a cancellation now credited, or does the invoice stand?
            "invoiced": event.is_paid and registration.status == registration.Status.CONFIRMED,
            "credited_if_cancelled": timezone.now() < event.free_cancellation_until(),
        }
        return render(request, "events/registration_cancel.html", context)
    try:
        services.registration_cancel(registration=registration, actor=request.user, reason="self-service")
    except InvalidTransition:
        messages.info(request, _("This registration was already cancelled."))
    else:
        messages.success(request, _("Your registration is cancelled. We have sent you a confirmation."))
    return redirect("events:registration", token=token)


@require_GET
def event_calendar(request, slug):
    event = _event_or_404(request, slug)
    response = HttpResponse(event_ics(event), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{event.slug}.ics"'
    return response


@require_GET
def calendar_feed(request):
    events = selectors.feed_events()
    return HttpResponse(feed_ics(events, name=_("DLSC events")), content_type="text/calendar; charset=utf-8")


@require_GET
def hub_calendar_feed(request, slug):
    hub = get_object_or_404(Hub, slug=slug)
    events = selectors.feed_events(hub=hub)
    name = _("DLSC events: %(hub)s") % {"hub": hub.name}
    return HttpResponse(feed_ics(events, name=name), content_type="text/calendar; charset=utf-8")


def _staff_event_or_404(request, slug) -> Event:
    """Staff reach the door page of events in their own hubs only; anything else is a 404."""
    if not request.user.is_staff:
        raise Http404(_("No such event."))
    queryset = Event.objects.select_related("hub")
    hubs = user_hub_scope(request.user)
    if hubs is not None:
        queryset = queryset.filter(hub__in=hubs)
    return get_object_or_404(queryset, slug=slug)


@login_required
@staff_mfa_required
@require_http_methods(["GET", "POST"])
def checkin(request, slug):
    event = _staff_event_or_404(request, slug)
    query = request.GET.get("q", "").strip()[:100]
    if request.method == "POST" and "no_shows" in request.POST:
        try:
            marked = services.event_no_shows_mark(event=event, actor=request.user)
        except InvalidTransition:
            messages.error(request, _("No-shows can be marked once the event is over."))
            return redirect("events:checkin", slug=event.slug)
        messages.success(request, _("%(count)d marked as no-show.") % {"count": marked})
        return redirect("events:checkin", slug=event.slug)
    if request.method == "POST":
        registration_pk = request.POST.get("registration", "")
        if not registration_pk.isdigit():
            raise Http404(_("No such registration."))
        registration = get_object_or_404(
            event.registrations.filter(status=Registration.Status.CONFIRMED), pk=int(registration_pk)
        )
        try:
            services.registration_check_in(registration=registration, actor=request.user)
        except InvalidTransition:
            messages.info(request, _("%(name)s was already checked in.") % {"name": registration.full_name})
        else:
            messages.success(request, _("%(name)s is checked in.") % {"name": registration.full_name})
        target = redirect("events:checkin", slug=event.slug)
        if request.POST.get("q"):
            target["Location"] += "?" + urlencode({"q": request.POST["q"][:100]})
        return target
    registrations = selectors.checkin_registrations(event=event, query=query)
    attended = event.registrations.filter(attendance=Registration.Attendance.ATTENDED).count()
    confirmed = event.registrations.filter(status=Registration.Status.CONFIRMED).count()
    return render(
        request,
        "events/checkin.html",
        {
            "event": event,
            "registrations": registrations,
            "query": query,
            "attended": attended,
            "confirmed": confirmed,
            "is_over": event.ends_at <= timezone.now(),
        },
    )
