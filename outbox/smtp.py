"""SMTP for the outbox: building a row into a message (Django's EmailMessage or the fast path's raw bytes),
writing one mail on an open connection in two halves, closing a broken connection, and what a failure means."""

import base64
import functools
import logging
import smtplib
import uuid
from email.header import Header
from email.utils import formatdate, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from outbox.models import OutboxMessage

logger = logging.getLogger(__name__)

Failure = OutboxMessage.Failure
# Not a row's failure: the relay refused the session, so delivery halts for everyone.
SESSION_REFUSED = "session"
# Authentication required, too weak, failed, or to be encrypted: no recipient will do better.
SESSION_REPLY_CODES = {530, 534, 535, 538}


def message_build(message: OutboxMessage) -> EmailMultiAlternatives:
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        from_email=message.from_email or settings.DEFAULT_FROM_EMAIL,
        to=[message.to],
        reply_to=[message.reply_to] if message.reply_to else None,
        headers={"Message-ID": f"<{message.message_id}>", "X-DLSC-Message": str(message.pk), **message.headers},
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    for attachment in message.attachments:
        content = attachment["content"]
        if attachment.get("encoding") == "base64":  # binary files (a PDF) are kept in the row as base64 text
            content = base64.b64decode(content)
        email.attach(attachment["filename"], content, attachment.get("mimetype"))
    return email


def message_bytes(message: OutboxMessage) -> bytes | None:
    """The message as SMTP-ready bytes, written directly: a text part and, when there is one, an HTML part as
    multipart/alternative, each UTF-8 in base64. Django's message() (the EmailMessage API) spends about 5 ms on a
    newsletter and the compat32 generator still 0.5 ms, most of a bulk send's CPU; this takes a few hundredths.
    None for what this fast path does not cover (attachments, non-ASCII addresses, a header value with a line
    break); the caller then uses message_build(), which refuses such headers."""
    if message.attachments or not message.to.isascii():
        return None
    headers = {
        "Subject": message.subject,
        "From": message.from_email or settings.DEFAULT_FROM_EMAIL,
        "To": message.to,
        "Date": formatdate(usegmt=True),
        "Message-ID": f"<{message.message_id}>",
        **({"Reply-To": message.reply_to} if message.reply_to else {}),
        "X-DLSC-Message": str(message.pk),
        **message.headers,
        "MIME-Version": "1.0",
    }
    if any("\n" in value or "\r" in value for value in headers.values()):
        return None
    # Each value is either ASCII well under the 998-character line limit or RFC 2047-encoded and folded already.
    head = "".join(f"{name}: {_header_encoded(value)}\r\n" for name, value in headers.items()).encode("ascii")
    text = _mime_part(subtype="plain", content=message.body_text)
    if not message.body_html:
        return head + text
    boundary = f"=_dlsc_{uuid.uuid4().hex}".encode("ascii")
    return b"".join(
        [
            head,
            b'Content-Type: multipart/alternative; boundary="' + boundary + b'"\r\n\r\n',
            b"--" + boundary + b"\r\n",
            text,
            b"\r\n--" + boundary + b"\r\n",
            _mime_part(subtype="html", content=message.body_html),
            b"\r\n--" + boundary + b"--\r\n",
        ]
    )


def _mime_part(*, subtype: str, content: str) -> bytes:
    encoded = base64.encodebytes(content.encode("utf-8")).replace(b"\n", b"\r\n")
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\nContent-Transfer-Encoding: base64\r\n\r\n'.encode() + encoded
    )


@functools.lru_cache(maxsize=64)
def envelope_address(from_email: str) -> str:
    return parseaddr(from_email)[1]


@functools.lru_cache(maxsize=1024)
def _header_encoded(value: str) -> str:
    # A campaign's copies share their subject and list headers: encode each distinct value once.
    return value if value.isascii() else Header(value, "utf-8").encode(linesep="\r\n")


def smtp_mail_start(connection: smtplib.SMTP, *, sender: str, size: int) -> None:
    """Write MAIL FROM as smtplib's sendmail() would, without waiting for the reply."""
    connection.ehlo_or_helo_if_needed()
    options = f" size={size}" if connection.does_esmtp and connection.has_extn("size") else ""
    connection.putcmd("mail", f"FROM:{smtplib.quoteaddr(sender)}{options}")


def smtp_mail_finish(connection: smtplib.SMTP, *, sender: str, recipient: str, data: bytes) -> None:
    """Read the MAIL FROM reply, then name the recipient and send the data. A refusal raises what sendmail()
    raises; the caller then closes the connection, which also ends the half-done transaction."""
    code, reply = connection.getreply()
    if code != 250:
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    code, reply = connection.rcpt(recipient)
    if code not in (250, 251):
        raise smtplib.SMTPRecipientsRefused({recipient: (code, reply)})
    code, reply = connection.data(data)
    if code != 250:
        raise smtplib.SMTPDataError(code, reply)


def connection_close(connection) -> None:
    try:
        connection.close()
    except Exception:  # a dead connection has nothing left to close
        logger.debug("outbox: closing a broken SMTP connection failed", exc_info=True)


def failure_classify(error: Exception) -> str:
    """What a failed send means. A deferral (4xx), a relay that cannot be reached or drops the line: transient. A
    5xx for the recipient: permanent for that address. A 5xx for the session (authentication, a sender or relaying
    the relay refuses): SESSION_REFUSED. Anything that is not an SMTP answer: an error."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(error.recipients.values()))
        return _reply_classify(code=code, reply=reply, for_recipient=True)
    if isinstance(error, smtplib.SMTPDataError):
        return _reply_classify(code=error.smtp_code, reply=error.smtp_error, for_recipient=True)
    if isinstance(error, smtplib.SMTPResponseException):  # refused sender, greeting, HELO, AUTH, STARTTLS
        return _reply_classify(code=error.smtp_code, reply=error.smtp_error, for_recipient=False)
    if isinstance(error, (smtplib.SMTPException, OSError)):  # disconnected, refused connection, timeout, TLS
        return Failure.TRANSIENT
    return Failure.ERROR


def _reply_classify(*, code: int, reply, for_recipient: bool) -> str:
    if not 500 <= code < 600:
        return Failure.TRANSIENT
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    if not for_recipient or code in SESSION_REPLY_CODES or "relay" in text.lower():
        return SESSION_REFUSED
    return Failure.PERMANENT


def error_text(error: Exception) -> str:
    """The server's own reply where there is one ("SMTPRecipientsRefused: 550 5.1.1 No such user"), for staff."""
    if isinstance(error, smtplib.SMTPRecipientsRefused) and error.recipients:
        code, reply = next(iter(error.recipients.values()))
    elif isinstance(error, smtplib.SMTPResponseException):
        code, reply = error.smtp_code, error.smtp_error
    else:
        return f"{type(error).__name__}: {error}"
    reply = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    return f"{type(error).__name__}: {code} {reply}"
