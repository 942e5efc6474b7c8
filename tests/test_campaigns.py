"""Creating campaigns and sending their invitations through a real SMTP server."""

import re
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from surveys.campaigns.models import Campaign, Invitation
from surveys.campaigns.services import queue_campaign
from surveys.campaigns.tokens import token_hash
from surveys.delivery.dispatcher import TEST_TOKEN
from surveys.delivery.models import Delivery
from surveys.delivery.queue import wait_for_background
from surveys.extensions import db
from surveys.security import MAIL_POLICY
from tests.conftest import build_app, sign_in
from tests.helpers import create_campaign, send, token_of
from tests.smtp import faulty_server


def test_create_prints_the_id_alone_on_the_last_line(app, runner):
    result = runner.invoke(
        args=["campaigns", "create", "--kind", "nps", "--name", "Spring", "--closes-in-days", "7"]
    )
    assert result.exit_code == 0
    campaign_id = int(result.output.strip().splitlines()[-1])
    with app.app_context():
        campaign = db.session.get(Campaign, campaign_id)
        assert (campaign.kind, campaign.name) == ("nps", "Spring")
        assert campaign.closes_at - campaign.created_at == timedelta(days=7)


def test_create_refuses_bad_input(app, runner):
    for args, message in [
        (["--kind", "nps", "--name", "  "], "the campaign needs a name"),
        (["--kind", "nps", "--name", "X", "--closes-in-days", "0"], "from 1 to 366 days"),
        (["--kind", "survey", "--name", "X"], "'survey' is not one of"),
    ]:
        result = runner.invoke(args=["campaigns", "create", *args])
        assert result.exit_code != 0
        assert message in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Campaign.id))) == 0


def test_nps_goes_to_every_subscribed_contact_of_every_active_account(
    app, runner, make_account, smtp_sink
):
    active = make_account("sv", "nb", "en")
    churned = make_account("en", status="churned", churned_at=datetime(2026, 1, 1, tzinfo=UTC))
    unsubscribed = make_account({"language": "en", "unsubscribed_at": datetime.now(UTC)})
    campaign_id = create_campaign(runner)
    assert send(runner, campaign_id).strip().endswith("3 sent")
    recipients = sorted(message["To"].addresses[0].addr_spec for message in smtp_sink.messages)
    assert recipients == sorted(active.emails)
    assert not set(recipients) & set(churned.emails + unsubscribed.emails)
    # one personal token each, stored only as its hash
    tokens = {token_of(message) for message in smtp_sink.messages}
    assert len(tokens) == 3
    assert all(len(token) >= 43 for token in tokens)  # 32 bytes from secrets, base64
    with app.app_context():
        hashes = set(
            db.session.scalars(
                sa.select(Invitation.token_hash).where(Invitation.sent_at.is_not(None))
            )
        )
        # the unsubscribed contact is reported, not mailed
        skipped = db.session.execute(
            sa.select(Delivery.state, Delivery.reason)
            .join(Invitation, Invitation.id == Delivery.invitation_id)
            .where(Invitation.contact_id == unsubscribed.contact_ids[0])
        ).all()
    assert hashes == {token_hash(token) for token in tokens}
    assert not tokens & hashes
    assert skipped == [("skipped", "unsubscribed")]


def test_sending_again_never_mails_a_contact_twice(app, runner, make_account, smtp_sink):
    make_account("sv", "en")
    campaign_id = create_campaign(runner)
    assert send(runner, campaign_id).strip().endswith("2 sent")
    assert send(runner, campaign_id).strip().endswith("0 sent")
    assert len(smtp_sink.messages) == 2
    later = make_account("nb")
    assert send(runner, campaign_id).strip().endswith("1 sent")
    assert len(smtp_sink.messages) == 3
    assert smtp_sink.messages[-1]["To"].addresses[0].addr_spec == later.emails[0]


def test_a_closed_campaign_is_not_sent(app, runner, make_account, smtp_sink):
    make_account("en")
    campaign_id = create_campaign(runner)
    with app.app_context():
        campaign = db.session.get(Campaign, campaign_id)
        campaign.created_at -= timedelta(days=60)
        campaign.closes_at = datetime.now(UTC) - timedelta(days=1)
        db.session.commit()
    result = runner.invoke(args=["campaigns", "send", str(campaign_id)])
    assert result.exit_code != 0
    assert "closed on" in result.output and "nothing was sent" in result.output
    assert smtp_sink.messages == []


