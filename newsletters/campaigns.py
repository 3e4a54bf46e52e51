"""Campaigns: content and preview, test send, scheduling, the start that fixes one outbox copy per subscriber
(written in bulk into the campaign's outbox group), batches over one SMTP connection, pause and resume through
the outbox's hold and release, progress counted from the copies' real statuses, and the beat task's tick."""

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass

import markdown
import nh3
from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import ngettext

from accounts.audit import audit_record
from common.locks import lock_one, locked
from newsletters.models import Campaign, Delivery, InvalidTransition
from newsletters.selectors import campaign_recipients
from newsletters.subscriptions import (
    PREFERENCES_SALT,
    UNSUBSCRIBE_SALT,
    deliveries_failed_process,
    link_absolute,
    list_headers,
    token_signer,
)
from outbox import api as outbox

logger = logging.getLogger(__name__)

CAMPAIGN_TEMPLATE = "newsletters/email/campaign"
# Per-subscriber parts of a campaign mail: the body is rendered once per language with these markers in it.
UNSUBSCRIBE_MARKER = "__DLSC_UNSUBSCRIBE_URL__"
PREFERENCES_MARKER = "__DLSC_PREFERENCES_URL__"
# A running batch looks at its campaign's status before every PAUSE_CHECK_EVERY-th copy: the bound on how many
# copies one batch still sends after a pause.
PAUSE_CHECK_EVERY = 10
TOKEN_SLOT = "__DLSC_TOKEN__"  # noqa: S105 (a placeholder in a URL, not a secret)


def campaign_group(*, campaign_id: int) -> str:
    """The outbox group of a campaign's copies: held, released and counted together."""
    return f"newsletters.campaign:{campaign_id}"


def campaign_language_for(*, campaign: Campaign, language: str) -> str:
    """The subscriber's language when the campaign has a text in it, else the other one."""
    if getattr(campaign, f"subject_{language}", "") and getattr(campaign, f"body_{language}", ""):
        return language
    return next(code for code, _name in settings.LANGUAGES if getattr(campaign, f"subject_{code}", ""))


def markdown_to_html(text: str) -> str:
    return nh3.clean(markdown.markdown(text, extensions=["extra", "sane_lists"]))


def campaign_content(*, campaign: Campaign, language: str) -> dict:
    """Subject and bodies of a campaign in one language, as the archive and the preview show them."""
    language = campaign_language_for(campaign=campaign, language=language)
    subject = getattr(campaign, f"subject_{language}")
    body = getattr(campaign, f"body_{language}")
    return {"language": language, "subject": subject, "body_text": body, "body_html": markdown_to_html(body)}


def campaign_render(*, campaign: Campaign, language: str, unsubscribe_url: str, preferences_url: str) -> dict:
    content = campaign_content(campaign=campaign, language=language)
    with translation.override(content["language"]):
        archive_url = settings.SITE_URL + campaign.get_absolute_url()
    _subject, body_text, body_html = outbox.mail_render(
        template=CAMPAIGN_TEMPLATE,
        language=content["language"],
        context={
            **content,
            "archive_url": archive_url,
            "unsubscribe_url": unsubscribe_url,
            "preferences_url": preferences_url,
        },
    )
    return {**content, "body_text": body_text, "body_html": body_html}


def campaign_send_test(*, campaign: Campaign, to: str, language: str):
    """A copy for a staff member, marked as a test, with links that do nothing to any subscriber."""
    with translation.override(language):
        dummy = settings.SITE_URL + reverse("newsletters:subscribe")
    rendered = campaign_render(campaign=campaign, language=language, unsubscribe_url=dummy, preferences_url=dummy)
    with transaction.atomic():
        return outbox.mail_enqueue_rendered(
            template=CAMPAIGN_TEMPLATE,
            to=to,
            language=rendered["language"],
            subject=f"[TEST] {rendered['subject']}",
            body_text=rendered["body_text"],
            body_html=rendered["body_html"],
            headers=list_headers(unsubscribe_url=dummy),
        )


def campaign_schedule(*, campaign: Campaign, at, by) -> Campaign:
    with transaction.atomic():
        campaign = lock_one(campaign)
        campaign.schedule(at=at)
        campaign.save(update_fields=["status", "scheduled_at"])
        audit_record(actor=by, action="newsletters.campaign_schedule", target=campaign, data={"at": at.isoformat()})
    return campaign


def campaign_unschedule(*, campaign: Campaign, by) -> Campaign:
    with transaction.atomic():
        campaign = lock_one(campaign)
        campaign.unschedule()
        campaign.save(update_fields=["status", "scheduled_at"])
        audit_record(actor=by, action="newsletters.campaign_unschedule", target=campaign)
    return campaign


def campaign_send_now(*, campaign: Campaign, by) -> Campaign:
    """Schedule for now and ask a worker to start at once; the beat task starts it if that publish is lost."""
    campaign = campaign_schedule(campaign=campaign, at=timezone.now(), by=by)
    transaction.on_commit(lambda: outbox.publish_in_background(lambda: _publish_start(campaign_id=campaign.pk)))
    return campaign


