"""A real SMTP server (aiosmtpd) that keeps what it receives, parsed, for tests to read. It can refuse on demand:
every recipient with a reply such as "421 ..." (a relay that defers), one address with "550 ..." (a mailbox that
does not exist), or every sender with "530 ..." (the session is refused: authentication required)."""

import email
import email.policy
import threading
import time

from aiosmtpd.controller import Controller

from tests.support.services import free_port


class SinkHandler:
    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()
        self.mail_reply = None  # e.g. "530 5.7.0 Authentication required": every MAIL FROM is refused
        self.rcpt_reply = None  # e.g. "421 4.7.0 Try again later": every recipient is refused
        self.address_replies = {}  # address -> reply, e.g. "550 5.1.1 No such user"
        self.refused = []  # (address or sender, reply) for each refusal, in order

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        with self.lock:
            if self.mail_reply:
                self.refused.append((address, self.mail_reply))
                return self.mail_reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            reply = self.address_replies.get(address) or self.rcpt_reply
            if reply:
                self.refused.append((address, reply))
                return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(parsed)
        return "250 OK"


class SmtpSink:
    def __init__(self):
        self.handler = SinkHandler()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def messages(self):
        with self.handler.lock:
            return list(self.handler.messages)

    def start(self):
        """Listen on a free port; under pytest-xdist another process may take the port between free_port() and the
        bind, so a few other ports are tried."""
        for _ in range(4):
            try:
                self.controller.start()
                return self
            except OSError:
                self.port = free_port()
                self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()

    def wait_for(self, count: int, timeout: float = 30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.messages) >= count:
                return self.messages
            time.sleep(0.05)
        raise AssertionError(f"expected {count} mails within {timeout}s, the sink has {len(self.messages)}")

    def to(self, address: str):
        return [message for message in self.messages if message["To"] == address]

    def refuse(self, *, mail: str | None = None, rcpt: str | None = None, addresses: dict | None = None):
        """Answer MAIL FROM, every RCPT TO, or the RCPT TO of given addresses with these replies; None accepts."""
        with self.handler.lock:
            self.handler.mail_reply = mail
            self.handler.rcpt_reply = rcpt
            self.handler.address_replies = dict(addresses or {})

    @property
    def refused(self):
        with self.handler.lock:
            return list(self.handler.refused)

    def clear(self):
        with self.handler.lock:
            self.handler.messages.clear()