def test_an_unknown_campaign(runner):
    result = runner.invoke(args=["campaigns", "send", "999"])
    assert result.exit_code != 0
    assert "there is no campaign 999" in result.output


def test_an_unreachable_mail_server_sends_nothing_and_can_be_retried(
    app, runner, make_account, smtp_sink
):
    make_account("en", "sv")
    campaign_id = create_campaign(runner)
    app.config["MAIL_PORT"] = 1  # nothing listens there
    result = runner.invoke(args=["campaigns", "send", str(campaign_id)])
    assert result.exit_code != 0
    assert "cannot reach the mail server at 127.0.0.1:1" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Invitation.sent_at))) == 0
    app.config["MAIL_PORT"] = smtp_sink.port
    assert send(runner, campaign_id).strip().endswith("2 sent")
    assert len(smtp_sink.messages) == 2


def test_campaigns_page_creates_and_sends(app, client, make_account, smtp_sink):
    make_account("sv", "nb")
    response = client.post("/campaigns/", data={"kind": "nps", "name": "Web NPS", "days_open": 14})
    assert response.status_code == 302
    page = client.get("/campaigns/").get_data(as_text=True)
    assert "Web NPS" in page
    with app.app_context():
        campaign_id = db.session.scalar(sa.select(Campaign.id))
    response = client.post(f"/campaigns/{campaign_id}/send", follow_redirects=True)
    assert "2 invitation(s) queued; they are being sent." in response.get_data(as_text=True)
    wait_for_background()  # the page answered first; the e-mails go right after
    assert len(smtp_sink.messages) == 2


def test_campaigns_page_refuses_a_bad_form(app, client):
    response = client.post("/campaigns/", data={"kind": "nps", "name": "", "days_open": 0})
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Give the campaign a name." in text
    assert "From 1 to 366 days." in text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Campaign.id))) == 0


def recipients(smtp_sink):
    return sorted(message["To"].addresses[0].addr_spec for message in smtp_sink.messages)


def test_exit_goes_to_the_accounts_that_churned_since_the_last_exit_campaign(
    app, runner, make_account, smtp_sink
):
    long_ago = datetime.now(UTC) - timedelta(days=200)
    first = make_account("sv", "en", status="churned", churned_at=long_ago, external_id="GONE1")
    make_account("nb", external_id="STAYS")
    campaign_id = create_campaign(runner, kind="exit")
    send(runner, campaign_id)
    assert recipients(smtp_sink) == sorted(first.emails)
    assert smtp_sink.messages[0]["Subject"] in {"Varför lämnade ni oss?", "Why did you leave us?"}
    # a later exit campaign asks only the accounts that churned after the first one
    with app.app_context():
        db.session.get(Campaign, campaign_id).created_at -= timedelta(days=10)
        db.session.commit()
    smtp_sink.clear()
    later = make_account("en", status="churned", churned_at=datetime.now(UTC) - timedelta(days=5))
    send(runner, create_campaign(runner, kind="exit"))
    assert recipients(smtp_sink) == later.emails
    result = runner.invoke(args=["campaigns", "create", "--kind", "exit", "--name", "Again"])
    assert result.exit_code != 0
    assert "no account has churned since the last exit campaign" in result.output


def test_exit_to_named_accounts(app, runner, make_account, smtp_sink):
    leaving = make_account("sv", "nb", external_id="LEAVING")
    make_account("en", external_id="OTHER")
    result = runner.invoke(
        args=["campaigns", "create", "--kind", "exit", "--name", "X", "--accounts", "LEAVING"]
    )
    assert result.exit_code == 0, result.output
    send(runner, int(result.output.strip().splitlines()[-1]))
    assert recipients(smtp_sink) == sorted(leaving.emails)


def test_exit_refuses_unknown_accounts_and_nps_refuses_accounts(app, runner, make_account):
    make_account("en", external_id="KNOWN")
    result = runner.invoke(
        args=["campaigns", "create", "--kind", "exit", "--name", "X", "--accounts", "KNOWN,NOPE"]
    )
    assert result.exit_code != 0 and "there is no account NOPE" in result.output
    result = runner.invoke(
        args=["campaigns", "create", "--kind", "nps", "--name", "X", "--accounts", "KNOWN"]
    )
    assert result.exit_code != 0 and "only an exit campaign" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Campaign.id))) == 0


