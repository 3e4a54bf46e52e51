"""Danish first, English always: the catalogue is complete, URLs carry the language, the switcher keeps the page."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

PO_FILE = Path(__file__).resolve().parents[2] / "locale" / "da" / "LC_MESSAGES" / "django.po"
KEYWORD = re.compile(r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?) "(.*)"$')


def po_entries(path: Path) -> list[dict]:
    """Each entry of a .po file as {"flags": set, "msgid": str, "msgstr": [str, ...], ...}; the header is left out."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        entry, current, flags = {}, None, set()
        for line in block.splitlines():
            if line.startswith("#,"):
                flags |= {flag.strip() for flag in line[2:].split(",")}
            elif match := KEYWORD.match(line):
                current = match.group(1)
                entry[current] = match.group(2)
            elif line.startswith('"') and current:
                entry[current] += line[1:-1]
        if entry.get("msgid"):
            entry["flags"] = flags
            entry["msgstr"] = [value for key, value in entry.items() if key.startswith("msgstr")]
            entries.append(entry)
    return entries


def test_danish_catalogue_has_entries():
    assert len(po_entries(PO_FILE)) > 100


def test_every_danish_entry_is_translated():
    untranslated = [entry["msgid"] for entry in po_entries(PO_FILE) if not all(entry["msgstr"])]
    assert untranslated == []


def test_no_danish_entry_is_fuzzy():
    fuzzy = [entry["msgid"] for entry in po_entries(PO_FILE) if "fuzzy" in entry["flags"]]
    assert fuzzy == []


def test_msgfmt_accepts_the_danish_catalogue():
    if shutil.which("msgfmt") is None:
        pytest.fail("msgfmt (gettext) is needed to compile translations")
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(PO_FILE)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "untranslated" not in result.stderr
    assert "fuzzy" not in result.stderr


@pytest.mark.django_db
def test_root_redirects_to_danish(client):
    response = client.get("/")
    assert (response.status_code, response["Location"]) == (302, "/da/")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "other"),
    [
        ("/da/", '<a href="/en/" hreflang="en"'),
        ("/en/", '<a href="/da/" hreflang="da"'),
        ("/da/hubs/odense/", '<a href="/en/hubs/odense/" hreflang="en"'),
        ("/en/accounts/login/?next=/en/account/", '<a href="/da/accounts/login/?next=/en/account/" hreflang="da"'),
    ],
)
def test_language_switcher_links_to_the_same_page(client, path, other):
    assert other in client.get(path).text


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path_info",
    [
        "//evil.example/da/events/",
        "///evil.example/da/events/",  # what a server makes of /%2F%2Fevil.example/da/events/
        "/\\evil.example/da/events/",
        "/\\/evil.example/da/events/",
        "/da/events//evil.example/",
    ],
)
def test_language_switcher_never_links_off_site(client, path_info):
    """The other-language link was built from the full path parsed as a URL, so `//evil.example/da/events/` gave
    `<a href="//evil.example/en/events/">`: a path that names no page now links to the other language's home."""
    response = client.request(PATH_INFO=path_info, REQUEST_METHOD="GET")
    links = re.findall(r'<a href="([^"]*)" hreflang="en"', response.text)
    assert (response.status_code, links) == (404, ["/en/"])


@pytest.mark.django_db
def test_language_switcher_on_an_encoded_double_slash_stays_on_site(client):
    response = client.get("/%2F%2Fevil.example/da/events/")
    assert re.findall(r'<a href="([^"]*)" hreflang="en"', response.text) == ["/en/"]


@pytest.mark.django_db
def test_language_switcher_marks_the_current_language(client):
    assert '<span class="current-language" aria-current="true" lang="en">EN</span>' in client.get("/en/hubs/").text


@pytest.mark.django_db
def test_home_page_in_danish(client):
    response = client.get("/da/")
    assert '<html lang="da">' in response.text
    assert "Mød hinanden og find match i dansk life science" in response.text


@pytest.mark.django_db
def test_home_page_in_english(client):
    response = client.get("/en/")
    assert '<html lang="en">' in response.text
    assert "Meet and match in Danish life science" in response.text
