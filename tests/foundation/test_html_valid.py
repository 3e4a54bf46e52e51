"""Every page a visitor or a signed-in member reaches is valid HTML by the Nu HTML checker (vnu-jar from npm): the
crawl writes each page to a file and the checker runs once over all of them (one JVM start)."""

import json
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from tests.factories import (
    CampaignFactory,
    EventFactory,
    MatchmakingEventFactory,
    OrganisationRoleFactory,
    TopicFactory,
    matchmaking_profile,
    member_organisation_create,
)
from tests.support import services

VNU = Path(__file__).resolve().parents[2] / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"

pytestmark = pytest.mark.django_db


def crawl_pages() -> dict[str, list[str]]:
    """Paths by who visits them, built on a world where every page shows what it is for."""
    topic = TopicFactory()
    organisation = member_organisation_create()
    member = OrganisationRoleFactory(organisation=organisation, role="admin").user
    event = EventFactory(starts_at=timezone.now().replace(microsecond=123456) + timedelta(days=14))
    past = EventFactory(
        starts_at=timezone.now().replace(microsecond=654321) - timedelta(days=30),
        ends_at=timezone.now() - timedelta(days=30) + timedelta(hours=2),
    )
    campaign = CampaignFactory(topics=[topic], status="sent", finished_at=timezone.now().replace(microsecond=42))
    mm_event = MatchmakingEventFactory()
    matchmaking_profile(event=mm_event, user=member, full_name=member.full_name, email=member.email)
    public = [
        "/{lang}/",
        "/{lang}/members/",
        f"/{{lang}}/members/{organisation.slug}/",
        "/{lang}/members/partners/",
        "/{lang}/hubs/",
        "/{lang}/hubs/copenhagen/",
        "/{lang}/events/",
        f"/{{lang}}/events/{event.slug}/",
        f"/{{lang}}/events/{past.slug}/",
        "/{lang}/events/past/",
        "/{lang}/newsletter/archive/",
        f"/{{lang}}/newsletter/archive/{campaign.pk}/",
        "/{lang}/newsletter/",
        "/{lang}/members/apply/",
    ]
    portal = [
        "/{lang}/account/",
        "/{lang}/account/profile/",
        f"/{{lang}}/members/manage/{organisation.pk}/",
        f"/{{lang}}/members/manage/{organisation.pk}/edit/",
        f"/{{lang}}/matchmaking/{mm_event.slug}/",
        f"/{{lang}}/matchmaking/{mm_event.slug}/me/",
        f"/{{lang}}/matchmaking/{mm_event.slug}/requests/",
        f"/{{lang}}/matchmaking/{mm_event.slug}/agenda/",
    ]
    return {"anonymous": [*public, "/{lang}/accounts/login/"], "member": public + portal, "_member_user": member}


def vnu_errors(files: dict[Path, str]) -> list[str]:
    result = subprocess.run(
        ["java", "-jar", str(VNU), "--errors-only", "--format", "json", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    messages = json.loads(result.stderr or '{"messages": []}')["messages"]
    return [
        f"{files[Path(message['url'].removeprefix('file:'))]} line {message.get('lastLine')}: {message['message']}"
        for message in messages
    ]


def test_every_crawled_page_passes_the_nu_html_checker(tmp_path):
    if shutil.which("java") is None or not VNU.exists():
        services.missing("the Nu HTML checker needs Java and `npm ci` (vnu-jar)")
    pages = crawl_pages()
    clients = {"anonymous": Client(), "member": Client()}
    clients["member"].force_login(pages["_member_user"])
    files = {}
    for who, client in clients.items():
        for template in pages[who]:
            for language in ("da", "en"):
                path = template.format(lang=language)
                response = client.get(path)
                assert response.status_code == 200, f"{who} {path}: {response.status_code}"
                file = tmp_path / f"page-{len(files):03d}.html"
                file.write_bytes(response.content)
                files[file] = f"{who} {path}"
    assert vnu_errors(files) == []