def test_exit_with_no_churned_account_says_what_to_do(runner, make_account):
    make_account("en")
    result = runner.invoke(args=["campaigns", "create", "--kind", "exit", "--name", "X"])
    assert result.exit_code != 0
    assert "no account has churned; name the accounts with --accounts" in result.output


def test_two_sends_at_once_invite_each_contact_once(
    app, database_url, runner, make_account, smtp_sink
):
    """Another sender is inviting the same audience and has not committed yet: this send
    waits for it and then skips the contacts it invited, instead of failing."""
    made = make_account("en", "sv", "nb")
    campaign_id = create_campaign(runner)
    engine = sa.create_engine(database_url)
    other = engine.connect()
    transaction = other.begin()
    other.execute(
        sa.insert(Invitation.__table__),
        [
            {"campaign_id": campaign_id, "contact_id": contact_id, "created_at": datetime.now(UTC)}
            for contact_id in made.contact_ids[:2]
        ],
    )
    outcome = {}
    thread = threading.Thread(
        target=lambda: outcome.update(
            result=runner.invoke(args=["campaigns", "send", str(campaign_id)])
        )
    )
    thread.start()
    time.sleep(0.5)  # the send is now waiting for the other sender's lock
    transaction.commit()
    other.close()
    engine.dispose()
    thread.join(timeout=30)
    result = outcome["result"]
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("3 sent")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Invitation.id))) == 3
    assert sorted(recipients(smtp_sink)) == sorted(made.emails)


def test_the_campaigns_page_shows_each_campaigns_state_and_no_send_when_closed(
    app, client, runner, make_account
):
    make_account("en")
    open_id = create_campaign(runner)
    closed_id = create_campaign(runner)
    with app.app_context():
        campaign = db.session.get(Campaign, closed_id)
        campaign.created_at = datetime(2026, 1, 1, tzinfo=UTC)
        campaign.closes_at = datetime(2026, 2, 1, tzinfo=UTC)
        db.session.commit()
        closes = db.session.get(Campaign, open_id).closes_at
    page = client.get("/campaigns/").get_data(as_text=True)
    assert f"Open until {closes:%Y-%m-%d}" in page
    assert "Closed 2026-02-01" in page
    assert f'action="/campaigns/{open_id}/send"' in page
    assert f'action="/campaigns/{closed_id}/send"' not in page
    # and a send posted anyway says why, changing nothing
    response = client.post(f"/campaigns/{closed_id}/send", follow_redirects=True)
    assert "closed on 2026-02-01" in response.get_data(as_text=True)


def test_campaigns_list_says_open_or_closed(app, runner, make_account):
    open_id = create_campaign(runner)
    closed_id = create_campaign(runner)
    with app.app_context():
        campaign = db.session.get(Campaign, closed_id)
        campaign.created_at = datetime(2026, 1, 1, tzinfo=UTC)
        campaign.closes_at = datetime(2026, 2, 1, tzinfo=UTC)
        db.session.commit()
    lines = runner.invoke(args=["campaigns", "list"]).output.splitlines()
    assert any(line.startswith(f"{open_id}\tnps") and "\topen until " in line for line in lines)
    assert f"{closed_id}\tnps\tAutumn NPS\tclosed 2026-02-01\t0 sent\t0 answered" in lines


def test_a_campaign_id_no_database_holds_is_a_404_not_a_500(client):
    # a 64-bit number: SQLite cannot bind it and PostgreSQL's integer column cannot hold it
    assert client.post("/campaigns/99999999999999999999/send").status_code == 404
    assert client.post(f"/campaigns/{2**31}/send").status_code == 404
    assert client.post("/campaigns/-1/send").status_code == 404


# --- The campaign page ----------------------------------------------------------------


def people(*names, language="en", **fields):
    return [
        {"language": language, "email": f"{name}@fjord.example", "name": name.title(), **fields}
        for name in names
    ]


def counts(page):
    """The numbers the page shows per delivery state."""
    return {state: int(count) for state, count in re.findall(r'data-state="(\w+)">(\d+)<', page)}


