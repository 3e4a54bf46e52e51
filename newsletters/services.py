"""Newsletter use cases: opt-in and confirmation, preferences and opt-out, the consent ledger, import, bounces,
and campaigns whose copies are fixed as outbox rows and delivered in batches by Celery."""

import csv
import io
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import markdown
import nh3
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import ngettext

from accounts.audit import audit_record
from newsletters.consent import CONSENT_TEXT_VERSION
from newsletters.models import Campaign, ConsentRecord, Delivery, InvalidTransition, Subscriber, Topic
from newsletters.selectors import campaign_audience
from outbox.models import OutboxMessage
from outbox.services import mail_enqueue, mail_enqueue_rendered, mail_render, publish_in_background

logger = logging.getLogger(__name__)

Source = ConsentRecord.Source
Action = ConsentRecord.Action
CONFIRM_SALT = "newsletters.confirm"
UNSUBSCRIBE_SALT = "newsletters.unsubscribe"
PREFERENCES_SALT = "newsletters.preferences"
CAMPAIGN_TEMPLATE = "newsletters/email/campaign"
# Per-subscriber parts of a campaign mail: the body is rendered once per language with these markers in it.
UNSUBSCRIBE_MARKER = "__DLSC_UNSUBSCRIBE_URL__"
PREFERENCES_MARKER = "__DLSC_PREFERENCES_URL__"
# A paused campaign's waiting rows are parked this far ahead, so neither a batch task nor the sweeper claims them.
PARKED_FOR = timedelta(days=365 * 100)
INSERT_CHUNK = 1000
# A running batch looks at its campaign's status before every PAUSE_CHECK_EVERY-th copy: the bound on how many
# copies one batch still sends after a pause.
PAUSE_CHECK_EVERY = 10
TOKEN_SLOT = "__DLSC_TOKEN__"  # noqa: S105 (a placeholder in a URL, not a secret)


class BadToken(Exception):
    """A link whose signature is wrong, which has expired, or whose subscriber no longer exists."""


class ImportRejected(Exception):
    def __init__(self, errors: list[str]):
        super().__init__(f"{len(errors)} bad rows")
        self.errors = errors


# --- Tokens and links -----------------------------------------------------------------------------


def _signer(salt: str) -> signing.Signer:
    # Only the confirmation link expires; unsubscribe and preference links must work in any old newsletter.
    return signing.TimestampSigner(salt=salt) if salt == CONFIRM_SALT else signing.Signer(salt=salt)


def subscriber_token(*, subscriber: Subscriber, salt: str) -> str:
    return _signer(salt).sign_object(subscriber.pk)


def subscriber_from_token(*, token: str, salt: str, max_age: int | None = None) -> Subscriber:
    signer = _signer(salt)
    try:
        if isinstance(signer, signing.TimestampSigner):
            pk = signer.unsign_object(token, max_age=max_age)
        else:
            pk = signer.unsign_object(token)
    except (signing.BadSignature, ValueError) as exc:  # includes SignatureExpired and undecodable payloads
        raise BadToken(str(exc)) from exc
    if not isinstance(pk, int):
        raise BadToken("malformed token")
    subscriber = Subscriber.objects.filter(pk=pk).first()
    if subscriber is None:
        raise BadToken("unknown subscriber")
    return subscriber


def _absolute(*, name: str, language: str, token: str) -> str:
    with translation.override(language):
        return settings.SITE_URL + reverse(name, kwargs={"token": token})


def subscriber_links(*, subscriber: Subscriber) -> dict:
    language = subscriber.language
    return {
        "unsubscribe_url": _absolute(
            name="newsletters:unsubscribe",
            language=language,
            token=subscriber_token(subscriber=subscriber, salt=UNSUBSCRIBE_SALT),
        ),
        "preferences_url": _absolute(
            name="newsletters:preferences",
            language=language,
            token=subscriber_token(subscriber=subscriber, salt=PREFERENCES_SALT),
        ),
    }


def _list_headers(*, unsubscribe_url: str) -> dict:
    # RFC 8058: an https URL that unsubscribes on a POST of "List-Unsubscribe=One-Click", with no cookie.
    return {
        "List-Unsubscribe": f"<{unsubscribe_url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-Id": settings.NEWSLETTER_LIST_ID,
    }


