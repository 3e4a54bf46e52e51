"""Participant pages: catalogue, profiles, suggestions, requests, agenda and .ics; every page 404s for outsiders."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from events.calendars import agenda_ics as agenda_calendar
from events.matchmaking import selectors, services
from events.matchmaking.forms import AvailabilityForm, CatalogueFilterForm, FeedbackForm, ProfileForm, RequestForm
from events.models import Meeting, MeetingRequest, Profile, Slot


def _participant(request, slug) -> Profile:
    event = selectors.matchmaking_event(slug=slug)
    return selectors.participant_profile(event=event, user=request.user)


def _render(request, template, profile, context, status=200):
    return render(request, template, {"me": profile, "event": profile.event, **context}, status=status)


def index(request):
    """The signed-in person's matchmaking events, and for everyone how matchmaking works and where it is on."""
    context = {"my_events": selectors.events_of(user=request.user), "open_events": selectors.open_events()}
    return render(request, "events/matchmaking/index.html", context)


@login_required
def join(request, slug):
    event = selectors.matchmaking_event(slug=slug)
    registration = selectors.participant_registration(event=event, user=request.user)
    if request.method == "POST":
        try:
            services.profile_create(registration=registration)
        except services.MatchmakingError as error:
            messages.error(request, str(error))
            return redirect("matchmaking:catalogue", slug=slug)
        messages.success(request, _("Your profile was filled in from your organisation. Check it and add to it."))
        return redirect("matchmaking:profile_edit", slug=slug)
    return render(request, "events/matchmaking/join.html", {"event": event})


@login_required
def catalogue(request, slug):
    event = selectors.matchmaking_event(slug=slug)
    try:
        me = selectors.participant_profile(event=event, user=request.user)
    except Http404:
        # A confirmed participant without a profile is invited to join; everyone else gets the 404.
        selectors.participant_registration(event=event, user=request.user)
        return redirect("matchmaking:join", slug=slug)
    form = CatalogueFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return _render(request, "events/matchmaking/catalogue.html", me, {"form": form, "profiles": []}, status=400)
    filters = form.cleaned_data if form.is_bound else {}
    profiles = selectors.catalogue(
        viewer=me,
        query=filters.get("q", ""),
        tag=filters.get("tag"),
        kind=filters.get("kind", ""),
        segment=filters.get("segment"),
    )
    return _render(request, "events/matchmaking/catalogue.html", me, {"form": form, "profiles": profiles})


@login_required
def profile_edit(request, slug):
    me = _participant(request, slug)
    slots = Slot.objects.filter(event=me.event).select_related("session")
    profile_form = ProfileForm(request.POST or None, instance=me, prefix="profile")
    availability_form = AvailabilityForm(
        request.POST or None,
        slots=slots,
        prefix="availability",
        initial={"unavailable": list(me.unavailable.values_list("slot_id", flat=True))},
    )
    if request.method == "POST":
        if profile_form.is_valid() and availability_form.is_valid():
            try:
                services.profile_update(
                    profile=me, form=profile_form, unavailable_slots=availability_form.cleaned_data["unavailable"]
                )
            except services.MatchmakingError as error:
                availability_form.add_error("unavailable", str(error))
            else:
                messages.success(request, _("Your matchmaking profile is saved."))
                return redirect("matchmaking:profile_edit", slug=slug)
        context = {"profile_form": profile_form, "availability_form": availability_form}
        return _render(request, "events/matchmaking/profile_edit.html", me, context, status=400)
    context = {"profile_form": profile_form, "availability_form": availability_form}
    return _render(request, "events/matchmaking/profile_edit.html", me, context)


@login_required
def profile_detail(request, slug, pk):
    me = _participant(request, slug)
    other = selectors.visible_profile(viewer=me, pk=pk)
    form = RequestForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.request_send(sender=me, recipient=other, message=form.cleaned_data["message"])
            except services.MatchmakingError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Your request is sent. You get a mail when it is answered."))
                return redirect("matchmaking:requests", slug=slug)
        status = 400
    return _render(request, "events/matchmaking/profile_detail.html", me, {"other": other, "form": form}, status)


@login_required
def suggestion_list(request, slug):
    me = _participant(request, slug)
    return _render(
        request, "events/matchmaking/suggestions.html", me, {"suggestions": selectors.suggestions(profile=me)}
    )


@login_required
def request_list(request, slug):
    me = _participant(request, slug)
    incoming, outgoing = selectors.requests_of(profile=me)
    return _render(request, "events/matchmaking/requests.html", me, {"incoming": incoming, "outgoing": outgoing})


@login_required
@require_POST
def request_answer(request, slug, pk, answer):
    me = _participant(request, slug)
    meeting_request = MeetingRequest.objects.filter(pk=pk, recipient=me).first()
    if meeting_request is None or answer not in ("accept", "decline"):
        raise Http404
    try:
        if answer == "accept":
            services.request_accept(request=meeting_request, by=request.user)
            messages.success(request, _("You accepted the meeting."))
        else:
            services.request_decline(request=meeting_request, by=request.user)
            messages.success(request, _("You declined the meeting."))
    except services.MatchmakingError as error:
        messages.error(request, str(error))
        incoming, outgoing = selectors.requests_of(profile=me)
        context = {"incoming": incoming, "outgoing": outgoing}
        return _render(request, "events/matchmaking/requests.html", me, context, status=409)
    return redirect("matchmaking:requests", slug=slug)


@login_required
def agenda_page(request, slug):
    me = _participant(request, slug)
    return _render(request, "events/matchmaking/agenda.html", me, {"items": selectors.agenda(profile=me)})


@login_required
def agenda_ics(request, slug):
    me = _participant(request, slug)
    calendar = agenda_calendar(profile=me, items=selectors.agenda(profile=me))
    response = HttpResponse(calendar, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="agenda-{me.event.slug}.ics"'
    return response


@login_required
def feedback(request, slug, pk):
    me = _participant(request, slug)
    meeting = Meeting.objects.filter(pk=pk, event=me.event, slot__isnull=False).select_related("slot").first()
    if meeting is None or me.pk not in (meeting.first_id, meeting.second_id):
        raise Http404
    opens, closes = services.feedback_window(meeting=meeting)
    now = timezone.now()
    given = meeting.feedback.filter(profile=me).first()
    initial = (
        {"happened": "yes" if given.happened else "no", "result": given.result, "comment": given.comment}
        if given
        else None
    )
    form = FeedbackForm(request.POST or None, initial=initial)
    context = {
        "form": form,
        "meeting": meeting,
        "counterpart": meeting.counterpart(me),
        "opens": opens,
        "closes": closes,
    }
    context["state"] = "before" if now < opens else "closed" if now >= closes else "open"
    if request.method == "POST":
        if form.is_valid():
            try:
                services.feedback_submit(meeting=meeting, profile=me, **form.cleaned_data)
            except services.MatchmakingError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Thank you for telling us."))
                return redirect("matchmaking:agenda", slug=slug)
        return _render(request, "events/matchmaking/feedback.html", me, context, status=400)
    return _render(request, "events/matchmaking/feedback.html", me, context)
