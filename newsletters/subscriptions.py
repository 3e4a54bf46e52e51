"""Subscriptions: opt-in and confirmation, signed links, preferences and opt-out, the consent ledger, erasure,
import, and the bounces and complaints that stop mail to an address."""

import csv
import io
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from common.locks import lock_one
from newsletters.access import topics_hidden, topics_refused
from newsletters.consent import CONSENT_TEXT_VERSION
from newsletters.models import ConsentRecord, Delivery, Subscriber, Topic
from newsletters.selectors import consent_tombstone_hash
from outbox import api as outbox

Source = ConsentRecord.Source
Action = ConsentRecord.Action
CONFIRM_SALT = "newsletters.confirm"
UNSUBSCRIBE_SALT = "newsletters.unsubscribe"
PREFERENCES_SALT = "newsletters.preferences"


class BadToken(Exception):
    """A link whose signature is wrong, which has expired, or whose subscriber no longer exists."""


class ImportRejected(Exception):
    def __init__(self, errors: list[str]):
        super().__init__(f"{len(errors)} bad rows")
        self.errors = errors


# --- Tokens and links -----------------------------------------------------------------------------


def token_signer(salt: str) -> signing.Signer:
    # Only the confirmation link expires; unsubscribe and preference links must work in any old newsletter.
    return signing.TimestampSigner(salt=salt) if salt == CONFIRM_SALT else signing.Signer(salt=salt)


def subscriber_token(*, subscriber: Subscriber, salt: str) -> str:
    return token_signer(salt).sign_object(subscriber.pk)


def subscriber_from_token(*, token: str, salt: str, max_age: int | None = None) -> Subscriber:
    signer = token_signer(salt)
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


def link_absolute(*, name: str, language: str, token: str) -> str:
    with translation.override(language):
        return settings.SITE_URL + reverse(name, kwargs={"token": token})


def subscriber_links(*, subscriber: Subscriber) -> dict:
    language = subscriber.language
    return {
        "unsubscribe_url": link_absolute(
            name="newsletters:unsubscribe",
            language=language,
            token=subscriber_token(subscriber=subscriber, salt=UNSUBSCRIBE_SALT),
        ),
        "preferences_url": link_absolute(
            name="newsletters:preferences",
            language=language,
            token=subscriber_token(subscriber=subscriber, salt=PREFERENCES_SALT),
        ),
    }


def list_headers(*, unsubscribe_url: str) -> dict:
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


# --- Opt-in, confirmation, preferences, opt-out ---------------------------------------------------


def _topics_resolve(topics, *, user=None, reserved_check: bool = True, kept=()) -> list[Topic]:
    """Topics given as Topic objects or slugs; None means the topics marked as default (never a reserved one).
    A topic reserved for members is refused unless `user`'s membership includes it or the subscriber already
    has it (`kept`: taking topics away is always allowed)."""
    if topics is None:
        return [
            topic
            for topic in Topic.objects.filter(is_active=True, is_default=True)
            if topic.slug not in topics_hidden(user=user)
        ]
    slugs = [topic.slug if isinstance(topic, Topic) else str(topic) for topic in topics]
    found = list(Topic.objects.filter(slug__in=slugs, is_active=True))
    if len(found) != len(set(slugs)):
        raise ValidationError("unknown topic")
    if reserved_check and topics_refused(slugs=set(slugs) - set(kept), user=user):
        raise ValidationError(_("This topic is for members whose membership includes it."), code="topic_reserved")
    return found


def _subscriber_locked(*, email: str) -> Subscriber | None:
    return lock_one(Subscriber.objects.all(), email__iexact=email)


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
            outbox.mail_enqueue(
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
        outbox.mail_enqueue(
            template="newsletters/email/confirm",
            to=subscriber.email,
            language=language,
            context={
                "confirm_url": link_absolute(name="newsletters:confirm", language=language, token=token),
                "topics": [topic.name for topic in chosen],
                "valid_days": settings.NEWSLETTER_CONFIRM_MAX_AGE // 86400,
            },
        )
    return subscriber


def subscription_confirm(*, token: str, ip_address: str | None) -> Subscriber:
    """The link in the confirmation mail was used. Confirming twice is harmless; an expired link is refused."""
    subscriber = subscriber_from_token(token=token, salt=CONFIRM_SALT, max_age=settings.NEWSLETTER_CONFIRM_MAX_AGE)
    with transaction.atomic():
        subscriber = lock_one(subscriber)
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
        subscriber = lock_one(subscriber)
        if subscriber.status == Subscriber.Status.UNSUBSCRIBED:
            return False
        subscriber.unsubscribe(now=timezone.now())
        subscriber.save(update_fields=["status", "unsubscribed_at"])
        consent_record(subscriber=subscriber, action=Action.OPT_OUT, source=source, ip_address=ip_address, actor=actor)
    return True


def subscriber_erase(*, subscriber: Subscriber, source: str = Source.ACCOUNT) -> Subscriber:
    """Unsubscribe and anonymise a subscriber. The ledger keeps its rows (what was consented to, when, in which
    text version) without IP addresses, and ends with a tombstone holding the keyed hash of the address."""
    with transaction.atomic():
        subscriber = lock_one(subscriber)
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
    *, subscriber: Subscriber, language: str, topics, source: str, ip_address: str | None, actor=None, user=None
) -> Subscriber:
    """Change language and topics; no topics at all is an opt-out. A topic reserved for members is allowed when
    the membership of `user` (the person signed in, else the subscriber's account) includes it, or when the
    subscriber has it already (taking it away is always allowed)."""
    chosen = _topics_resolve(
        topics, user=user or subscriber.user, kept=list(subscriber.topics.values_list("slug", flat=True))
    )
    if not chosen:
        subscriber_unsubscribe(subscriber=subscriber, source=source, ip_address=ip_address, actor=actor)
        subscriber.refresh_from_db()
        return subscriber
    with transaction.atomic():
        subscriber = lock_one(subscriber)
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


def account_subscription_update(*, user, topics, ip_address: str | None) -> Subscriber | None:
    """A logged-in member picks topics on their account page. Their address is verified by the login, so the
    choice takes effect at once (no confirmation mail); choosing none unsubscribes."""
    chosen = _topics_resolve(topics, user=user)
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
        user=user,
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
    chosen = _topics_resolve(topics, reserved_check=False)
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


def deliveries_failed_process(*, message_ids: list[int] | None = None) -> int:
    """Count each copy the mail server refused for good (a 5xx for its recipient) once in its subscriber's bounce
    score; returns how many subscribers that marked bounced. A deferral or an unreachable server never counts."""
    uncounted = Delivery.objects.filter(bounce_counted=False, message__isnull=False)
    if message_ids is not None:
        uncounted = uncounted.filter(message_id__in=message_ids)
    refused = outbox.messages_refused(ids=uncounted.values("message_id"))
    marked = 0
    for pk, subscriber_id, message_id in uncounted.filter(message_id__in=list(refused)).values_list(
        "pk", "subscriber_id", "message_id"
    ):
        with transaction.atomic():
            if Delivery.objects.filter(pk=pk, bounce_counted=False).update(bounce_counted=True):
                note = refused[message_id][:255]
                marked += subscriber_bounce_record(subscriber_id=subscriber_id, note=note) is not None
    return marked


def subscriber_bounce_record(*, subscriber_id: int, note: str) -> Subscriber | None:
    """One refused copy for a subscriber; returns the subscriber when its bounce score reached the threshold and
    it is now marked bounced, so later campaigns skip the address."""
    with transaction.atomic():
        subscriber = lock_one(Subscriber.objects.all(), pk=subscriber_id)
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
