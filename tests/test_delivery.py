"""Delivery against mail servers that refuse, greylist, hang up, never answer or crawl:
every contact is mailed exactly once, or visibly failed, bounced, unknown or skipped."""

import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from surveys.accounts.models import Contact
from surveys.campaigns.models import Campaign, Invitation
from surveys.delivery.dispatcher import DispatchSettings, drain
from surveys.delivery.models import Delivery
from surveys.delivery.queue import wait_for_background
from surveys.extensions import db
from tests.conftest import build_app, sign_in
from tests.helpers import create_campaign, send, text_part, token_of
from tests.smtp import faulty_server, silent_server


def people(*names, language="en"):
    return [
        {"language": language, "email": f"{name}@fjord.example", "name": name.title()}
        for name in names
    ]


def deliveries(app, kind="invitation"):
    """Each contact's delivery of ``kind``: (state, reason, attempts)."""
    with app.app_context():
        rows = db.session.execute(
            sa.select(Contact.email, Delivery.state, Delivery.reason, Delivery.attempts)
            .join(Invitation, Invitation.id == Delivery.invitation_id)
            .join(Contact, Contact.id == Invitation.contact_id)
            .where(Delivery.kind == kind)
        ).all()
    return {email: (state, reason, attempts) for email, state, reason, attempts in rows}