def stored(app):
    """Everything a campaign page could change: campaigns, invitations and deliveries."""
    with app.app_context():
        return (
            db.session.execute(
                sa.select(Campaign.id, Campaign.closes_at).order_by(Campaign.id)
            ).all(),
            db.session.execute(
                sa.select(Invitation.id, Invitation.token_hash, Invitation.sent_at)
            ).all(),
            db.session.execute(
                sa.select(Delivery.id, Delivery.state, Delivery.due_at, Delivery.attempts)
            ).all(),
        )


def close(app, campaign_id):
    with app.app_context():
        campaign = db.session.get(Campaign, campaign_id)
        campaign.created_at = datetime(2026, 1, 1, tzinfo=UTC)
        campaign.closes_at = datetime(2026, 2, 1, tzinfo=UTC)
        db.session.commit()


@pytest.fixture
def server():
    with faulty_server() as (handler, port):
        yield handler, port


@pytest.fixture
def sent_with_problems(database_url, make_account, server):
    """A campaign sent through a server that bounces ghost, greylists bo for longer than
    the campaign waits, and takes anna; gone is unsubscribed. (app, campaign id, handler)"""
    handler, port = server
    make_account(*people("anna", "bo", "ghost"))
    make_account(*people("gone", unsubscribed_at=datetime.now(UTC)))
    app = build_app(database_url, MAIL_PORT=port, SEND_RETRY_DELAYS=[3600])
    runner = app.test_cli_runner()
    campaign_id = create_campaign(runner)
    handler.at_rcpt["ghost@fjord.example"] = "550 5.1.1 <ghost@fjord.example>: no such user"
    handler.at_data["bo@fjord.example"] = "451 4.7.1 Greylisted, try again later"
    runner.invoke(args=["campaigns", "send", str(campaign_id)])
    return app, campaign_id, handler