# --- The ledger -----------------------------------------------------------------------------------


def consent_record(
    *,
    subscriber: Subscriber,
    action: str,
    source: str,
    ip_address: str | None = None,
    consent_text_version: str = "",
    occurred_at=None,
    actor=None,
    note: str = "",
) -> ConsentRecord:
    return ConsentRecord.objects.create(
        subscriber=subscriber,
        action=action,
        source=source,
        ip_address=ip_address or None,
        consent_text_version=consent_text_version,
        occurred_at=occurred_at or timezone.now(),
        topics=sorted(subscriber.topics.values_list("slug", flat=True)),
        language=subscriber.language,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        note=note[:255],
    )


CONSENT_EXPORT_FIELDS = [
    "email",
    "occurred_at",
    "recorded_at",
    "action",
    "source",
    "ip_address",
    "consent_text_version",
    "topics",
    "language",
    "actor",
    "note",
]


def consent_export_rows(*, subscriber: Subscriber) -> list[list]:
    """The whole ledger of one subscriber, oldest first, one row per CONSENT_EXPORT_FIELDS."""
    return [
        [
            subscriber.email,
            record.occurred_at.isoformat(),
            record.recorded_at.isoformat(),
            record.action,
            record.source,
            record.ip_address or "",
            record.consent_text_version,
            " ".join(record.topics),
            record.language,
            record.actor.email if record.actor else "",
            record.note,
        ]
        for record in subscriber.consent_records.select_related("actor").order_by("occurred_at", "pk")
    ]


# --- Opt-in, confirmation, preferences, opt-out ---------------------------------------------------


def _topics_resolve(topics) -> list[Topic]:
    """Topics given as Topic objects or slugs; None means the topics marked as default."""
    if topics is None:
        return list(Topic.objects.filter(is_active=True, is_default=True))
    slugs = [topic.slug if isinstance(topic, Topic) else str(topic) for topic in topics]
    found = list(Topic.objects.filter(slug__in=slugs, is_active=True))
    if len(found) != len(set(slugs)):
        raise ValidationError("unknown topic")
    return found


def _subscriber_locked(*, email: str) -> Subscriber | None:
    return Subscriber.objects.select_for_update().filter(email__iexact=email).first()


def subscription_request(
    *,
    email: str,
    name: str,
    language: str,
    topics=None,
    source: str,
    ip_address: str | None,
    consent_text_version: str | None = None,
) -> Subscriber:
    """Someone asks to receive newsletters. A new, pending or departed address gets a confirmation mail with an
    expiring link and an opt-in row in the ledger; an address already confirmed gets a "you are already
    subscribed" mail instead and nothing changes. The caller cannot tell the cases apart, on purpose."""
    email = email.strip().lower()
    validate_email(email)
    if language not in dict(settings.LANGUAGES):
        raise ValidationError("unknown language")
    chosen = _topics_resolve(topics)
    with transaction.atomic():
        subscriber = _subscriber_locked(email=email)
        if subscriber is None:
            try:
                with transaction.atomic():
                    subscriber = Subscriber.objects.create(email=email, name=name[:100], language=language)
            except IntegrityError:
                subscriber = _subscriber_locked(email=email)
        if subscriber.status == Subscriber.Status.CONFIRMED:
            mail_enqueue(
                template="newsletters/email/already_subscribed",
                to=subscriber.email,
                language=subscriber.language,
                context=subscriber_links(subscriber=subscriber),
            )
            return subscriber
        if subscriber.status != Subscriber.Status.PENDING:
            subscriber.request_again()
        subscriber.name = name[:100] or subscriber.name
        subscriber.language = language
        subscriber.save(update_fields=["status", "name", "language"])
        subscriber.topics.set(chosen)
        consent_record(
            subscriber=subscriber,
            action=Action.OPT_IN,
            source=source,
            ip_address=ip_address,
            consent_text_version=consent_text_version or CONSENT_TEXT_VERSION,
        )
        token = subscriber_token(subscriber=subscriber, salt=CONFIRM_SALT)
        mail_enqueue(
            template="newsletters/email/confirm",
            to=subscriber.email,
            language=language,
            context={
                "confirm_url": _absolute(name="newsletters:confirm", language=language, token=token),
                "topics": [topic.name for topic in chosen],
                "valid_days": settings.NEWSLETTER_CONFIRM_MAX_AGE // 86400,
            },
        )
    return subscriber


