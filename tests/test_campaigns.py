"""Creating campaigns and sending their invitations through a real SMTP server."""

import threading
import time
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from surveys.campaigns.models import Campaign, Invitation
from surveys.campaigns.tokens import token_hash
from surveys.delivery.models import Delivery
from surveys.delivery.queue import wait_for_background
from surveys.extensions import db
from tests.helpers import create_campaign, send, token_of


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