def test_the_campaign_page_shows_its_facts_counts_and_problems(admin_id, sent_with_problems):
    app, campaign_id, _ = sent_with_problems
    client = sign_in(app.test_client(), admin_id)
    listing = client.get("/campaigns/").get_data(as_text=True)
    assert f'<a href="/campaigns/{campaign_id}">Autumn NPS</a>' in listing
    response = client.get(f"/campaigns/{campaign_id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<h1>Autumn NPS</h1>" in page
    assert "NPS: how likely to recommend us" in page and "Open until " in page
    assert "One, 4 day(s) after the invitation, to who has not answered" in page
    assert counts(page) == {
        "queued": 0,
        "sending": 0,
        "sent": 1,
        "failed": 1,
        "bounced": 1,
        "unknown": 0,
        "skipped": 1,
    }
    assert '<dl class="counts" aria-live="polite">' in page
    assert "data-reminders-sent>0<" in page
    assert "Problems (3)" in page
    problems = page[page.index('id="problems"') :]
    assert "ghost@fjord.example" in problems and "550 5.1.1" in problems
    assert "bo@fjord.example" in problems and "451 4.7.1 Greylisted" in problems
    assert "gone@fjord.example" in problems and "unsubscribed" in problems
    assert "anna@fjord.example" not in problems
    # open, with a failed one: Send and Retry, but nothing in doubt to send again
    assert f'action="/campaigns/{campaign_id}/send"' in page
    assert f'action="/campaigns/{campaign_id}/retry/failed"' in page
    assert f'action="/campaigns/{campaign_id}/retry/unknown"' not in page
    # no inline script or style: the counts update from a static file
    assert '<script src="/static/campaigns/status.js" defer></script>' in page
    assert "<script>" not in page and "style=" not in page
    assert client.get("/static/campaigns/status.js").status_code == 200


def test_status_json_has_the_counts_in_flight_and_the_first_problems(
    app, client, make_account, smtp_sink
):
    make_account(*people("anna", "bo"), *people("gone", unsubscribed_at=datetime.now(UTC)))
    campaign_id = create_campaign(app.test_cli_runner())
    with app.app_context():  # queued, and no sender has started
        queue_campaign(db.session, campaign_id, link_key=b"k" * 32, fatigue_days=0)
    status = client.get(f"/campaigns/{campaign_id}/status.json").get_json()
    assert status["campaign"] == campaign_id
    assert status["in_flight"] == 2 and status["states"]["queued"] == 2
    assert status["reminders_sent"] == 0
    assert status["problem_count"] == 1
    assert status["problems"] == [
        {"contact_email": "gone@fjord.example", "state": "skipped", "reason": "unsubscribed"}
    ]
    page = client.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    assert 'data-in-flight="2"' in page and 'data-problem-count="1"' in page
    assert f'data-status-url="/campaigns/{campaign_id}/status.json"' in page


def test_thousands_of_problems_come_a_page_at_a_time(app, client, make_account, smtp_sink):
    make_account(
        *people(*(f"p{number:03}" for number in range(105)), unsubscribed_at=datetime.now(UTC))
    )
    campaign_id = create_campaign(app.test_cli_runner())
    assert client.post(f"/campaigns/{campaign_id}/send").status_code == 302
    first = client.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    assert "Problems (105)" in first and "1–100 of 105" in first
    assert "p099@fjord.example" in first and "p100@fjord.example" not in first
    assert f'href="/campaigns/{campaign_id}?page=2#problems" rel="next"' in first
    second = client.get(f"/campaigns/{campaign_id}?page=2").get_data(as_text=True)
    assert "101–105 of 105" in second and "p104@fjord.example" in second
    assert "p099@fjord.example" not in second
    # whatever the page number, a page
    for page in ("abc", "-3", "0", "99999999999999999999", "2.5", "%00"):
        response = client.get(f"/campaigns/{campaign_id}?page={page}")
        assert response.status_code in (200, 400), page
    assert "No problems on this page" in (
        client.get(f"/campaigns/{campaign_id}?page=99999999999").get_data(as_text=True)
    )
    json_status = client.get(f"/campaigns/{campaign_id}/status.json").get_json()
    assert json_status["problem_count"] == 105 and len(json_status["problems"]) == 100


def test_send_answers_at_once_and_comes_back_to_the_campaign_page(
    app, client, make_account, smtp_sink
):
    make_account("sv", "nb")
    campaign_id = create_campaign(app.test_cli_runner())
    response = client.post(f"/campaigns/{campaign_id}/send")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/campaigns/{campaign_id}"
    wait_for_background()
    page = client.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    assert "2 invitation(s) queued" in page
    assert counts(page)["sent"] == 2
    assert "Send to contacts added since" in page


def test_retry_failed_from_the_page_sends_them_but_not_a_failed_test(
    admin_id, sent_with_problems, smtp_sink
):
    app, campaign_id, handler = sent_with_problems
    client = sign_in(app.test_client(), admin_id)
    handler.at_data["me@staff.example"] = "451 4.2.0 Try later"
    client.post(
        f"/campaigns/{campaign_id}/test", data={"recipient": "me@staff.example", "language": "en"}
    )
    wait_for_background()
    del handler.at_data["bo@fjord.example"]
    del handler.at_data["me@staff.example"]
    response = client.post(f"/campaigns/{campaign_id}/retry/failed")
    assert response.headers["Location"] == f"/campaigns/{campaign_id}"
    wait_for_background()
    page = client.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    assert "1 failed e-mail(s) queued again" in page
    assert counts(page)["sent"] == 2 and counts(page)["failed"] == 0
    assert handler.recipients().count("bo@fjord.example") == 1
    assert "me@staff.example" not in handler.recipients()  # a test is not the campaign's
    with app.app_context():
        assert db.session.scalar(sa.select(Delivery.state).where(Delivery.kind == "test")) == (
            "failed"
        )


def test_retry_unknown_warns_and_needs_the_box_ticked(app, client, make_account, smtp_sink):
    make_account(*people("anna"))
    campaign_id = create_campaign(app.test_cli_runner())
    send(app.test_cli_runner(), campaign_id)
    with app.app_context():
        db.session.execute(sa.update(Delivery).values(state="unknown", reason="may have gone"))
        db.session.commit()
    page = client.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    assert "1 e-mail(s) may or may not have gone out." in page
    assert "may get a second copy, with the same link" in page
    before = stored(app)
    refused = client.post(f"/campaigns/{campaign_id}/retry/unknown", follow_redirects=True)
    assert "Tick the box" in refused.get_data(as_text=True)
    assert stored(app) == before
    response = client.post(
        f"/campaigns/{campaign_id}/retry/unknown", data={"understood": "y"}, follow_redirects=True
    )
    assert "1 e-mail(s) in doubt queued again" in response.get_data(as_text=True)
    wait_for_background()
    assert len(smtp_sink.to("anna@fjord.example")) == 2


def test_a_retry_on_a_closed_campaign_changes_nothing(admin_id, sent_with_problems):
    app, campaign_id, handler = sent_with_problems
    client = sign_in(app.test_client(), admin_id)
    close(app, campaign_id)
    page = client.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    assert "Closed 2026-02-01" in page and "nothing can be sent again" in page
    assert "/retry/" not in page and f'action="/campaigns/{campaign_id}/send"' not in page
    before = stored(app)
    for path in ("retry/failed", "retry/unknown"):
        response = client.post(
            f"/campaigns/{campaign_id}/{path}", data={"understood": "y"}, follow_redirects=True
        )
        assert "Not sent again: campaign" in response.get_data(as_text=True)
        assert "closed on 2026-02-01" in response.get_data(as_text=True)
    wait_for_background()
    assert stored(app) == before
    assert handler.recipients() == ["anna@fjord.example"]


def test_the_e_mail_is_previewed_in_each_language(app, client, make_account):
    campaign_id = create_campaign(app.test_cli_runner())
    page = client.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    for language, subject, greeting in [
        ("sv", "Hur troligt är det att du skulle rekommendera oss?", "Hej Anna Lindqvist,"),
        ("nb", "Hvor sannsynlig er det at du vil anbefale oss?", "Hei Kari Nordmann,"),
        ("en", "How likely are you to recommend us?", "Hello Alex Morgan,"),
    ]:
        assert subject in page and greeting in page  # the subject and the text part
        assert f'src="/campaigns/{campaign_id}/preview/{language}"' in page
        framed = client.get(f"/campaigns/{campaign_id}/preview/{language}")
        assert framed.status_code == 200
        assert framed.headers["Content-Security-Policy"] == MAIL_POLICY
        html = framed.get_data(as_text=True)
        assert f'<html lang="{language}">' in html and greeting in html
        assert f"http://surveys.test/r/{TEST_TOKEN}?score=10" in html
    assert 'sandbox="allow-popups' in page
    # the preview's link records nothing
    assert client.get(f"/r/{TEST_TOKEN}?score=3").status_code == 404
    for language in ("de", "SV", "xx", "s%0Av", "..", "sv.html"):
        assert client.get(f"/campaigns/{campaign_id}/preview/{language}").status_code == 404
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Invitation.id))) == 0