def subscription_confirm(*, token: str, ip_address: str | None) -> Subscriber:
    """The link in the confirmation mail was used. Confirming twice is harmless; an expired link is refused."""
    subscriber = subscriber_from_token(token=token, salt=CONFIRM_SALT, max_age=settings.NEWSLETTER_CONFIRM_MAX_AGE)
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
        if subscriber.status == Subscriber.Status.CONFIRMED:
            return subscriber
        if subscriber.status != Subscriber.Status.PENDING:
            # They left (or bounced) after this link was mailed: an old link does not bring them back.
            raise BadToken("subscriber is no longer pending")
        subscriber.confirm(now=timezone.now())
        subscriber.save(update_fields=["status", "confirmed_at", "unsubscribed_at", "bounced_at"])
        opt_in = subscriber.consent_records.filter(action=Action.OPT_IN).order_by("-occurred_at", "-pk").first()
        consent_record(
            subscriber=subscriber,
            action=Action.CONFIRM,
            source=Source.EMAIL_LINK,
            ip_address=ip_address,
            consent_text_version=opt_in.consent_text_version if opt_in else CONSENT_TEXT_VERSION,
        )
    return subscriber


def subscriber_unsubscribe(*, subscriber: Subscriber, source: str, ip_address: str | None, actor=None) -> bool:
    """Opt out at once. Returns False when they had already left (the answer to them is the same)."""
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
        if subscriber.status == Subscriber.Status.UNSUBSCRIBED:
            return False
        subscriber.unsubscribe(now=timezone.now())
        subscriber.save(update_fields=["status", "unsubscribed_at"])
        consent_record(subscriber=subscriber, action=Action.OPT_OUT, source=source, ip_address=ip_address, actor=actor)
    return True


def consent_tombstone_hash(*, email: str) -> str:
    """A keyed hash (HMAC-SHA256 under SECRET_KEY) of an address: it proves a withdrawal for that address without
    keeping it, and cannot be reversed or recomputed without the key."""
    return salted_hmac("newsletters.consent-tombstone", email.strip().lower(), algorithm="sha256").hexdigest()


def consent_withdrawal_proof(*, email: str) -> ConsentRecord | None:
    """The tombstone left when this address's subscriber was erased, if any."""
    return ConsentRecord.objects.filter(email_hash=consent_tombstone_hash(email=email)).order_by("-pk").first()


def subscriber_erase(*, subscriber: Subscriber, source: str = Source.ACCOUNT) -> Subscriber:
    """Unsubscribe and anonymise a subscriber. The ledger keeps its rows (what was consented to, when, in which
    text version) without IP addresses, and ends with a tombstone holding the keyed hash of the address."""
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
        email = subscriber.email
        if subscriber.status != Subscriber.Status.UNSUBSCRIBED:
            subscriber.unsubscribe(now=timezone.now())
            consent_record(subscriber=subscriber, action=Action.OPT_OUT, source=source)
        subscriber.email = f"erased-{subscriber.pk}@example.invalid"
        subscriber.name = ""
        subscriber.user = None
        subscriber.bounce_score = 0
        subscriber.last_bounce_at = None
        subscriber.save(
            update_fields=["status", "unsubscribed_at", "email", "name", "user", "bounce_score", "last_bounce_at"]
        )
        subscriber.topics.clear()
        subscriber.consent_records.update(ip_address=None)
        tombstone = consent_record(subscriber=subscriber, action=Action.ERASE, source=source)
        tombstone.email_hash = consent_tombstone_hash(email=email)
        tombstone.save(update_fields=["email_hash"])
    return subscriber


