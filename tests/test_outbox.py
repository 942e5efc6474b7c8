"""The development outbox: every e-mail the local sink received, readable, links clickable."""

import re

import pytest

from surveys.outbox.sink import free_port, maildir_store, start_sink
from tests.conftest import build_app, sign_in
from tests.helpers import create_campaign, send


@pytest.fixture
def outbox_app(database_url, tmp_path):
    directory = tmp_path / "outbox"
    port = free_port()
    controller = start_sink("127.0.0.1", port, maildir_store(directory))
    yield build_app(database_url, OUTBOX_DIR=str(directory), MAIL_PORT=port)
    controller.stop()


def test_sent_mail_shows_in_the_outbox_with_its_links(admin_id, outbox_app, make_account):
    runner = outbox_app.test_cli_runner()
    make_account({"language": "nb", "email": "kari@fjord.example", "name": "Kari"})
    send(runner, create_campaign(runner))
    client = sign_in(outbox_app.test_client(), admin_id)
    listing = client.get("/outbox/").get_data(as_text=True)
    assert "Hvor sannsynlig er det at du vil anbefale oss?" in listing
    assert "kari@fjord.example" in listing
    key = re.search(r'href="/outbox/([^"]+)"', listing).group(1)
    page = client.get(f"/outbox/{key}").get_data(as_text=True)
    link = re.search(r'<a href="(http://surveys\.test/r/[A-Za-z0-9_-]+)">', page).group(1)
    assert f'<a href="{link}/unsubscribe">' in page
    assert "<iframe" in page and 'sandbox="' in page  # the HTML part, scripts off
    answer_page = client.get(link.removeprefix("http://surveys.test"))
    assert answer_page.status_code == 200
    assert '<html lang="nb">' in answer_page.get_data(as_text=True)


def test_an_unknown_message_is_404(admin_id, outbox_app):
    assert sign_in(outbox_app.test_client(), admin_id).get("/outbox/nope").status_code == 404


def test_no_outbox_in_production_settings(admin_id, database_url):
    app = build_app(database_url, OUTBOX_DIR=None)
    assert sign_in(app.test_client(), admin_id).get("/outbox/").status_code == 404


def test_the_html_part_is_framed_with_its_own_styles_and_no_scripts(
    admin_id, outbox_app, make_account
):
    runner = outbox_app.test_cli_runner()
    make_account("sv")
    send(runner, create_campaign(runner))
    client = sign_in(outbox_app.test_client(), admin_id)
    key = re.search(r'href="/outbox/([^"]+)"', client.get("/outbox/").get_data(as_text=True))
    page = client.get(f"/outbox/{key.group(1)}").get_data(as_text=True)
    assert f'src="/outbox/{key.group(1)}/html"' in page
    framed = client.get(f"/outbox/{key.group(1)}/html")
    assert framed.status_code == 200
    policy = framed.headers["Content-Security-Policy"]
    assert "style-src 'unsafe-inline'" in policy and "script-src" not in policy
    assert "default-src 'none'" in policy and "frame-ancestors 'self'" in policy
    assert 'role="presentation"' in framed.get_data(as_text=True)
    assert client.get("/outbox/nope/html").status_code == 404
