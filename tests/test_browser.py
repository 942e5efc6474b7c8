"""The whole respondent path in a real browser (Debian's chromium, headless, through
Playwright): from the link in a received e-mail to the answer on the account page; and
the campaign page following a send without a reload, on a phone and a desktop."""

import io
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.serving import make_server

from surveys.delivery.queue import wait_for_background
from surveys.outbox.sink import free_port
from tests.conftest import PASSWORD, build_app
from tests.helpers import create_campaign, send, text_part, token_of
from tests.smtp import faulty_server

CHROMIUM = Path("/usr/bin/chromium")
# The flags a root, offline, screenless machine needs; without the networking ones
# chromium keeps trying to reach Google.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.browser


def sign_in_as(page, base_url: str, email: str) -> None:
    """Through the real sign-in page, as a person would."""
    page.goto(f"{base_url}/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail("REQUIRE_BROWSER is set but /usr/bin/chromium is missing")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_app(database_url, smtp_server) -> Iterator[tuple]:
    """The app served over real HTTP in a thread, its links pointing at itself."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    app = build_app(database_url, MAIL_PORT=smtp_server.port, SURVEYS_BASE_URL=base_url)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, base_url
    server.shutdown()
    thread.join()


def test_answer_from_the_email_and_see_it_on_the_account_page(
    live_app, browser, make_account, make_user, smtp_sink
):
    make_user("cx@supplier.example", "cx")
    app, base_url = live_app
    runner = app.test_cli_runner()
    made = make_account(
        {"language": "sv", "name": "Åsa Öberg"}, external_id="E2E", name="Webbläsare AB"
    )
    send(runner, create_campaign(runner))
    [message] = smtp_sink.to(made.emails[0])
    link = next(line for line in text_part(message).splitlines() if line.startswith(base_url))

    page = browser.new_page()
    try:
        page.goto(link)
        assert page.get_attribute("html", "lang") == "sv"
        page.get_by_role("radio", name="3", exact=True).check()
        page.get_by_label("Hur mycket uppmärksamhet vi ger er").check()
        page.get_by_label("Berätta gärna mer (frivilligt)").fill(
            "Ingen har hört av sig sedan i våras."
        )
        page.get_by_role("button", name="Skicka mitt svar").click()
        page.wait_for_url("**/thanks")
        assert page.get_by_role("heading", name="Tack!").is_visible()

        sign_in_as(page, base_url, "cx@supplier.example")
        page.goto(f"{base_url}/accounts/E2E")
        row = page.get_by_role("row").filter(has_text=made.emails[0])
        assert row.get_by_role("cell").nth(3).inner_text() == "3"
        assert row.get_by_role("cell").nth(2).inner_text() == "NPS"
        assert "attention" in row.inner_text()
        assert "Ingen har hört av sig sedan i våras." in row.inner_text()
        assert "-100" in page.get_by_role("table").first.inner_text()  # one detractor
    finally:
        page.close()


def test_the_answer_page_works_by_keyboard_on_a_phone(live_app, browser, make_account, smtp_sink):
    app, base_url = live_app
    runner = app.test_cli_runner()
    made = make_account({"language": "nb"}, external_id="PHONE")
    send(runner, create_campaign(runner))
    link = next(
        line
        for line in text_part(smtp_sink.to(made.emails[0])[0]).splitlines()
        if line.startswith(base_url)
    )
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
    page = context.new_page()
    try:
        page.goto(link + "?score=8")
        assert page.get_by_role("radio", name="8", exact=True).is_checked()
        # nothing wider than the phone's screen
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        # the scale is one group of radio buttons: arrow keys move the choice
        page.get_by_role("radio", name="8", exact=True).focus()
        page.keyboard.press("ArrowRight")
        assert page.get_by_role("radio", name="9", exact=True).is_checked()
        page.get_by_role("button", name="Send svaret mitt").press("Enter")
        page.wait_for_url("**/thanks")
        assert page.get_by_role("heading", name="Takk!").is_visible()
    finally:
        context.close()


def test_cx_page_drills_down_to_the_verbatims(
    live_app, browser, make_account, make_user, smtp_sink
):
    make_user("cx@supplier.example", "cx")
    app, base_url = live_app
    runner = app.test_cli_runner()
    made = make_account(
        {"language": "en", "name": "Olivia Price"},
        external_id="CX",
        name="Forgotten Freight AB",
        last_contacted_at=datetime.now(UTC) - timedelta(days=150),
    )
    send(runner, create_campaign(runner))
    token = token_of(smtp_sink.to(made.emails[0])[0])
    answered = app.test_client().post(
        f"/r/{token}",
        data={
            "score": "2",
            "reason": "price",
            "comment": "Far too expensive, and nobody ever called us back.",
        },
    )
    assert answered.status_code == 303

    page = browser.new_page()
    try:
        sign_in_as(page, base_url, "cx@supplier.example")
        page.goto(f"{base_url}/reasons/")
        accounts = page.get_by_role("table").nth(1)
        row = accounts.get_by_role("row").filter(has_text="Forgotten Freight AB")
        assert "Price as cover" in row.inner_text()
        # stated against found: the attention found in the words links to its verbatims
        page.get_by_role("row", name=re.compile(r"^attention")).get_by_role("link").nth(1).click()
        page.wait_for_url("**/reasons/verbatims?*source=found*")
        assert page.get_by_role("heading", level=1).inner_text().startswith("Verbatims: attention")
        marks = page.locator("blockquote mark").all_inner_texts()
        assert any("nobody" in mark.lower() for mark in marks)
        # from the verbatim to its account, with the verdict and its evidence
        page.get_by_role("link", name="Forgotten Freight AB").click()
        page.wait_for_url("**/reasons/accounts/CX*")
        assert page.get_by_text("Price as cover").first.is_visible()
        evidence = page.locator("ul.evidence").first.inner_text()
        assert "account neglected" in evidence and "days before this answer" in evidence
        assert page.locator("blockquote mark").count() >= 2  # price and attention words
    finally:
        page.close()


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """``app`` over real HTTP in a thread; yields its base URL."""
    port = int(app.config["SURVEYS_BASE_URL"].rpartition(":")[2])
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app.config["SURVEYS_BASE_URL"]
    finally:
        server.shutdown()
        thread.join()
        wait_for_background()


def slow_app(database_url: str, smtp_port: int) -> Flask:
    return build_app(
        database_url,
        MAIL_PORT=smtp_port,
        SURVEYS_BASE_URL=f"http://127.0.0.1:{free_port()}",
        SEND_RETRY_DELAYS=[3600],
    )


def test_the_sent_count_rises_without_a_reload(database_url, browser, make_account, make_user):
    make_user("cx@supplier.example", "cx")
    from playwright.sync_api import expect

    with faulty_server() as (handler, smtp_port):
        handler.delay = 0.6  # each message: a slow mail server
        make_account(*({"language": "en", "email": f"p{n}@fjord.example"} for n in range(5)))
        app = slow_app(database_url, smtp_port)
        campaign_id = create_campaign(app.test_cli_runner())
        with serving(app) as base_url:
            page = browser.new_page()
            try:
                sign_in_as(page, base_url, "cx@supplier.example")
                page.goto(f"{base_url}/campaigns/{campaign_id}")
                page.get_by_role("button", name="Send", exact=True).click()
                page.wait_for_url(f"**/campaigns/{campaign_id}")
                page.evaluate("window.sameDocument = true")  # gone if the page reloads
                sent = page.locator('[data-state="sent"]')
                assert int(sent.inner_text()) < 5  # the page answered before the mail went
                assert page.locator("[data-sending]").is_visible()
                # expect() polls from outside: the page's CSP allows no eval
                expect(sent).to_have_text("5", timeout=20_000)
                assert page.evaluate("window.sameDocument") is True
                assert page.locator('[data-state="queued"]').inner_text() == "0"
                expect(page.locator("[data-sending]")).to_be_hidden()
                assert page.locator('[aria-live="polite"] [data-state="sent"]').count() == 1
            finally:
                page.close()
        assert sorted(handler.recipients()) == [f"p{n}@fjord.example" for n in range(5)]


@pytest.mark.parametrize("width", [375, 1280])
def test_the_campaign_pages_never_scroll_sideways(
    database_url, browser, make_account, make_user, width
):
    make_user("cx@supplier.example", "cx")
    long_address = "a.very.long.local.part.that.never.ends." * 2 + "x@subdomain.fjord.example"
    with faulty_server() as (handler, smtp_port):
        make_account(
            {"language": "sv", "email": long_address},
            {"language": "nb", "email": "bo@fjord.example"},
            {"language": "en", "email": "gone@fjord.example", "unsubscribed_at": datetime.now(UTC)},
        )
        make_account(
            "en",
            name="Ett väldigt långt kontonamn som aldrig tar slut AB",
            status="churned",
            churned_at=datetime.now(UTC),
        )
        handler.at_rcpt[long_address] = "550 5.1.1 <" + long_address + ">: Recipient rejected"
        handler.at_data["bo@fjord.example"] = "451 4.7.1 Greylisted, please try again later"
        app = slow_app(database_url, smtp_port)
        runner = app.test_cli_runner()
        campaign_id = create_campaign(runner)
        runner.invoke(args=["campaigns", "send", str(campaign_id)])
        context = browser.new_context(viewport={"width": width, "height": 800})
        page = context.new_page()
        try:
            with serving(app) as base_url:
                sign_in_as(page, base_url, "cx@supplier.example")
                page.goto(f"{base_url}/campaigns/{campaign_id}")
                page.get_by_label("Send to").fill("staff." + long_address)
                page.get_by_role("button", name="Send me a test").click()
                page.wait_for_url(f"**/campaigns/{campaign_id}")
                assert page.get_by_role("heading", name="Latest tests").is_visible()
                for details in page.locator("details").all():
                    details.evaluate("element => { element.open = true; }")
                assert page.get_by_text("550 5.1.1").is_visible()
                assert page.evaluate("document.documentElement.scrollWidth") <= width
                page.goto(f"{base_url}/campaigns/")
                assert page.get_by_text("Ett väldigt långt kontonamn").is_visible()
                assert page.evaluate("document.documentElement.scrollWidth") <= width
        finally:
            context.close()


def scrolls_sideways(page, width: int = 375) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") > width


def test_a_manager_follows_up_from_the_alert_on_a_phone(
    live_app, browser, make_account, make_user, smtp_sink
):
    manager = "maria.holm@supplier.example"
    make_user(manager, "account_manager")
    app, base_url = live_app
    runner = app.test_cli_runner()
    made = make_account(
        {"language": "en", "name": "Åsa Öberg", "email": "asa.oberg@fjord-logistik.example"},
        external_id="FJORD",
        name="Fjord Logistik och Transport Aktiebolag",
        account_manager_email=manager,
    )
    send(runner, create_campaign(runner))
    token = token_of(smtp_sink.to(made.emails[0])[0])
    smtp_sink.clear()
    comment = "Nobody has called us since the spring; we are looking at other suppliers now."
    answered = app.test_client().post(
        f"/r/{token}", data={"score": "2", "reason": "attention", "comment": comment}
    )
    assert answered.status_code == 303
    wait_for_background()
    [alert] = smtp_sink.to(manager)
    link = next(
        line for line in text_part(alert).splitlines() if line.startswith(f"{base_url}/follow-ups/")
    )
    assert token not in alert.as_string()

    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    page = context.new_page()
    try:
        page.goto(link)  # not signed in: the sign-in page, which brings them back
        assert "/login?next=/follow-ups/" in page.url
        page.get_by_label("E-mail address").fill(manager)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(link)
        assert page.get_by_text(comment).is_visible()
        assert not scrolls_sideways(page)
        page.get_by_label("Note (optional): what was said, what happens next").fill(
            "Called Åsa; review meeting on Friday."
        )
        page.get_by_role("button", name="Mark contacted").click()
        page.wait_for_url(link)
        assert page.get_by_text("Marked contacted.").is_visible()
        assert page.get_by_text("Called Åsa; review meeting on Friday.").is_visible()
        assert page.get_by_role("button", name="Resolve").is_visible()
        assert not scrolls_sideways(page)

        page.get_by_role("link", name="My follow-ups").first.click()
        page.wait_for_url(f"{base_url}/follow-ups/")
        assert page.get_by_role("heading", name="My follow-ups").is_visible()
        assert page.get_by_text("No follow-ups here").is_visible()
        assert page.locator(f'a[href="{link.removeprefix(base_url)}"]').count() == 0
        assert not scrolls_sideways(page)
        page.get_by_role("link", name="Contacted (1)").click()
        assert page.locator(f'a[href="{link.removeprefix(base_url)}"]').count() == 1
        assert not scrolls_sideways(page)
    finally:
        context.close()


@pytest.mark.parametrize("role", ["account_manager", "cx"])
def test_the_staff_pages_fit_a_phone(live_app, browser, make_account, make_user, smtp_sink, role):
    """Every staff page of this release at 375 px: tables become rows, nothing scrolls
    sideways, also with long names, addresses and words."""
    email = f"a.rather.long.address.of.a.staff.member.{role}@supplier-with-a-long-name.example"
    make_user(email, role)
    app, base_url = live_app
    runner = app.test_cli_runner()
    long_word = "Leveransavvikelserapporteringssystemet" * 2
    made = make_account(
        {
            "language": "sv",
            "name": "Maximiliana Wilhelmina Östergren-Lindqvist",
            "email": "maximiliana.wilhelmina.ostergren-lindqvist@a-long-customer-domain.example",
            "role": "decision_maker",
        },
        {"language": "en", "name": "Ulf", "role": "user"},
        external_id="LONG-ACCOUNT-ID-2026",
        name="Nordiska Lager- och Transportaktiebolaget i Norrland",
        account_manager_email=email,
        last_contacted_at=datetime.now(UTC) - timedelta(days=200),
    )
    send(runner, create_campaign(runner))
    tokens = {m["To"].addresses[0].addr_spec: token_of(m) for m in smtp_sink.messages}
    client = app.test_client()
    client.post(f"/r/{tokens[made.emails[0]]}", data={"score": "1", "comment": long_word})
    client.post(f"/r/{tokens[made.emails[1]]}", data={"score": "10"})
    wait_for_background()
    with app.app_context():
        from surveys.extensions import db
        from surveys.followups.models import FollowUp

        follow_up_id = db.session.scalar(sa.select(FollowUp.id))
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    page = context.new_page()
    try:
        sign_in_as(page, base_url, email)
        paths = [
            "/accounts/mine",
            "/accounts/LONG-ACCOUNT-ID-2026",
            f"/follow-ups/{follow_up_id}",
            "/follow-ups/",
            "/follow-ups/?state=all",
            "/follow-ups/first-contact",
            "/account",
        ]
        if role == "cx":
            paths += ["/accounts/", "/campaigns/"]
        for path in paths:
            page.goto(f"{base_url}{path}")
            assert page.get_by_role("heading", level=1).is_visible(), path
            assert not scrolls_sideways(page), path
    finally:
        context.close()


@pytest.mark.parametrize("width", [375, 1280])
def test_the_retention_page_fits_a_phone_and_downloads(live_app, browser, make_user, width):
    """The demo's retention page never scrolls sideways, and its XLSX link downloads a
    workbook with no formula in it."""
    import openpyxl

    app, base_url = live_app
    assert app.test_cli_runner().invoke(args=["demo", "load"]).exit_code == 0
    make_user("cx@supplier.example", "cx")
    context = browser.new_context(viewport={"width": width, "height": 800}, accept_downloads=True)
    page = context.new_page()
    try:
        sign_in_as(page, base_url, "cx@supplier.example")
        page.goto(f"{base_url}/reports/retention?period=quarter")
        assert page.get_by_role("heading", name="Revenue at risk").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        with page.expect_download() as download:
            page.locator('a[href^="/exports/revenue-at-risk.xlsx"]').click()
        assert download.value.suggested_filename.startswith("revenue-at-risk-")
        workbook = io.BytesIO(Path(download.value.path()).read_bytes())
        sheet = openpyxl.load_workbook(workbook).active
        rows = list(sheet.iter_rows())
        assert rows[0][0].value == "account_id" and len(rows) > 1
        assert all(cell.data_type != "f" for row in rows for cell in row)
    finally:
        context.close()