def subscriber_preferences_update(
    *, subscriber: Subscriber, language: str, topics, source: str, ip_address: str | None, actor=None
) -> Subscriber:
    """Change language and topics; no topics at all is an opt-out."""
    chosen = _topics_resolve(topics)
    if not chosen:
        subscriber_unsubscribe(subscriber=subscriber, source=source, ip_address=ip_address, actor=actor)
        subscriber.refresh_from_db()
        return subscriber
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
        before = (subscriber.language, set(subscriber.topics.values_list("pk", flat=True)))
        if before == (language, {topic.pk for topic in chosen}):
            return subscriber
        subscriber.language = language
        subscriber.save(update_fields=["language"])
        subscriber.topics.set(chosen)
        consent_record(
            subscriber=subscriber,
            action=Action.TOPICS,
            source=source,
            ip_address=ip_address,
            consent_text_version=CONSENT_TEXT_VERSION,
            actor=actor,
        )
    return subscriber


def account_subscription(*, user) -> Subscriber | None:
    return Subscriber.objects.filter(email__iexact=user.email).prefetch_related("topics").first()


def account_subscription_update(*, user, topics, ip_address: str | None) -> Subscriber | None:
    """A logged-in member picks topics on their account page. Their address is verified by the login, so the
    choice takes effect at once (no confirmation mail); choosing none unsubscribes."""
    chosen = _topics_resolve(topics)
    with transaction.atomic():
        subscriber = _subscriber_locked(email=user.email)
        if subscriber is None and not chosen:
            return None
        if subscriber is None:
            subscriber = Subscriber.objects.create(
                email=user.email.lower(), name=user.full_name[:100], language=user.preferred_language, user=user
            )
        if not chosen:
            if subscriber.status != Subscriber.Status.UNSUBSCRIBED:
                subscriber_unsubscribe(subscriber=subscriber, source=Source.ACCOUNT, ip_address=ip_address)
            return subscriber
        if subscriber.status != Subscriber.Status.CONFIRMED:
            subscriber.user = user
            subscriber.confirm(now=timezone.now())
            subscriber.save(update_fields=["status", "confirmed_at", "unsubscribed_at", "bounced_at", "user"])
            subscriber.topics.set(chosen)
            consent_record(
                subscriber=subscriber,
                action=Action.CONFIRM,
                source=Source.ACCOUNT,
                ip_address=ip_address,
                consent_text_version=CONSENT_TEXT_VERSION,
            )
            return subscriber
    return subscriber_preferences_update(
        subscriber=subscriber,
        language=subscriber.language,
        topics=chosen,
        source=Source.ACCOUNT,
        ip_address=ip_address,
    )


def subscriber_mark_undeliverable(*, email: str, status: str, source: str, note: str = "") -> Subscriber | None:
    """A bounce or complaint, from the mail provider's webhook or from repeated failed deliveries."""
    with transaction.atomic():
        subscriber = _subscriber_locked(email=email)
        if subscriber is None or subscriber.status in (Subscriber.Status.UNSUBSCRIBED, status):
            return None
        subscriber.mark_undeliverable(status=status, now=timezone.now())
        subscriber.save(update_fields=["status", "bounced_at"])
        action = Action.COMPLAINT if status == Subscriber.Status.COMPLAINED else Action.BOUNCE
        consent_record(subscriber=subscriber, action=action, source=source, note=note)
    return subscriber


# --- Import ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int


