"""`make run` prints the demo logins last: after the worker has emptied the outbox of what the seed queued."""

import io

import pytest
from django.core.management import call_command

from outbox.api import mail_enqueue_rendered

pytestmark = pytest.mark.django_db


def test_demo_logins_are_printed_with_the_site_url(settings):
    settings.SITE_URL = "http://127.0.0.1:8123"
    out = io.StringIO()
    call_command("demo_logins", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[1] == "DLSC portal: http://127.0.0.1:8123/ (mail is kept in the admin's outbox, not printed)"
    assert lines[2] == "  staff (admin, sets up TOTP at first visit): staff@dlsc.example / dlsc-demo-2026"
    assert lines[-1] == "  matchmaking participant: match1@dlsc.example / dlsc-demo-2026"


def test_demo_logins_still_print_when_the_worker_does_not_settle_in_time():
    mail_enqueue_rendered(template="t", to="a@example.com", language="da", subject="s", body_text="b")
    out = io.StringIO()
    call_command("demo_logins", "--wait", "1", stdout=out)
    assert "  member: member@dlsc.example / dlsc-demo-2026" in out.getvalue()