def test_the_exit_preview_asks_why_they_left(app, client, make_account):
    make_account("en", status="churned", churned_at=datetime.now(UTC))
    campaign_id = create_campaign(app.test_cli_runner(), kind="exit")
    html = client.get(f"/campaigns/{campaign_id}/preview/sv").get_data(as_text=True)
    assert "Varför lämnade ni oss?" in html


def test_send_me_a_test_goes_through_the_dispatcher_and_records_nothing(
    app, client, make_account, smtp_sink
):
    make_account("sv")
    campaign_id = create_campaign(app.test_cli_runner())
    response = client.post(
        f"/campaigns/{campaign_id}/test",
        data={"recipient": "  Staff@Fjord.Example ", "language": "nb"},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "A test in Norwegian Bokmål (nb) is on its way to Staff@fjord.example" in page
    wait_for_background()
    [message] = smtp_sink.messages
    assert message["To"].addresses[0].addr_spec == "Staff@fjord.example"
    assert message["Subject"] == "[Test] Hvor sannsynlig er det at du vil anbefale oss?"
    assert message["Content-Language"] == "nb"
    assert token_of(message) == TEST_TOKEN
    page = client.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    assert "Latest tests" in page and "Staff@fjord.example" in page
    assert counts(page) == dict.fromkeys(counts(page), 0)  # a test is no invitation
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Invitation.id))) == 0
        test = db.session.scalar(sa.select(Delivery))
        assert (test.kind, test.state, test.language) == ("test", "sent", "nb")