def subscribers_import(
    *, csv_text: str, topics, consented_at, source_note: str, consent_text_version: str, actor
) -> ImportResult:
    """Import a list of people who consented elsewhere, as confirmed subscribers. Columns: email, name, language
    (a header row). Every row is checked first; one bad row rejects the whole file, so nothing is half-imported."""
    chosen = _topics_resolve(topics)
    if not chosen:
        raise ImportRejected(["no topics chosen"])
    reader = csv.DictReader(io.StringIO(csv_text))
    if reader.fieldnames is None or "email" not in [name.strip().lower() for name in reader.fieldnames]:
        raise ImportRejected(["the first row must name the columns: email, name, language"])
    rows, errors, seen = [], [], set()
    for line, raw in enumerate(reader, start=2):
        row = {(key or "").strip().lower(): (value or "").strip() for key, value in raw.items() if key is not None}
        email = row.get("email", "").lower()
        try:
            validate_email(email)
        except ValidationError:
            errors.append(f"line {line}: invalid email address {email[:80]!r}")
            continue
        language = row.get("language") or settings.LANGUAGE_CODE
        if language not in dict(settings.LANGUAGES):
            errors.append(f"line {line}: unknown language {language[:10]!r}")
            continue
        name = row.get("name", "")
        if len(name) > 100 or "<" in name or ">" in name:
            errors.append(f"line {line}: the name is too long or contains markup")
            continue
        if email in seen:
            errors.append(f"line {line}: {email} appears twice")
            continue
        seen.add(email)
        rows.append((email, name, language))
    if errors:
        raise ImportRejected(errors)
    if not rows:
        raise ImportRejected(["the file has no rows"])
    created = updated = 0
    with transaction.atomic():
        for email, name, language in rows:
            subscriber = _subscriber_locked(email=email)
            if subscriber is None:
                subscriber = Subscriber.objects.create(email=email, name=name, language=language)
                created += 1
            else:
                updated += 1
            if subscriber.status == Subscriber.Status.UNSUBSCRIBED:
                # Their later opt-out here outweighs an older consent given elsewhere.
                continue
            if subscriber.status != Subscriber.Status.CONFIRMED:
                subscriber.confirm(now=consented_at)
                subscriber.save(update_fields=["status", "confirmed_at", "unsubscribed_at", "bounced_at"])
            subscriber.topics.add(*chosen)
            consent_record(
                subscriber=subscriber,
                action=Action.CONFIRM,
                source=Source.IMPORT,
                consent_text_version=consent_text_version,
                occurred_at=consented_at,
                actor=actor,
                note=source_note,
            )
    return ImportResult(created=created, updated=updated)