def _publish_start(*, campaign_id: int) -> None:
    if not settings.OUTBOX_DELIVER:
        return
    from newsletters.tasks import campaign_start_task

    try:
        campaign_start_task.apply_async(args=[campaign_id], retry=False)
    except Exception as exc:  # the beat task starts due campaigns
        logger.warning("newsletters: could not publish the start of campaign %s: %s", campaign_id, exc)


def campaign_start(*, campaign_id: int) -> int:
    """Fix the recipients: one outbox row and one delivery row per confirmed subscriber of the campaign's topics,
    written in bulk in one transaction. Each language is rendered once; only the personal links differ. Returns
    the number of recipients, or 0 when the campaign had already started (a task delivered twice)."""
    now = timezone.now()
    with transaction.atomic():
        campaign = lock_one(Campaign.objects.all(), pk=campaign_id)
        if campaign is None or campaign.status not in (Campaign.Status.DRAFT, Campaign.Status.SCHEDULED):
            return 0
        campaign.start(now=now)
        rendered = {
            code: campaign_render(
                campaign=campaign, language=code, unsubscribe_url=UNSUBSCRIBE_MARKER, preferences_url=PREFERENCES_MARKER
            )
            for code, _name in settings.LANGUAGES
        }
        link_bases = {
            code: {
                "unsubscribe": link_absolute(name="newsletters:unsubscribe", language=code, token=TOKEN_SLOT),
                "preferences": link_absolute(name="newsletters:preferences", language=code, token=TOKEN_SLOT),
            }
            for code, _name in settings.LANGUAGES
        }
        unsubscribe_signer = token_signer(UNSUBSCRIBE_SALT)
        preferences_signer = token_signer(PREFERENCES_SALT)
        recipients = list(campaign_recipients(campaign=campaign))
        mails, deliveries = [], []
        for pk, email, subscriber_language in recipients:
            language = subscriber_language if subscriber_language in rendered else settings.LANGUAGE_CODE
            content = rendered[language]
            unsubscribe_url = link_bases[language]["unsubscribe"].replace(
                TOKEN_SLOT, unsubscribe_signer.sign_object(pk)
            )
            preferences_url = link_bases[language]["preferences"].replace(
                TOKEN_SLOT, preferences_signer.sign_object(pk)
            )
            mails.append(
                outbox.Mail(
                    template=CAMPAIGN_TEMPLATE,
                    to=email,
                    language=content["language"],
                    subject=content["subject"],
                    body_text=content["body_text"]
                    .replace(UNSUBSCRIBE_MARKER, unsubscribe_url)
                    .replace(PREFERENCES_MARKER, preferences_url),
                    body_html=content["body_html"]
                    .replace(UNSUBSCRIBE_MARKER, unsubscribe_url)
                    .replace(PREFERENCES_MARKER, preferences_url),
                    headers=list_headers(unsubscribe_url=unsubscribe_url),
                    dedupe_key=f"newsletter:{campaign.pk}:{pk}",
                )
            )
            deliveries.append(Delivery(campaign=campaign, subscriber_id=pk, language=content["language"]))
        # The campaign's own batch task delivers the copies: it stops at a pause.
        message_ids = outbox.mails_enqueue_bulk(
            mails=mails, group=campaign_group(campaign_id=campaign.pk), publish=False
        )
        for delivery, message_id in zip(deliveries, message_ids, strict=True):
            delivery.message_id = message_id
        Delivery.objects.bulk_create(deliveries, batch_size=1000)
        campaign.recipient_count = len(recipients)
        campaign.save(update_fields=["status", "started_at", "recipient_count"])
        transaction.on_commit(lambda: batches_publish(campaign_id=campaign.pk, ids=message_ids))
    return len(recipients)


def batches_publish(*, campaign_id: int, ids: list[int]) -> int:
    """Publish the campaign's rows in batches; a batch that cannot be published is left to the sweeper."""
    if not settings.OUTBOX_DELIVER or not ids:
        return 0
    from newsletters.tasks import campaign_batch_task

    size = settings.NEWSLETTER_BATCH_SIZE
    published = 0
    for start in range(0, len(ids), size):
        try:
            campaign_batch_task.apply_async(args=[campaign_id, ids[start : start + size]], retry=False)
        except Exception as exc:
            logger.warning("newsletters: could not publish a batch of campaign %s: %s", campaign_id, exc)
            break
        published += 1
    return published