def status(runner, campaign_id):
    result = runner.invoke(args=["campaigns", "status", str(campaign_id), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def tick(runner):
    result = runner.invoke(args=["campaigns", "tick"])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def server():
    with faulty_server() as (handler, port):
        yield handler, port


def app_for(database_url, port, **settings):
    return build_app(database_url, MAIL_PORT=port, **settings)


def test_greylisting_451_is_retried_after_the_delay_and_then_goes(
    database_url, make_account, server
):
    handler, port = server
    make_account(*people("anna", "bo", "cilla", "dan"))
    app = app_for(database_url, port, SEND_RETRY_DELAYS=[1, 1])
    runner = app.test_cli_runner()
    campaign_id = create_campaign(runner)
    handler.at_data["bo@fjord.example"] = "451 4.7.1 Greylisted, try again in 5 minutes"
    result = runner.invoke(args=["campaigns", "send", str(campaign_id)])
    assert result.exit_code == 1
    assert "failed: bo@fjord.example: 451 4.7.1 Greylisted, try again in 5 minutes" in (
        result.output
    )
    assert result.output.strip().endswith("3 sent")
    assert sorted(handler.recipients()) == [
        "anna@fjord.example",
        "cilla@fjord.example",
        "dan@fjord.example",
    ]
    assert deliveries(app)["bo@fjord.example"] == (
        "failed",
        "451 4.7.1 Greylisted, try again in 5 minutes",
        1,
    )
    # not yet due: a tick sends nothing
    del handler.at_data["bo@fjord.example"]
    tick(runner)
    assert len(handler.received) == 3
    time.sleep(1.1)
    assert "1 due" in tick(runner)
    assert sorted(handler.recipients()) == [
        "anna@fjord.example",
        "bo@fjord.example",
        "cilla@fjord.example",
        "dan@fjord.example",
    ]
    assert deliveries(app)["bo@fjord.example"] == ("sent", None, 2)
    assert status(runner, campaign_id)["states"]["sent"] == 4


def test_temporary_failures_give_up_after_the_last_delay_and_retry_on_purpose(
    database_url, make_account, server
):
    handler, port = server
    make_account(*people("anna"))
    app = app_for(database_url, port, SEND_RETRY_DELAYS=[1])
    runner = app.test_cli_runner()
    campaign_id = create_campaign(runner)
    handler.at_data["anna@fjord.example"] = "452 4.2.2 Mailbox full"
    runner.invoke(args=["campaigns", "send", str(campaign_id)])
    time.sleep(1.1)
    tick(runner)
    state, reason, attempts = deliveries(app)["anna@fjord.example"]
    assert (state, attempts) == ("failed", 2)
    assert reason == "452 4.2.2 Mailbox full (gave up after 2 attempts)"
    time.sleep(1.1)
    assert "0 due" in tick(runner)  # failed for good: no more tries on its own
    del handler.at_data["anna@fjord.example"]
    result = runner.invoke(args=["campaigns", "retry", str(campaign_id), "--failed"])
    assert result.exit_code == 0 and "1 queued again" in result.output
    assert handler.recipients() == ["anna@fjord.example"]
    assert deliveries(app)["anna@fjord.example"][0] == "sent"


def test_a_retry_of_a_closed_campaign_changes_nothing(app, runner, make_account, smtp_sink):
    """Its links no longer work, and the dispatcher would mark them skipped, losing the
    mail server's answer that says why they did not go."""
    make_account(*people("anna"))
    campaign_id = create_campaign(runner)
    send(runner, campaign_id)
    with app.app_context():
        db.session.execute(sa.update(Delivery).values(state="failed", reason="451 try later"))
        campaign = db.session.get(Campaign, campaign_id)
        campaign.created_at = datetime(2026, 1, 1, tzinfo=UTC)
        campaign.closes_at = datetime(2026, 2, 1, tzinfo=UTC)
        db.session.commit()
    result = runner.invoke(args=["campaigns", "retry", str(campaign_id), "--failed"])
    assert result.exit_code != 0
    assert "closed on 2026-02-01" in result.output and "nothing was queued again" in result.output
    assert deliveries(app)["anna@fjord.example"][:2] == ("failed", "451 try later")


def test_a_550_bounces_marks_the_contact_undeliverable_and_is_never_retried(
    database_url, make_account, server
):
    handler, port = server
    make_account(*people("anna", "ghost"))
    app = app_for(database_url, port, SEND_RETRY_DELAYS=[1])
    runner = app.test_cli_runner()
    campaign_id = create_campaign(runner)
    handler.at_rcpt["ghost@fjord.example"] = "550 5.1.1 <ghost@fjord.example>: no such user"
    result = runner.invoke(args=["campaigns", "send", str(campaign_id)])
    assert result.exit_code == 1
    assert "bounced: ghost@fjord.example: 550 5.1.1" in result.output
    assert deliveries(app)["ghost@fjord.example"][0] == "bounced"
    with app.app_context():
        ghost = db.session.scalar(sa.select(Contact).where(Contact.email == "ghost@fjord.example"))
        assert ghost.undeliverable_at is not None
        assert ghost.undeliverable_reason.startswith("550 5.1.1")
    time.sleep(1.1)
    tick(runner)
    assert handler.attempts.count("ghost@fjord.example") == 1
    # the next campaign skips the address instead of bouncing again
    second = create_campaign(runner)
    result = runner.invoke(args=["campaigns", "send", str(second)])
    assert "skipped: 1 undeliverable" in result.output
    assert handler.attempts.count("ghost@fjord.example") == 1
    problems = status(runner, second)["problems"]
    assert problems == [
        {"contact_email": "ghost@fjord.example", "state": "skipped", "reason": "undeliverable"}
    ]


def test_a_dropped_connection_midway_fails_that_one_and_the_rest_go(
    database_url, make_account, server
):
    handler, port = server
    make_account(*people("anna", "bo", "cilla"))
    app = app_for(database_url, port, SEND_RETRY_DELAYS=[1])
    runner = app.test_cli_runner()
    campaign_id = create_campaign(runner)
    handler.hang_up_at.add("bo@fjord.example")
    result = runner.invoke(args=["campaigns", "send", str(campaign_id)])
    assert result.exit_code == 1
    assert "failed: bo@fjord.example: the mail server at 127.0.0.1" in result.output
    assert sorted(handler.recipients()) == ["anna@fjord.example", "cilla@fjord.example"]
    time.sleep(1.1)
    tick(runner)
    assert sorted(handler.recipients()) == [
        "anna@fjord.example",
        "bo@fjord.example",
        "cilla@fjord.example",
    ]


def test_a_server_that_never_greets_times_out_and_nothing_is_lost(database_url, make_account):
    make_account(*people("anna", "bo"))
    with silent_server() as port:
        app = app_for(database_url, port, MAIL_TIMEOUT=0.5)
        runner = app.test_cli_runner()
        campaign_id = create_campaign(runner)
        outcome = {}
        thread = threading.Thread(
            target=lambda: outcome.update(
                result=runner.invoke(args=["campaigns", "send", str(campaign_id)])
            ),
            daemon=True,
        )
        thread.start()
        thread.join(timeout=30)
        assert not thread.is_alive(), "campaigns send hangs on a silent server"
    result = outcome["result"]
    assert result.exit_code == 1
    assert "no answer within 0.5 s (MAIL_TIMEOUT)" in result.output
    assert status(runner, campaign_id)["states"]["queued"] == 2
    with app.app_context():  # nothing held: the next send takes them at once
        assert db.session.scalar(sa.select(sa.func.count(Delivery.claimed_by))) == 0


def test_the_page_answers_before_a_slow_server_has_taken_anything(
    admin_id, database_url, make_account, server
):
    handler, port = server
    handler.delay = 1.0
    make_account(*people("anna", "bo"))
    app = app_for(database_url, port)
    campaign_id = create_campaign(app.test_cli_runner())
    response = sign_in(app.test_client(), admin_id).post(f"/campaigns/{campaign_id}/send")
    assert response.status_code == 302
    assert handler.received == []  # the request did not wait for the mail server
    wait_for_background()
    assert sorted(handler.recipients()) == ["anna@fjord.example", "bo@fjord.example"]


def test_a_row_left_sending_becomes_unknown_and_goes_again_only_on_purpose(
    app, runner, make_account, smtp_sink
):
    make_account(*people("anna"))
    campaign_id = create_campaign(runner)
    send(runner, campaign_id)
    [first] = smtp_sink.messages
    # as if the sender had died while handing it over: sending, and long ago
    with app.app_context():
        db.session.execute(
            sa.update(Delivery).values(
                state="sending", claimed_at=datetime.now(UTC) - timedelta(seconds=601)
            )
        )
        db.session.commit()
    assert "1 marked unknown" in tick(runner)
    assert deliveries(app)["anna@fjord.example"][0] == "unknown"
    tick(runner)
    assert len(smtp_sink.messages) == 1  # never resent on its own
    report = status(runner, campaign_id)
    assert report["states"]["unknown"] == 1
    assert "may or may not have gone out" in report["problems"][0]["reason"]
    result = runner.invoke(args=["campaigns", "retry", str(campaign_id), "--unknown"])
    assert result.exit_code == 0
    assert "may have reached their contact already and will arrive twice" in result.output
    second = smtp_sink.messages[1]
    # the same personal link and the same Message-ID: one conversation in the mailbox
    assert token_of(second) == token_of(first)
    assert second["Message-ID"] == first["Message-ID"]


def test_claims_of_a_dead_sender_go_back_to_the_queue(app, runner, make_account, smtp_sink):
    make_account(*people("anna", "bo"))
    campaign_id = create_campaign(runner)
    with app.app_context():
        settings = DispatchSettings.from_config(app.config)
        from surveys.campaigns.services import queue_campaign

        queue_campaign(db.session, campaign_id, link_key=settings.link_key, fatigue_days=0)
        now = datetime.now(UTC)
        # one claimed by a sender that is alive, one by a sender that died 30 s ago
        ids = db.session.scalars(sa.select(Delivery.id).order_by(Delivery.id)).all()
        db.session.execute(
            sa.update(Delivery)
            .where(Delivery.id == ids[0])
            .values(claimed_by="alive:1", claimed_at=now)
        )
        db.session.execute(
            sa.update(Delivery)
            .where(Delivery.id == ids[1])
            .values(claimed_by="dead:2", claimed_at=now - timedelta(seconds=30))
        )
        db.session.commit()
    tick(runner)
    assert len(smtp_sink.messages) == 1
    with app.app_context():
        held = db.session.execute(sa.select(Delivery.state, Delivery.claimed_by)).all()
    assert sorted(held, key=str) == sorted([("queued", "alive:1"), ("sent", None)], key=str)


def test_one_reminder_with_the_same_link_to_who_has_not_answered(
    app, runner, client, make_account, smtp_sink
):
    made = make_account(*people("anna", "bo", "cilla", language="sv"))
    campaign_id = create_campaign(runner, "--remind-after-days", "0")
    send(runner, campaign_id)
    links = {
        message["To"].addresses[0].addr_spec: token_of(message) for message in smtp_sink.messages
    }
    assert client.post(f"/r/{links['anna@fjord.example']}", data={"score": "9"}).status_code == 303
    client.post(f"/r/{links['bo@fjord.example']}/unsubscribe")
    smtp_sink.clear()
    assert "1 reminders queued" in tick(runner)
    [reminder] = smtp_sink.messages
    assert reminder["To"].addresses[0].addr_spec == "cilla@fjord.example"
    assert reminder["Subject"].startswith("Påminnelse: ")
    assert "Vi har inte hört av dig ännu" in text_part(reminder)
    assert token_of(reminder) == links["cilla@fjord.example"]
    assert client.get(f"/r/{token_of(reminder)}").status_code == 200
    tick(runner)
    assert len(smtp_sink.messages) == 1  # never two
    assert status(runner, campaign_id)["reminders_sent"] == 1
    assert made.emails


def test_no_reminder_before_its_day_when_asked_for_none_or_after_closing(
    app, runner, make_account, smtp_sink
):
    make_account(*people("anna"))
    later = create_campaign(runner, "--remind-after-days", "4")
    none = create_campaign(runner, "--no-reminder")
    closing = create_campaign(runner, "--remind-after-days", "0")
    for campaign_id in (later, none, closing):
        send(runner, campaign_id)
    with app.app_context():
        campaign = db.session.get(Campaign, closing)
        campaign.created_at -= timedelta(days=60)
        campaign.closes_at = datetime.now(UTC) - timedelta(seconds=1)
        db.session.commit()
    smtp_sink.clear()
    assert "0 reminders queued" in tick(runner)
    # four days on, the first campaign's reminder is due
    with app.app_context():
        db.session.execute(
            sa.update(Invitation)
            .where(Invitation.campaign_id == later)
            .values(sent_at=datetime.now(UTC) - timedelta(days=4, seconds=1))
        )
        db.session.commit()
    assert "1 reminders queued" in tick(runner)
    assert len(smtp_sink.messages) == 1
    bad = runner.invoke(
        args=[
            "campaigns",
            "create",
            "--kind",
            "nps",
            "--name",
            "X",
            "--no-reminder",
            "--remind-after-days",
            "2",
        ]
    )
    assert bad.exit_code != 0 and "contradict" in bad.output


def test_nps_fatigue_skips_who_was_asked_lately_but_not_for_exit(
    database_url, make_account, smtp_sink
):
    app = build_app(database_url, MAIL_PORT=smtp_sink.port, NPS_FATIGUE_DAYS=90)
    runner = app.test_cli_runner()
    make_account(*people("anna", "bo"), external_id="STAY")
    first = create_campaign(runner)
    send(runner, first)
    newcomer = make_account(*people("cilla"), external_id="NEW")
    second = create_campaign(runner)
    result = runner.invoke(args=["campaigns", "send", str(second)])
    assert result.exit_code == 0
    assert "1 queued; skipped: 2 fatigue" in result.output
    assert smtp_sink.messages[-1]["To"].addresses[0].addr_spec == newcomer.emails[0]
    assert {problem["reason"] for problem in status(runner, second)["problems"]} == {"fatigue"}
    # an exit survey is not counted against anybody
    with app.app_context():
        account = db.session.scalar(
            sa.select(Contact.account_id).where(Contact.email == "anna@fjord.example")
        )
    del account
    exit_campaign = create_campaign(runner, "--accounts", "STAY", kind="exit")
    result = runner.invoke(args=["campaigns", "send", str(exit_campaign)])
    assert "2 queued" in result.output and "fatigue" not in result.output


def test_the_rate_limit_holds_across_batches(app, make_account, smtp_sink):
    make_account(*people("anna", "bo", "cilla"))
    runner = app.test_cli_runner()
    campaign_id = create_campaign(runner)
    with app.app_context():
        from surveys.campaigns.services import queue_campaign

        settings = DispatchSettings.from_config(app.config)
        settings = DispatchSettings(**{**settings.__dict__, "rate_per_minute": 2})
        queue_campaign(db.session, campaign_id, link_key=settings.link_key, fatigue_days=0)
        start = datetime.now(UTC)
        first = drain(db.session, settings, clock=lambda: start, wait_for_rate=False)
        assert first.counts == {"sent": 2}
        assert len(smtp_sink.messages) == 2
        second = drain(db.session, settings, clock=lambda: start, wait_for_rate=False)
        assert second.counts == {}
        later = start + timedelta(seconds=61)
        third = drain(db.session, settings, clock=lambda: later, wait_for_rate=False)
        assert third.counts == {"sent": 1}
    assert len(smtp_sink.messages) == 3


def test_two_senders_racing_mail_each_contact_once(app, database_url, make_account, smtp_sink):
    make_account(*people(*(f"p{number}" for number in range(40))))
    runner = app.test_cli_runner()
    campaign_id = create_campaign(runner)
    with app.app_context():
        from surveys.campaigns.services import queue_campaign

        settings = DispatchSettings.from_config(app.config)
        settings = DispatchSettings(**{**settings.__dict__, "batch_size": 5})
        queue_campaign(db.session, campaign_id, link_key=settings.link_key, fatigue_days=0)

    outcomes = []

    def sender(name):
        with app.app_context():
            outcomes.append(drain(db.session, settings, worker=name))

    threads = [threading.Thread(target=sender, args=(f"racer:{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    addresses = [message["To"].addresses[0].addr_spec for message in smtp_sink.messages]
    assert len(addresses) == 40 and len(set(addresses)) == 40
    assert sum(outcome.counts.get("sent", 0) for outcome in outcomes) == 40
    assert status(runner, campaign_id)["states"]["sent"] == 40


def test_status_lists_every_problem_as_json(database_url, make_account, server):
    handler, port = server
    make_account(*people("anna", "bo", "ghost"))
    make_account(
        {"language": "en", "email": "gone@fjord.example", "unsubscribed_at": datetime.now(UTC)}
    )
    app = app_for(database_url, port)
    runner = app.test_cli_runner()
    campaign_id = create_campaign(runner)
    handler.at_rcpt["ghost@fjord.example"] = "550 5.1.1 no such user"
    handler.at_data["bo@fjord.example"] = "421 4.3.2 Service shutting down"
    runner.invoke(args=["campaigns", "send", str(campaign_id)])
    report = status(runner, campaign_id)
    assert report["campaign"] == campaign_id
    assert report["reminders_sent"] == 0
    assert set(report["states"]) == {
        "queued",
        "sending",
        "sent",
        "failed",
        "bounced",
        "unknown",
        "skipped",
    }
    assert report["states"]["sent"] == 1
    assert report["states"]["bounced"] == 1 and report["states"]["skipped"] == 1
    by_email = {problem["contact_email"]: problem for problem in report["problems"]}
    assert by_email["ghost@fjord.example"]["state"] == "bounced"
    assert by_email["gone@fjord.example"] == {
        "contact_email": "gone@fjord.example",
        "state": "skipped",
        "reason": "unsubscribed",
    }
    text = runner.invoke(args=["campaigns", "status", str(campaign_id)]).output
    assert "bounced: ghost@fjord.example: 550 5.1.1 no such user" in text


def test_status_and_retry_of_an_unknown_campaign(runner):
    for args in (["status", "99"], ["retry", "99", "--failed"]):
        result = runner.invoke(args=["campaigns", *args])
        assert result.exit_code != 0 and "there is no campaign 99" in result.output
    result = runner.invoke(args=["campaigns", "retry", "1"])
    assert result.exit_code != 0 and "--failed, --unknown" in result.output


# --- What a message must survive on its way (from the hostile-input issue) -----------------


def test_an_international_address_goes_with_smtputf8(database_url, make_account, server):
    handler, port = server
    make_account(
        {"language": "sv", "email": "jörg@exämple.com", "name": "Jörg"},
        {"language": "sv", "email": "anna@exämple.com", "name": "Anna"},
    )
    app = app_for(database_url, port)
    runner = app.test_cli_runner()
    assert send(runner, create_campaign(runner)).strip().endswith("2 sent")
    assert sorted(handler.recipients()) == ["anna@xn--exmple-cua.com", "jörg@xn--exmple-cua.com"]
    raw = {tos[0]: raw for tos, raw in handler.received}
    assert "To: Jörg <jörg@xn--exmple-cua.com>".encode() in raw["jörg@xn--exmple-cua.com"]
    assert b"To: Anna <anna@xn--exmple-cua.com>" in raw["anna@xn--exmple-cua.com"]


def test_an_international_address_without_smtputf8_fails_with_the_reason(
    database_url, make_account
):
    make_account(
        {"language": "sv", "email": "jörg@exämple.com"},
        {"language": "sv", "email": "anna@exämple.com"},
    )
    with faulty_server(smtputf8=False) as (handler, port):
        app = app_for(database_url, port)
        runner = app.test_cli_runner()
        result = runner.invoke(args=["campaigns", "send", str(create_campaign(runner))])
    assert result.exit_code == 1
    assert result.output.strip().endswith("1 sent")
    assert "failed: jörg@exämple.com: " in result.output and "SMTPUTF8" in result.output
    assert handler.recipients() == ["anna@xn--exmple-cua.com"]
    state, reason, _ = deliveries(app)["jörg@exämple.com"]
    assert state == "failed" and "does not offer SMTPUTF8" in reason


def test_a_name_with_a_line_break_from_an_old_import_cannot_stop_a_campaign(
    app, runner, make_account, smtp_sink
):
    make_account(
        {"language": "en", "email": "eva@fjord.example", "name": "Eva\r\nBcc: all@evil.example"},
        {"language": "en", "email": "finn@fjord.example", "name": "Finn"},
    )
    assert send(runner, create_campaign(runner)).strip().endswith("2 sent")
    raw = next(raw for raw in smtp_sink.raw if b"eva@fjord.example" in raw)
    headers = raw.split(b"\r\n\r\n")[0]
    assert b"\r\nBcc:" not in headers
    assert b"To: Eva Bcc: all@evil.example <eva@fjord.example>" in headers.replace(b'"', b"")


def test_an_address_that_cannot_be_written_is_skipped_with_the_reason(
    app, runner, make_account, smtp_sink
):
    make_account(
        {"language": "en", "email": "bad@exa\u200bmple..com"},
        {"language": "en", "email": "finn@fjord.example"},
    )
    result = runner.invoke(args=["campaigns", "send", str(create_campaign(runner))])
    assert result.output.strip().endswith("1 sent")
    state, reason, _ = deliveries(app)["bad@exa\u200bmple..com"]
    assert state == "skipped" and reason.startswith("invalid address: ")