# --- Campaigns ------------------------------------------------------------------------------------


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
    _subject, body_text, body_html = mail_render(
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


def campaign_send_test(*, campaign: Campaign, to: str, language: str) -> OutboxMessage:
    """A copy for a staff member, marked as a test, with links that do nothing to any subscriber."""
    with translation.override(language):
        dummy = settings.SITE_URL + reverse("newsletters:subscribe")
    rendered = campaign_render(campaign=campaign, language=language, unsubscribe_url=dummy, preferences_url=dummy)
    with transaction.atomic():
        return mail_enqueue_rendered(
            template=CAMPAIGN_TEMPLATE,
            to=to,
            language=rendered["language"],
            subject=f"[TEST] {rendered['subject']}",
            body_text=rendered["body_text"],
            body_html=rendered["body_html"],
            headers=_list_headers(unsubscribe_url=dummy),
        )


def campaign_schedule(*, campaign: Campaign, at, by) -> Campaign:
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        campaign.schedule(at=at)
        campaign.save(update_fields=["status", "scheduled_at"])
        audit_record(actor=by, action="newsletters.campaign_schedule", target=campaign, data={"at": at.isoformat()})
    return campaign


def campaign_unschedule(*, campaign: Campaign, by) -> Campaign:
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        campaign.unschedule()
        campaign.save(update_fields=["status", "scheduled_at"])
        audit_record(actor=by, action="newsletters.campaign_unschedule", target=campaign)
    return campaign


def campaign_send_now(*, campaign: Campaign, by) -> Campaign:
    """Schedule for now and ask a worker to start at once; the beat task starts it if that publish is lost."""
    campaign = campaign_schedule(campaign=campaign, at=timezone.now(), by=by)
    transaction.on_commit(lambda: publish_in_background(lambda: _publish_start(campaign_id=campaign.pk)))
    return campaign


def _publish_start(*, campaign_id: int) -> None:
    if not settings.OUTBOX_DELIVER:
        return
    from newsletters.tasks import campaign_start_task

    try:
        campaign_start_task.apply_async(args=[campaign_id], retry=False)
    except Exception as exc:  # the beat task starts due campaigns
        logger.warning("newsletters: could not publish the start of campaign %s: %s", campaign_id, exc)


def campaign_recipients(*, campaign: Campaign):
    return campaign_audience(campaign=campaign).order_by("pk").values_list("pk", "email", "language")


def campaign_start(*, campaign_id: int) -> int:
    """Fix the recipients: one outbox row and one delivery row per confirmed subscriber of the campaign's topics,
    written in bulk in one transaction. Each language is rendered once; only the personal links differ. Returns
    the number of recipients, or 0 when the campaign had already started (a task delivered twice)."""
    now = timezone.now()
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().filter(pk=campaign_id).first()
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
                "unsubscribe": _absolute(name="newsletters:unsubscribe", language=code, token=TOKEN_SLOT),
                "preferences": _absolute(name="newsletters:preferences", language=code, token=TOKEN_SLOT),
            }
            for code, _name in settings.LANGUAGES
        }
        unsubscribe_signer = _signer(UNSUBSCRIBE_SALT)
        preferences_signer = _signer(PREFERENCES_SALT)
        from_email = settings.DEFAULT_FROM_EMAIL
        recipients = list(campaign_recipients(campaign=campaign))
        message_ids = []
        for start in range(0, len(recipients), INSERT_CHUNK):
            chunk = recipients[start : start + INSERT_CHUNK]
            messages, deliveries = [], []
            for pk, email, subscriber_language in chunk:
                language = subscriber_language if subscriber_language in rendered else settings.LANGUAGE_CODE
                content = rendered[language]
                unsubscribe_url = link_bases[language]["unsubscribe"].replace(
                    TOKEN_SLOT, unsubscribe_signer.sign_object(pk)
                )
                preferences_url = link_bases[language]["preferences"].replace(
                    TOKEN_SLOT, preferences_signer.sign_object(pk)
                )
                messages.append(
                    OutboxMessage(
                        template=CAMPAIGN_TEMPLATE,
                        to=email,
                        from_email=from_email,
                        language=content["language"],
                        subject=content["subject"][:255],
                        body_text=content["body_text"]
                        .replace(UNSUBSCRIBE_MARKER, unsubscribe_url)
                        .replace(PREFERENCES_MARKER, preferences_url),
                        body_html=content["body_html"]
                        .replace(UNSUBSCRIBE_MARKER, unsubscribe_url)
                        .replace(PREFERENCES_MARKER, preferences_url),
                        headers=_list_headers(unsubscribe_url=unsubscribe_url),
                        dedupe_key=f"newsletter:{campaign.pk}:{pk}",
                        created_at=now,
                        next_attempt_at=now,
                    )
                )
                deliveries.append(Delivery(campaign=campaign, subscriber_id=pk, language=content["language"]))
            OutboxMessage.objects.bulk_create(messages)
            for delivery, message in zip(deliveries, messages, strict=True):
                delivery.message = message
            Delivery.objects.bulk_create(deliveries)
            message_ids.extend(message.pk for message in messages)
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


def _waiting_rows(*, campaign: Campaign):
    return OutboxMessage.objects.filter(
        newsletter_delivery__campaign=campaign,
        status__in=[OutboxMessage.Status.QUEUED, OutboxMessage.Status.RETRYING],
    )


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
    """Stop sending. Waiting rows are parked, so batch tasks still in the queue find nothing to claim and the
    sweeper leaves them alone; rows a running batch has claimed are parked too, and that batch, which checks the
    campaign before each send, hands them back to the queue unsent."""
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        campaign.pause(reason=reason)
        campaign.save(update_fields=["status", "pause_reason"])
        audit_record(actor=by, action="newsletters.campaign_pause", target=campaign, data={"reason": reason})
        OutboxMessage.objects.filter(
            newsletter_delivery__campaign=campaign,
            status__in=[OutboxMessage.Status.QUEUED, OutboxMessage.Status.RETRYING, OutboxMessage.Status.SENDING],
        ).update(next_attempt_at=timezone.now() + PARKED_FOR)
    return campaign


