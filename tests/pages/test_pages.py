"""The privacy policy, contact page and imprint: seeded in both languages, edited by staff in the admin, rendered
from Markdown through nh3, and linked from the footer and every consent text."""

import pytest

from pages.models import Page
from tests.factories import EventFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("path", "title", "text"),
    [
        ("/da/about/privacy/", "Privatlivspolitik", "Danish Life Science Cluster (DLSC) er dataansvarlig"),
        ("/en/about/privacy/", "Privacy policy", "Danish Life Science Cluster (DLSC) is the controller"),
        ("/da/about/contact/", "Kontakt", "Ole Maaløes Vej 3, 2200 København N"),
        ("/en/about/contact/", "Contact", "Ole Maaløes Vej 3, 2200 Copenhagen N, Denmark"),
        ("/da/about/imprint/", "Om os og juridiske oplysninger", "CVR-nr."),
        ("/en/about/imprint/", "Imprint", "CVR number"),
    ],
)
def test_legal_pages_are_seeded_in_both_languages(client, path, title, text):
    response = client.get(path)
    html = response.content.decode()
    assert response.status_code == 200
    assert f"<h1>{title}</h1>" in html
    assert text in html


def test_imprint_keeps_the_address_block_on_separate_lines(client):
    html = client.get("/en/about/imprint/").content.decode()
    assert "<strong>Danish Life Science Cluster</strong> (DLSC)<br>\nAssociation, founded in 2020" in html


def test_staff_markdown_is_rendered_and_sanitised(client):
    Page.objects.filter(kind="contact").update(
        body_en='## Call us\n\n<script>alert(1)</script><a href="javascript:x()" onclick="x()">bad</a> **bold**'
    )
    html = client.get("/en/about/contact/").content.decode()
    assert "<h2>Call us</h2>" in html
    assert "<strong>bold</strong>" in html
    assert "<script>alert(1)" not in html
    assert "javascript:" not in html
    assert "onclick" not in html


def test_staff_edit_both_languages_in_the_admin(staff_client):
    page = Page.objects.get(kind="privacy")
    response = staff_client.get(f"/da/admin/pages/page/{page.pk}/change/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_body_da"' in html
    assert 'id="id_body_en"' in html
    response = staff_client.post(
        f"/da/admin/pages/page/{page.pk}/change/",
        {"title_da": "Privatliv", "title_en": "Privacy", "body_da": "Ny tekst.", "body_en": "New text."},
    )
    assert response.status_code == 302
    assert "<p>New text.</p>" in staff_client.get("/en/about/privacy/").content.decode()


def test_staff_cannot_add_or_delete_the_fixed_pages(staff_client):
    assert staff_client.get("/da/admin/pages/page/add/").status_code == 403
    page = Page.objects.get(kind="imprint")
    assert staff_client.get(f"/da/admin/pages/page/{page.pk}/delete/").status_code == 403


def test_a_page_only_answers_get(client):
    assert client.post("/da/about/privacy/").status_code == 405


@pytest.mark.parametrize(
    ("language", "links"),
    [
        (
            "da",
            [
                'href="/da/about/contact/">Kontakt</a>',
                'href="/da/about/privacy/">Privatlivspolitik</a>',
                'href="/da/about/imprint/">Om os og juridiske oplysninger</a>',
            ],
        ),
        (
            "en",
            [
                'href="/en/about/contact/">Contact</a>',
                'href="/en/about/privacy/">Privacy policy</a>',
                'href="/en/about/imprint/">Imprint</a>',
            ],
        ),
    ],
)
def test_footer_links_the_legal_pages(client, language, links):
    html = client.get(f"/{language}/").content.decode()
    footer = html[html.index('<footer class="site-footer">') :]
    for link in links:
        assert link in footer


@pytest.mark.parametrize(
    "path",
    ["/da/newsletter/", "/da/accounts/signup/", "/da/members/apply/"],
)
def test_consent_texts_link_the_privacy_policy(client, path):
    html = client.get(path).content.decode()
    main = html[html.index("<main") : html.index("</main>")]
    assert 'href="/da/about/privacy/"' in main


def test_event_sign_up_consent_links_the_privacy_policy(client):
    event = EventFactory()
    html = client.get(event.get_absolute_url()).content.decode()
    assert 'href="#privacy"' not in html
    assert '<a href="/da/about/privacy/">Privatlivspolitik</a>' in html