def campaign_is_sending(*, campaign_id: int) -> bool:
    """One plain statement: the ORM's query building would cost a large share of a copy's CPU time."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {Campaign._meta.db_table} WHERE id = %s AND status = %s",  # noqa: S608
            [campaign_id, Campaign.Status.SENDING],
        )
        return cursor.fetchone() is not None


def campaign_sending_gate(*, campaign_id: int, every: int = PAUSE_CHECK_EVERY) -> Callable[[], bool]:
    """The `proceed` of a campaign's batch: it asks the database before the batch's first copy and then before
    every `every`-th copy, so a pause committed while a batch runs stops it after at most `every` more copies
    (the copies between two checks); asking before every copy cost a database round trip per copy."""
    calls = itertools.count()

    def proceed() -> bool:
        return next(calls) % every != 0 or campaign_is_sending(campaign_id=campaign_id)

    return proceed


def campaign_pause(*, campaign: Campaign, by, reason: str = "") -> Campaign:
    """Stop sending. The campaign's outbox group is held: batch tasks still in the queue find nothing to claim
    and the sweeper leaves its copies alone; a running batch, which checks the campaign every few copies, hands
    the rows it claimed back as held."""
    with transaction.atomic():
        campaign = lock_one(campaign)
        campaign.pause(reason=reason)
        campaign.save(update_fields=["status", "pause_reason"])
        audit_record(actor=by, action="newsletters.campaign_pause", target=campaign, data={"reason": reason})
        outbox.group_hold(group=campaign_group(campaign_id=campaign.pk))
    return campaign


def campaign_resume(*, campaign: Campaign, by) -> Campaign:
    """Continue with the copies not yet sent; a sent copy is never claimed again, so nobody gets a second one.
    Deferred copies start afresh: counting their old deferrals would pause the campaign again at once."""
    with transaction.atomic():
        campaign = lock_one(campaign)
        campaign.resume()
        campaign.save(update_fields=["status", "pause_reason"])
        audit_record(actor=by, action="newsletters.campaign_resume", target=campaign)
        ids = outbox.group_release(group=campaign_group(campaign_id=campaign.pk), publish=False)
        transaction.on_commit(
            lambda: outbox.publish_in_background(lambda: batches_publish(campaign_id=campaign.pk, ids=ids))
        )
    return campaign


@dataclass(frozen=True)
class Progress:
    total: int
    sent: int
    failed: int

    @property
    def remaining(self) -> int:
        return self.total - self.sent - self.failed

    @property
    def percent(self) -> int:
        return int(100 * (self.sent + self.failed) / self.total) if self.total else 0


def campaign_progress(*, campaign: Campaign) -> Progress:
    """Counted from the copies' real statuses in the outbox: a copy is sent only when its row says so."""
    counts = outbox.group_status_counts(group=campaign_group(campaign_id=campaign.pk))
    total = Delivery.objects.filter(campaign=campaign).count()
    return Progress(total=total, sent=counts[outbox.Status.SENT], failed=counts[outbox.Status.FAILED])


def campaign_finish_if_done(*, campaign_id: int) -> bool:
    with transaction.atomic():
        campaign = locked(Campaign.objects.filter(pk=campaign_id), skip_locked=True).first()
        if campaign is None or campaign.status != Campaign.Status.SENDING:
            return False
        if outbox.group_waiting(group=campaign_group(campaign_id=campaign.pk)):
            return False
        campaign.finish(now=timezone.now())
        campaign.save(update_fields=["status", "finished_at"])
    return True


def campaign_pause_if_deferred(*, campaign_id: int) -> bool:
    """A campaign whose copies keep being deferred (the mail server answers 4xx or cannot be reached) pauses
    itself with the reason on its page, rather than retrying into an outage; resuming sends each waiting copy."""
    count, last_error = outbox.group_deferred(group=campaign_group(campaign_id=campaign_id))
    if count < settings.NEWSLETTER_PAUSE_AFTER_TRANSIENT_FAILURES:
        return False
    campaign = Campaign.objects.filter(pk=campaign_id, status=Campaign.Status.SENDING).first()
    if campaign is None:
        return False
    with translation.override(settings.LANGUAGE_CODE):
        reason = ngettext(
            "Paused by itself: the mail server deferred %(count)d copy (last answer: %(error)s). Resume once the "
            "server accepts mail again; each copy not yet sent is sent once.",
            "Paused by itself: the mail server deferred %(count)d copies (last answer: %(error)s). Resume once the "
            "server accepts mail again; each copy not yet sent is sent once.",
            count,
        ) % {"count": count, "error": last_error[:300]}
    try:
        campaign_pause(campaign=campaign, by=None, reason=reason)
    except InvalidTransition:  # paused or finished meanwhile
        return False
    return True


def newsletters_tick() -> dict:
    """The beat task's work: start scheduled campaigns that are due, finish campaigns with nothing left to send,
    and mark subscribers whose copies failed for good."""
    now = timezone.now()
    due = list(
        Campaign.objects.filter(status=Campaign.Status.SCHEDULED, scheduled_at__lte=now).values_list("pk", flat=True)
    )
    started = sum(1 for pk in due if campaign_start(campaign_id=pk))
    finished = sum(
        1
        for pk in Campaign.objects.filter(status=Campaign.Status.SENDING).values_list("pk", flat=True)
        if campaign_finish_if_done(campaign_id=pk)
    )
    paused = sum(
        1
        for pk in Campaign.objects.filter(status=Campaign.Status.SENDING).values_list("pk", flat=True)
        if campaign_pause_if_deferred(campaign_id=pk)
    )
    return {"started": started, "finished": finished, "paused": paused, "bounced": deliveries_failed_process()}