@pytest.mark.parametrize(
    ("recipient", "language", "message"),
    [
        ("me@fjord.example\r\nBcc: all@evil.example", "en", "a line break or another control"),
        ("me@fjord.example\nBcc: all@evil.example", "en", "a line break or another control"),
        ("not an address", "en", "is not an e-mail address"),
        ("", "en", "Give the address to send the test to."),
        ("a" * 250 + "@fjord.example", "en", "longer than 254 characters"),
        ("me@fjord.example", "de", "Not a valid choice"),
        ("me@fjord.example", "", "Not a valid choice"),
    ],
)
def test_send_me_a_test_refuses_what_is_no_address_or_language(
    app, client, make_account, smtp_sink, recipient, language, message
):
    campaign_id = create_campaign(app.test_cli_runner())
    before = stored(app)
    response = client.post(
        f"/campaigns/{campaign_id}/test", data={"recipient": recipient, "language": language}
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert stored(app) == before
    wait_for_background()
    assert smtp_sink.messages == []


def test_a_nul_in_the_test_address_is_refused_at_the_door(app, client, smtp_sink):
    campaign_id = create_campaign(app.test_cli_runner())
    before = stored(app)
    response = client.post(
        f"/campaigns/{campaign_id}/test",
        data={"recipient": "me@fjord.example\x00", "language": "en"},
    )
    assert response.status_code == 400
    assert stored(app) == before


def test_unknown_campaigns_are_404_everywhere(client):
    for path in (
        "/campaigns/abc",
        "/campaigns/999",
        "/campaigns/0",
        "/campaigns/1.5",
        "/campaigns/999/status.json",
        "/campaigns/abc/status.json",
        "/campaigns/999/preview/sv",
        "/campaigns/99999999999999999999",
    ):
        assert client.get(path).status_code == 404, path
    for path in ("send", "retry/failed", "retry/unknown", "test"):
        response = client.post(
            f"/campaigns/999/{path}",
            data={"recipient": "me@fjord.example", "language": "en", "understood": "y"},
        )
        assert response.status_code == 404, path


def test_get_and_head_never_change_anything(app, client, make_account, smtp_sink):
    make_account(*people("anna", "bo"))
    campaign_id = create_campaign(app.test_cli_runner())
    with app.app_context():
        queue_campaign(db.session, campaign_id, link_key=b"k" * 32, fatigue_days=0)
    before = stored(app)
    for method in ("GET", "HEAD"):
        for path in (
            "/campaigns/",
            f"/campaigns/{campaign_id}",
            f"/campaigns/{campaign_id}?page=2",
            f"/campaigns/{campaign_id}/status.json",
            f"/campaigns/{campaign_id}/preview/sv",
        ):
            assert client.open(path, method=method).status_code == 200, (method, path)
        for path in ("send", "retry/failed", "retry/unknown", "test"):
            response = client.open(f"/campaigns/{campaign_id}/{path}", method=method)
            assert response.status_code == 405, (method, path)
    wait_for_background()
    assert stored(app) == before
    assert smtp_sink.messages == []


def test_every_staff_post_needs_its_csrf_token(admin_id, database_url, make_account, smtp_server):
    app = build_app(database_url, WTF_CSRF_ENABLED=True, MAIL_PORT=smtp_server.port)
    smtp_server.clear()
    make_account(*people("anna"))
    campaign_id = create_campaign(app.test_cli_runner())
    client = sign_in(app.test_client(), admin_id)
    before = stored(app)
    for path, data in [
        ("/campaigns/", {"kind": "nps", "name": "X", "days_open": 3}),
        (f"/campaigns/{campaign_id}/send", {}),
        (f"/campaigns/{campaign_id}/retry/failed", {}),
        (f"/campaigns/{campaign_id}/retry/unknown", {"understood": "y"}),
        (f"/campaigns/{campaign_id}/test", {"recipient": "me@fjord.example", "language": "en"}),
    ]:
        assert client.post(path, data=data).status_code == 400, path
    assert stored(app) == before
    # the page's own forms carry the token
    page = client.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    assert page.count('name="csrf_token"') >= 2
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(f"/campaigns/{campaign_id}/send", data={"csrf_token": token})
    assert response.status_code == 302
    wait_for_background()
    assert len(smtp_server.to("anna@fjord.example")) == 1


# --- An exit campaign's accounts are picked, not typed --------------------------------


def test_the_new_campaign_form_lists_the_churned_accounts_to_pick(
    app, client, runner, make_account
):
    make_account(
        "en",
        external_id="GONE1",
        name="Fjordkraft AS",
        status="churned",
        churned_at=datetime(2026, 3, 31, tzinfo=UTC),
    )
    make_account("en", external_id="STAYS", name="Still Here AB")
    page = client.get("/campaigns/").get_data(as_text=True)
    assert 'type="checkbox"' in page and 'value="GONE1"' in page
    assert "Fjordkraft AS" in page and "GONE1 · churned 2026-03-31" in page
    assert "since the last exit campaign" in page
    assert "STAYS" not in page and "Still Here AB" not in page
    assert 'name="accounts" type="text"' not in page  # no typing


def test_an_exit_campaign_asks_the_ticked_accounts(app, client, make_account):
    long_ago = datetime(2025, 1, 1, tzinfo=UTC)
    first = make_account("en", external_id="GONE1", status="churned", churned_at=long_ago)
    make_account("en", external_id="GONE2", status="churned", churned_at=long_ago)
    third = make_account("en", external_id="GONE3", status="churned", churned_at=long_ago)
    response = client.post(
        "/campaigns/",
        data={"kind": "exit", "name": "Exit", "days_open": 14, "accounts": ["GONE1", "GONE3"]},
    )
    assert response.status_code == 302
    with app.app_context():
        campaign = db.session.scalar(sa.select(Campaign))
        assert response.headers["Location"] == f"/campaigns/{campaign.id}"
        assert sorted(account.id for account in campaign.accounts) == sorted(
            [first.account_id, third.account_id]
        )


def test_an_exit_campaign_with_none_ticked_asks_who_churned_since_the_last(
    app, client, runner, make_account
):
    make_account(
        "en", external_id="OLD", status="churned", churned_at=datetime(2025, 1, 1, tzinfo=UTC)
    )
    assert (
        client.post("/campaigns/", data={"kind": "exit", "name": "A", "days_open": 3}).status_code
        == 302
    )
    with app.app_context():
        first = db.session.scalar(sa.select(Campaign))
        assert [account.external_id for account in first.accounts] == ["OLD"]
        first.created_at -= timedelta(days=10)
        db.session.commit()
    response = client.post("/campaigns/", data={"kind": "exit", "name": "B", "days_open": 3})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "No account has churned since the last exit campaign" in page
    assert "tick the accounts to ask" in page and "--accounts" not in page
    make_account("en", external_id="NEW", status="churned", churned_at=datetime.now(UTC))
    page = client.get("/campaigns/").get_data(as_text=True)
    assert "NEW · churned" in page
    new_row = page[page.index('value="NEW"') :]
    assert "since the last exit campaign" in new_row[: new_row.index("</li>")]
    old_row = page[page.index('value="OLD"') :]
    assert "since the last exit campaign" not in old_row[: old_row.index("</li>")]
    assert (
        client.post("/campaigns/", data={"kind": "exit", "name": "C", "days_open": 3}).status_code
        == 302
    )
    with app.app_context():
        latest = db.session.scalars(sa.select(Campaign).order_by(Campaign.id.desc())).first()
        assert [account.external_id for account in latest.accounts] == ["NEW"]


def test_the_form_refuses_accounts_it_did_not_offer(app, client, make_account):
    make_account("en", external_id="ACTIVE")
    make_account("en", external_id="GONE", status="churned", churned_at=datetime.now(UTC))
    for data in [
        {"kind": "exit", "name": "X", "days_open": 3, "accounts": ["ACTIVE"]},
        {"kind": "exit", "name": "X", "days_open": 3, "accounts": ["NOPE"]},
        {"kind": "exit", "name": "X", "days_open": 3, "accounts": ["GONE", "GONE\r\nX"]},
    ]:
        response = client.post("/campaigns/", data=data)
        assert response.status_code == 400
        assert "valid choice" in response.get_data(as_text=True)
    response = client.post(
        "/campaigns/", data={"kind": "nps", "name": "X", "days_open": 3, "accounts": ["GONE"]}
    )
    assert response.status_code == 400
    assert "only an exit campaign is sent to chosen accounts" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Campaign.id))) == 0