def campaign_resume(*, campaign: Campaign, by) -> Campaign:
    """Continue with the rows not yet sent; a sent row is never claimed again, so nobody gets a second copy."""
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        campaign.resume()
        campaign.save(update_fields=["status", "pause_reason"])
        audit_record(actor=by, action="newsletters.campaign_resume", target=campaign)
        waiting = _waiting_rows(campaign=campaign)
        ids = list(waiting.order_by("pk").values_list("pk", flat=True))
        # Deferred copies start afresh: counting their old deferrals would pause the campaign again at once.
        waiting.update(status=OutboxMessage.Status.QUEUED, failure="", next_attempt_at=timezone.now())
        transaction.on_commit(lambda: publish_in_background(lambda: batches_publish(campaign_id=campaign.pk, ids=ids)))
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
    counts = Delivery.objects.filter(campaign=campaign).aggregate(
        total=Count("pk"),
        # A sent mail's outbox row may be purged after a year; its delivery then has no message.
        sent=Count("pk", filter=Q(message__isnull=True) | Q(message__status=OutboxMessage.Status.SENT)),
        failed=Count("pk", filter=Q(message__status=OutboxMessage.Status.FAILED)),
    )
    return Progress(**counts)


def campaign_finish_if_done(*, campaign_id: int) -> bool:
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update(skip_locked=True).filter(pk=campaign_id).first()
        if campaign is None or campaign.status != Campaign.Status.SENDING:
            return False
        if Delivery.objects.filter(
            campaign=campaign,
            message__status__in=[
                OutboxMessage.Status.QUEUED,
                OutboxMessage.Status.SENDING,
                OutboxMessage.Status.RETRYING,
            ],
        ).exists():
            return False
        campaign.finish(now=timezone.now())
        campaign.save(update_fields=["status", "finished_at"])
    return True


def deliveries_failed_process(*, message_ids: list[int] | None = None) -> int:
    """Count each copy the mail server refused for good (a 5xx for its recipient) once in its subscriber's bounce
    score; returns how many subscribers that marked bounced. A deferral or an unreachable server never counts."""
    refused = Delivery.objects.filter(
        bounce_counted=False,
        message__status=OutboxMessage.Status.FAILED,
        message__failure=OutboxMessage.Failure.PERMANENT,
    )
    if message_ids is not None:
        refused = refused.filter(message_id__in=message_ids)
    marked = 0
    for pk, subscriber_id, error in refused.values_list("pk", "subscriber_id", "message__last_error"):
        with transaction.atomic():
            if Delivery.objects.filter(pk=pk, bounce_counted=False).update(bounce_counted=True):
                marked += subscriber_bounce_record(subscriber_id=subscriber_id, note=error[:255]) is not None
    return marked


def subscriber_bounce_record(*, subscriber_id: int, note: str) -> Subscriber | None:
    """One refused copy for a subscriber; returns the subscriber when its bounce score reached the threshold and
    it is now marked bounced, so later campaigns skip the address."""
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().filter(pk=subscriber_id).first()
        if subscriber is None or subscriber.status != Subscriber.Status.CONFIRMED:
            return None
        now = timezone.now()
        stale_after = timedelta(days=settings.NEWSLETTER_BOUNCE_INFO_STALE_DAYS)
        if not subscriber.bounce_count(now=now, stale_after=stale_after):
            return None
        if subscriber.bounce_score < settings.NEWSLETTER_BOUNCE_SCORE_THRESHOLD:
            subscriber.save(update_fields=["bounce_score", "last_bounce_at"])
            return None
        subscriber.mark_undeliverable(status=Subscriber.Status.BOUNCED, now=now)
        subscriber.save(update_fields=["status", "bounced_at", "bounce_score", "last_bounce_at"])
        consent_record(subscriber=subscriber, action=Action.BOUNCE, source=Source.DELIVERY, note=note)
    return subscriber


def campaign_pause_if_deferred(*, campaign_id: int) -> bool:
    """A campaign whose copies keep being deferred (the mail server answers 4xx or cannot be reached) pauses
    itself with the reason on its page, rather than retrying into an outage; resuming sends each waiting copy."""
    deferred = OutboxMessage.objects.filter(
        newsletter_delivery__campaign_id=campaign_id,
        status=OutboxMessage.Status.RETRYING,
        failure=OutboxMessage.Failure.TRANSIENT,
    )
    count = deferred.count()
    if count < settings.NEWSLETTER_PAUSE_AFTER_TRANSIENT_FAILURES:
        return False
    last_error = deferred.order_by("-pk").values_list("last_error", flat=True).first() or ""
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
