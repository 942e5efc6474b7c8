"""Closing the loop: a follow-up for every detractor and exit answer, its alert in the mail
sink, its steps on the page, who may see it, the weekly digest and the time to first
contact."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from surveys.auth.access import Scope
from surveys.auth.models import AuditEvent, User
from surveys.campaigns.models import Response
from surveys.delivery.models import Delivery
from surveys.delivery.queue import wait_for_background
from surveys.extensions import db
from surveys.followups.models import FollowUp, FollowUpDigest, FollowUpStep
from surveys.followups.services import (
    first_contact_times,
    open_detractor_follow_ups,
    queue_digests,
)
from tests.conftest import build_app, sign_in
from tests.helpers import create_campaign, send, text_part, token_of

MARIA = "maria.holm@supplier.example"
OLA = "ola.berg@supplier.example"
CX = "cx@supplier.example"
COMMENT = "Far too expensive, and nobody has called us since the spring."


def answer(client, token, **data):
    response = client.post(f"/r/{token}", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)
    return response


def tokens_by_email(smtp_sink):
    return {
        message["To"].addresses[0].addr_spec: token_of(message) for message in smtp_sink.messages
    }


def follow_ups(app):
    with app.app_context():
        return db.session.scalars(sa.select(FollowUp).order_by(FollowUp.id)).all()


def alerts(smtp_sink):
    return [message for message in smtp_sink.messages if "/r/" not in text_part(message)]


@pytest.fixture
def maria_account(app, runner, make_account, make_user, smtp_sink):
    """Maria manages Fjord AB; its two contacts were sent an NPS invitation. Returns
    (maria's user id, {address: token})."""
    maria = make_user(MARIA, "account_manager")
    make_user(CX, "cx")
    make_account(
        {"language": "sv", "name": "Åsa Öberg", "role": "decision_maker"},
        {"language": "en", "name": "Ulf User", "role": "user"},
        external_id="FJORD",
        name="Fjord AB",
        account_manager_email=MARIA,
    )
    send(runner, create_campaign(runner))
    tokens = tokens_by_email(smtp_sink)
    smtp_sink.clear()
    return maria, tokens


def test_a_detractor_answer_opens_a_follow_up_and_alerts_its_manager(
    app, anonymous, maria_account, smtp_sink
):
    maria, tokens = maria_account
    token = tokens["contact0@fjord.example"]
    before = datetime.now(UTC)
    answer(anonymous, token, score="3", reason="price", comment=COMMENT)
    [follow_up] = follow_ups(app)
    assert (follow_up.assignee_id, follow_up.state, follow_up.kind, follow_up.score) == (
        maria,
        "open",
        "nps",
        3,
    )
    assert timedelta(hours=48) == follow_up.due_at - follow_up.opened_at
    assert before <= follow_up.opened_at <= datetime.now(UTC)
    with app.app_context():
        row = db.session.scalar(sa.select(Delivery).where(Delivery.kind == "follow_up_alert"))
        assert (row.recipient, row.payload) == (MARIA, {"follow_up_id": follow_up.id})

    wait_for_background()
    [alert] = smtp_sink.to(MARIA)
    text = text_part(alert)
    assert alert["Subject"] == "Follow up with Fjord AB: score 3"
    assert "Score: 3 of 10" in text and "Reason picked: price" in text
    assert "Åsa Öberg, decision maker" in text and "Fjord AB (FJORD)" in text
    assert COMMENT in text and COMMENT in alert.get_body(preferencelist=("html",)).get_content()
    assert f"http://surveys.test/follow-ups/{follow_up.id}" in text
    # never the customer's personal link, and no words of theirs in any header
    assert token not in alert.as_string() and "/r/" not in alert.as_string()
    for name, value in alert.items():
        assert "expensive" not in str(value) and "spring" not in str(value), name
    assert smtp_sink.to("contact0@fjord.example") == []


@pytest.mark.parametrize("score", ["7", "8", "9", "10"])
def test_passives_and_promoters_open_none(app, anonymous, maria_account, smtp_sink, score):
    _, tokens = maria_account
    answer(anonymous, tokens["contact0@fjord.example"], score=score, reason="product")
    wait_for_background()
    assert follow_ups(app) == []
    assert smtp_sink.messages == []


def test_every_exit_answer_opens_one(app, runner, anonymous, make_account, make_user, smtp_sink):
    maria = make_user(MARIA, "account_manager")
    make_account(
        {"language": "nb", "name": "Kari Nordmann"},
        external_id="GONE",
        name="Borte AS",
        status="churned",
        churned_at=datetime.now(UTC) - timedelta(days=10),
        account_manager_email=MARIA,
    )
    send(runner, create_campaign(runner, kind="exit"))
    token = token_of(smtp_sink.messages[0])
    smtp_sink.clear()
    # a high "come back" score still opens one: every exit answer is followed up
    answer(anonymous, token, reason="attention", score="9", felt_prioritised="2")
    [follow_up] = follow_ups(app)
    assert (follow_up.kind, follow_up.assignee_id, follow_up.score) == ("exit", maria, 9)
    wait_for_background()
    [alert] = smtp_sink.to(MARIA)
    assert alert["Subject"] == "Follow up with Borte AS: exit survey"
    text = text_part(alert)
    assert "exit survey; how likely to come back: 9 of 10" in text
    assert "Reason picked: attention" in text and "Felt prioritised: 2 of 5" in text


def test_without_a_manager_user_a_cx_user_gets_it(
    app, runner, anonymous, make_account, make_user, smtp_sink
):
    # the account names a manager who has no user; the oldest active CX user is chosen
    make_user("old.cx@supplier.example", "cx", active=False)
    oldest = make_user("first.cx@supplier.example", "cx")
    make_user("second.cx@supplier.example", "cx")
    make_user("boss@supplier.example", "admin")
    make_account("en", external_id="NOUSER", account_manager_email="nobody@supplier.example")
    make_account("en", external_id="NOMANAGER")
    send(runner, create_campaign(runner))
    tokens = tokens_by_email(smtp_sink)
    smtp_sink.clear()
    answer(anonymous, tokens["contact0@nouser.example"], score="0")
    answer(anonymous, tokens["contact0@nomanager.example"], score="6")
    assert [follow_up.assignee_id for follow_up in follow_ups(app)] == [oldest, oldest]
    wait_for_background()
    assert len(smtp_sink.to("first.cx@supplier.example")) == 2
    assert len(smtp_sink.messages) == 2


def test_with_no_cx_user_an_admin_gets_it_and_users_may_change_later(
    app, runner, anonymous, make_account, make_user, smtp_sink
):
    admin = make_user("boss@supplier.example", "admin")
    make_account("en", external_id="SOLO", account_manager_email=MARIA)
    send(runner, create_campaign(runner))
    token = token_of(smtp_sink.messages[0])
    smtp_sink.clear()
    answer(anonymous, token, score="2")
    [follow_up] = follow_ups(app)
    assert follow_up.assignee_id == admin
    wait_for_background()
    assert len(smtp_sink.to("boss@supplier.example")) == 1
    # the assignee is kept when the manager's user appears later
    make_user(MARIA, "account_manager")
    answer(anonymous, token, score="1")
    assert [f.assignee_id for f in follow_ups(app)] == [admin]


def test_answering_again_keeps_one_follow_up(app, anonymous, maria_account, smtp_sink):
    _, tokens = maria_account
    token = tokens["contact0@fjord.example"]
    answer(anonymous, token, score="4", reason="price")
    answer(anonymous, token, score="2", reason="price")  # a changed detractor score
    [follow_up] = follow_ups(app)
    assert follow_up.score == 2
    answer(anonymous, token, score="8", reason="product")  # raised: it stays as it is
    [follow_up] = follow_ups(app)
    assert (follow_up.score, follow_up.state) == (2, "open")
    answer(anonymous, token, score="5")
    assert len(follow_ups(app)) == 1
    wait_for_background()
    assert len(smtp_sink.to(MARIA)) == 1

    # a first answer of 9 changed to 3 opens one then
    other = tokens["contact1@fjord.example"]
    answer(anonymous, other, score="9")
    answer(anonymous, other, score="3")
    assert len(follow_ups(app)) == 2


def test_the_due_time_follows_the_setting(database_url, smtp_server, make_account, make_user):
    app = build_app(database_url, MAIL_PORT=smtp_server.port, FOLLOW_UP_DUE_HOURS=6)
    runner = app.test_cli_runner()
    make_user(CX, "cx")
    make_account("en")
    smtp_server.clear()
    send(runner, create_campaign(runner))
    answer(app.test_client(), token_of(smtp_server.messages[0]), score="1")
    wait_for_background()
    with app.app_context():
        follow_up = db.session.scalar(sa.select(FollowUp))
        assert follow_up.due_at - follow_up.opened_at == timedelta(hours=6)


# --- The follow-up page and its steps -------------------------------------------------------


@pytest.fixture
def opened(app, anonymous, maria_account, smtp_sink):
    """Maria's follow-up of Åsa's 3: (maria's id, follow-up id)."""
    maria, tokens = maria_account
    answer(anonymous, tokens["contact0@fjord.example"], score="3", reason="price", comment=COMMENT)
    wait_for_background()
    return maria, follow_ups(app)[0].id


def test_open_contacted_resolved_with_notes(app, opened):
    maria, follow_up_id = opened
    client = sign_in(app.test_client(), maria)
    page = client.get(f"/follow-ups/{follow_up_id}").get_data(as_text=True)
    assert "Follow up with Fjord AB" in page and COMMENT in page
    assert "Åsa Öberg" in page and "decision maker" in page and "contact0@fjord.example" in page
    assert "Mark contacted" in page and f'action="/follow-ups/{follow_up_id}/resolve"' not in page

    response = client.post(
        f"/follow-ups/{follow_up_id}/contacted", data={"note": "Called Åsa.\r\nShe wants a review."}
    )
    assert response.status_code == 303
    page = client.get(f"/follow-ups/{follow_up_id}").get_data(as_text=True)
    assert "Marked contacted." in page and "Called Åsa.\nShe wants a review." in page
    assert "Resolve" in page
    response = client.post(f"/follow-ups/{follow_up_id}/resolve", data={"note": "Review held."})
    assert response.status_code == 303
    page = client.get(f"/follow-ups/{follow_up_id}").get_data(as_text=True)
    assert "Resolved: the loop is closed." in page and "Review held." in page
    assert "Mark contacted" not in page

    with app.app_context():
        follow_up = db.session.get(FollowUp, follow_up_id)
        assert follow_up.state == "resolved"
        assert follow_up.opened_at < follow_up.contacted_at <= follow_up.resolved_at
        assert [(step.step, step.user_id) for step in follow_up.steps] == [
            ("contacted", maria),
            ("resolved", maria),
        ]
        # the call was a contact with the account
        assert follow_up.account.last_contacted_at == follow_up.contacted_at
        events = db.session.execute(
            sa.select(AuditEvent.action, AuditEvent.actor, AuditEvent.target, AuditEvent.detail)
        ).all()
        assert (
            "follow-up contacted",
            MARIA,
            f"follow-up {follow_up_id}",
            "account FJORD",
        ) in events
        assert ("follow-up resolved", MARIA, f"follow-up {follow_up_id}", "account FJORD") in events
        assert not any("Åsa" in (detail or "") for *_, detail in events)


def test_illegal_steps_say_why_and_change_nothing(app, opened):
    maria, follow_up_id = opened
    client = sign_in(app.test_client(), maria)
    url = f"/follow-ups/{follow_up_id}"
    refused = client.post(f"{url}/resolve", data={"note": "done"})
    assert refused.status_code == 409
    assert "Mark the follow-up contacted first" in refused.get_data(as_text=True)
    assert client.post(f"{url}/contacted", data={}).status_code == 303  # no note is fine
    assert client.post(f"{url}/contacted", data={"note": "Called again"}).status_code == 303
    assert client.post(f"{url}/resolve").status_code == 303
    twice = client.post(f"{url}/resolve", data={"note": "again"})
    assert twice.status_code == 409
    assert "This follow-up was resolved already" in twice.get_data(as_text=True)
    after = client.post(f"{url}/contacted", data={"note": "late call"})
    assert after.status_code == 409
    assert "a resolved follow-up takes no more steps" in after.get_data(as_text=True)
    with app.app_context():
        steps = db.session.scalars(sa.select(FollowUpStep.step).order_by(FollowUpStep.id)).all()
        assert steps == ["contacted", "contacted", "resolved"]


def test_hostile_notes_are_refused_with_a_clear_message(app, opened):
    maria, follow_up_id = opened
    client = sign_in(app.test_client(), maria)
    url = f"/follow-ups/{follow_up_id}/contacted"
    nul = client.post(url, data={"note": "a\x00b"})
    assert nul.status_code == 400 and "NUL" in nul.get_data(as_text=True)
    long = client.post(url, data={"note": "x" * 2001})
    assert long.status_code == 400
    assert "A note can have at most 2,000 characters." in long.get_data(as_text=True)
    huge = client.post(url, data={"note": "y" * 200_000})
    assert huge.status_code == 400
    control = client.post(url, data={"note": "bell \x07"})
    assert control.status_code == 400 and "U+0007" in control.get_data(as_text=True)
    assert client.post(url, data={"note": "x" * 2000}).status_code == 303
    with app.app_context():
        assert [len(note) for note in db.session.scalars(sa.select(FollowUpStep.note))] == [2000]


def test_another_managers_follow_up_is_not_found(app, opened, make_user):
    _maria, follow_up_id = opened
    ola = sign_in(app.test_client(), make_user(OLA, "account_manager"))
    assert ola.get(f"/follow-ups/{follow_up_id}").status_code == 404
    assert ola.post(f"/follow-ups/{follow_up_id}/contacted", data={"note": "x"}).status_code == 404
    assert ola.post(f"/follow-ups/{follow_up_id}/resolve").status_code == 404
    assert ola.get("/follow-ups/").status_code == 200
    assert "Fjord AB" not in ola.get("/follow-ups/?state=all").get_data(as_text=True)
    assert ola.get("/follow-ups/999999").status_code == 404
    assert ola.get("/follow-ups/99999999999999").status_code == 404
    with app.app_context():
        assert db.session.get(FollowUp, follow_up_id).state == "open"
    # CX sees every one
    cx = db_user_id(app, CX)
    assert sign_in(app.test_client(), cx).get(f"/follow-ups/{follow_up_id}").status_code == 200


def db_user_id(app, email):
    with app.app_context():
        return db.session.scalar(sa.select(User.id).where(User.email == email))


def test_steps_need_their_form_token(database_url, opened, smtp_server):
    maria, follow_up_id = opened
    app = build_app(database_url, WTF_CSRF_ENABLED=True, MAIL_PORT=smtp_server.port)
    client = sign_in(app.test_client(), maria)
    page = client.get(f"/follow-ups/{follow_up_id}").get_data(as_text=True)
    assert (
        client.post(f"/follow-ups/{follow_up_id}/contacted", data={"note": "x"}).status_code == 400
    )
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert (
        client.post(
            f"/follow-ups/{follow_up_id}/contacted", data={"note": "x", "csrf_token": token}
        ).status_code
        == 303
    )


# --- Lists, overdue flags ------------------------------------------------------------------


def make_overdue(app, follow_up_id, days=3):
    with app.app_context():
        follow_up = db.session.get(FollowUp, follow_up_id)
        follow_up.opened_at = datetime.now(UTC) - timedelta(days=days)
        follow_up.due_at = follow_up.opened_at + timedelta(hours=48)
        db.session.commit()


def test_overdue_follow_ups_are_flagged_and_filtered(app, anonymous, maria_account, smtp_sink):
    maria, tokens = maria_account
    answer(anonymous, tokens["contact0@fjord.example"], score="1")
    answer(anonymous, tokens["contact1@fjord.example"], score="5")
    late, fresh = (follow_up.id for follow_up in follow_ups(app))
    make_overdue(app, late)
    client = sign_in(app.test_client(), maria)
    listing = client.get("/follow-ups/").get_data(as_text=True)
    assert "My follow-ups" in listing and "Open (2)" in listing and "1 overdue" in listing
    assert listing.count('class="overdue"') == 1
    overdue_only = client.get("/follow-ups/?overdue=y").get_data(as_text=True)
    assert f"/follow-ups/{late}" in overdue_only and f"/follow-ups/{fresh}" not in overdue_only
    page = client.get(f"/follow-ups/{late}").get_data(as_text=True)
    assert "<strong>overdue</strong> by" in page
    assert "overdue" not in client.get(f"/follow-ups/{fresh}").get_data(as_text=True)


def test_cx_filters_by_manager_state_overdue_account_and_period(
    app, runner, anonymous, make_account, make_user, smtp_sink
):
    maria = make_user(MARIA, "account_manager")
    ola = make_user(OLA, "account_manager")
    cx = make_user(CX, "cx")
    make_account("en", "en", external_id="M1", name="Maria One", account_manager_email=MARIA)
    make_account("en", external_id="O1", name="Ola One", account_manager_email=OLA)
    send(runner, create_campaign(runner))
    tokens = tokens_by_email(smtp_sink)
    for token in tokens.values():
        answer(anonymous, token, score="2")
    by_account = {f.account.external_id + str(f.id): f.id for f in follow_ups_with_accounts(app)}
    first_m1, second_m1, o1 = sorted(by_account.values())
    make_overdue(app, o1, days=40)
    client = sign_in(app.test_client(), cx)
    sign_in(client, cx)

    def shown(query):
        page = client.get(f"/follow-ups/?{query}")
        assert page.status_code == 200, page.get_data(as_text=True)
        return {
            int(i) for i in re.findall(r'href="/follow-ups/(\d+)"', page.get_data(as_text=True))
        }

    assert shown("") == {first_m1, second_m1, o1}
    assert shown(f"manager={maria}") == {first_m1, second_m1}
    assert shown(f"manager={ola}") == {o1}
    assert shown("overdue=y") == {o1}
    assert shown("account=M1") == {first_m1, second_m1}
    assert shown("state=resolved") == set()
    since = (datetime.now(UTC) - timedelta(days=10)).date()
    assert shown(f"since={since}") == {first_m1, second_m1}
    assert shown(f"until={since}") == {o1}
    sign_in(app.test_client(), maria).post(f"/follow-ups/{first_m1}/contacted")
    assert shown("state=contacted") == {first_m1}
    assert shown("state=unresolved") == {first_m1, second_m1, o1}
    assert shown("") == {second_m1, o1}
    for bad in ("state=gone", "manager=x", "since=2026-13-01", "since=2026-02-02&until=2026-02-01"):
        assert client.get(f"/follow-ups/?{bad}").status_code == 400, bad
    # a manager sees their own only, whatever they ask for
    maria_client = sign_in(app.test_client(), maria)
    assert maria_client.get(f"/follow-ups/?manager={ola}&state=all").status_code == 400
    page = maria_client.get("/follow-ups/?state=all").get_data(as_text=True)
    assert "Maria One" in page and "Ola One" not in page


def follow_ups_with_accounts(app):
    with app.app_context():
        rows = db.session.scalars(
            sa.select(FollowUp).options(sa.orm.selectinload(FollowUp.account))
        ).all()
        for row in rows:
            _ = row.account.external_id
        return rows


# --- The weekly digest -------------------------------------------------------------------------


def test_the_digest_sends_one_e_mail_a_manager_a_week(
    app, runner, anonymous, make_account, make_user, smtp_sink
):
    make_user(MARIA, "account_manager")
    make_user(OLA, "account_manager")
    make_user("eva@supplier.example", "account_manager")
    make_user(CX, "cx")
    make_account("en", "en", external_id="M1", name="Maria One", account_manager_email=MARIA)
    make_account("en", external_id="O1", name="Ola One", account_manager_email=OLA)
    make_account(
        "en", external_id="E1", name="Eva One", account_manager_email="eva@supplier.example"
    )
    send(runner, create_campaign(runner))
    tokens = tokens_by_email(smtp_sink)
    for token in tokens.values():
        answer(anonymous, token, score="4")
    wait_for_background()
    smtp_sink.clear()
    ids = {f.account.external_id: [] for f in follow_ups_with_accounts(app)}
    for follow_up in follow_ups_with_accounts(app):
        ids[follow_up.account.external_id].append(follow_up.id)
    for follow_up_id in ids["M1"] + ids["O1"]:
        make_overdue(app, follow_up_id)
    # Ola has called his customer: contacted follow-ups are not overdue
    sign_in(app.test_client(), db_user_id(app, OLA)).post(f"/follow-ups/{ids['O1'][0]}/contacted")

    result = runner.invoke(args=["followups", "digest"])
    assert result.exit_code == 0, result.output
    assert "1 digest(s) queued, listing 2 overdue follow-up(s)" in result.output
    [digest] = smtp_sink.messages
    assert digest["To"].addresses[0].addr_spec == MARIA
    assert re.fullmatch(r"2 overdue follow-ups \(\d{4}-W\d\d\)", digest["Subject"])
    text = text_part(digest)
    assert text.count("Maria One: Contact") == 2 and "days late" in text
    for follow_up_id in ids["M1"]:
        assert f"http://surveys.test/follow-ups/{follow_up_id}" in text
    assert "http://surveys.test/follow-ups/?overdue=1" in text and "/r/" not in text

    again = runner.invoke(args=["followups", "digest"])
    assert again.exit_code == 0
    assert (
        "0 digest(s) queued" in again.output
        and "1 manager(s) had this week's already" in again.output
    )
    assert len(smtp_sink.messages) == 1
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(FollowUpDigest)) == 1
        # next week Maria's come again, with Eva's that is overdue by then
        result = queue_digests(db.session, now=datetime.now(UTC) + timedelta(days=7))
        assert (result.queued, result.follow_ups, result.already) == (2, 3, 0)


def test_a_digest_lists_only_what_its_manager_still_sees(
    app, runner, anonymous, make_account, make_user, smtp_sink
):
    make_user(MARIA, "account_manager")
    make_account("en", "en", external_id="M1", name="Maria One", account_manager_email=MARIA)
    send(runner, create_campaign(runner))
    for token in tokens_by_email(smtp_sink).values():
        answer(anonymous, token, score="4")
    for follow_up in follow_ups(app):
        make_overdue(app, follow_up.id)
    with app.app_context():
        db.session.execute(sa.text("UPDATE accounts SET account_manager_email = 'x@y.example'"))
        db.session.commit()
        assert queue_digests(db.session, now=datetime.now(UTC)).queued == 0


# --- Time to first contact -------------------------------------------------------------------


def test_median_time_to_first_contact_per_manager_and_month(
    app, runner, anonymous, make_account, make_user, smtp_sink
):
    maria = make_user(MARIA, "account_manager")
    ola = make_user(OLA, "account_manager")
    cx = make_user(CX, "cx")
    make_account(*(["en"] * 5), external_id="M1", name="Maria One", account_manager_email=MARIA)
    make_account("en", "en", external_id="O1", name="Ola One", account_manager_email=OLA)
    send(runner, create_campaign(runner))
    for token in tokens_by_email(smtp_sink).values():
        answer(anonymous, token, score="0")
    # Maria: January 2, 4, 10 hours; February 1, 3; Ola: January 6 and one never contacted
    hours = {maria: [(1, 2), (1, 4), (1, 10), (2, 1), (2, 3)], ola: [(1, 6), (1, None)]}
    with app.app_context():
        rows = db.session.scalars(sa.select(FollowUp).order_by(FollowUp.id)).all()
        for assignee in (maria, ola):
            mine = [row for row in rows if row.assignee_id == assignee]
            for row, (month, taken) in zip(mine, hours[assignee], strict=True):
                row.opened_at = datetime(2026, month, 10, 9, 30, tzinfo=UTC)
                row.due_at = row.opened_at + timedelta(hours=48)
                if taken is not None:
                    row.state = "contacted"
                    row.contacted_at = row.opened_at + timedelta(hours=taken)
        db.session.commit()
        since = datetime(2026, 1, 1, tzinfo=UTC)
        times = first_contact_times(db.session, scope=Scope.system(), since=since)
        assert times.months == ["2026-01", "2026-02"]
        assert {k: (m.hours, m.n) for k, m in times.cells.items()} == {
            (maria, "2026-01"): (4.0, 3),
            (maria, "2026-02"): (2.0, 2),
            (ola, "2026-01"): (6.0, 1),
        }
        assert {k: (m.hours, m.n) for k, m in times.by_assignee.items()} == {
            maria: (3.0, 5),
            ola: (6.0, 1),
        }
        assert {k: (m.hours, m.n) for k, m in times.by_month.items()} == {
            "2026-01": (5.0, 4),
            "2026-02": (2.0, 2),
        }
        assert (times.overall.hours, times.overall.n) == (3.5, 6)
        mine = first_contact_times(
            db.session, scope=Scope(maria, MARIA, "account_manager"), since=since
        )
        assert list(mine.by_assignee) == [maria]

    page = sign_in(app.test_client(), cx).get("/follow-ups/first-contact?since=2026-01-01")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<strong>3.5 hours</strong> over 6 follow-ups" in text
    assert MARIA in text and OLA in text and "2026-02" in text
    maria_page = sign_in(app.test_client(), maria).get("/follow-ups/first-contact?since=2026-01-01")
    assert OLA not in maria_page.get_data(as_text=True)
    assert "3.0 h" in maria_page.get_data(as_text=True)


# --- For the cover rule ----------------------------------------------------------------------


def test_open_detractor_follow_ups_per_account_scoped(
    app, runner, anonymous, make_account, make_user, smtp_sink
):
    maria = make_user(MARIA, "account_manager")
    make_user(CX, "cx")
    m1 = make_account("en", "en", external_id="M1", account_manager_email=MARIA)
    o1 = make_account("en", external_id="O1", account_manager_email=OLA)
    send(runner, create_campaign(runner))
    for token in tokens_by_email(smtp_sink).values():
        answer(anonymous, token, score="3")
    first, second, other = (f.id for f in follow_ups(app))
    sign_in(app.test_client(), maria).post(f"/follow-ups/{second}/contacted")
    with app.app_context():
        everything = open_detractor_follow_ups(db.session, scope=Scope.system())
        assert {
            account: [f.follow_up_id for f in found] for account, found in everything.items()
        } == {
            m1.account_id: [first],
            o1.account_id: [other],
        }
        [found] = everything[m1.account_id]
        assert found.due_at - found.opened_at == timedelta(hours=48)
        assert list(
            open_detractor_follow_ups(db.session, scope=Scope(maria, MARIA, "account_manager"))
        ) == [m1.account_id]
        assert open_detractor_follow_ups(
            db.session, scope=Scope.system(), account_ids=[o1.account_id]
        ).keys() == {o1.account_id}


def test_erasure_removes_the_notes_and_export_shows_the_follow_up(app, client, opened):
    maria, follow_up_id = opened
    sign_in(app.test_client(), maria).post(
        f"/follow-ups/{follow_up_id}/contacted", data={"note": "Åsa says the price hurts."}
    )
    exported = client.post(f"/accounts/contacts/{contact_of(app, follow_up_id)}/export").get_json()
    [contact] = exported["contacts"]
    follow_up = contact["invitations"][0]["answer"]["follow_up"]
    assert follow_up["state"] == "contacted"
    assert follow_up["steps"][0]["note"] == "Åsa says the price hurts."
    erased = client.post(
        f"/accounts/contacts/{contact_of(app, follow_up_id)}/erase", data={"confirm": "y"}
    )
    assert erased.status_code == 302
    with app.app_context():
        assert db.session.scalars(sa.select(FollowUpStep.note)).all() == [None]
        assert db.session.get(FollowUp, follow_up_id).state == "contacted"
        assert db.session.get(Response, db.session.get(FollowUp, follow_up_id).response_id)


def contact_of(app, follow_up_id):
    with app.app_context():
        return db.session.get(FollowUp, follow_up_id).response.invitation.contact_id


def test_beat_runs_the_digest_on_monday_mornings(app, anonymous, maria_account, smtp_sink):
    from surveys.delivery.queue import follow_up_digest

    schedule = app.extensions["celery"].conf.beat_schedule["follow-up digest"]
    assert schedule["task"] == "surveys.follow_up_digest"
    crontab = schedule["schedule"]
    assert (crontab.day_of_week, crontab.hour, crontab.minute) == ({1}, {7}, {0})
    _maria, tokens = maria_account
    answer(anonymous, tokens["contact0@fjord.example"], score="2")
    make_overdue(app, follow_ups(app)[0].id)
    wait_for_background()
    smtp_sink.clear()
    with app.app_context():
        follow_up_digest.run()  # what the worker runs when beat sends it
        follow_up_digest.run()
    [digest] = smtp_sink.messages
    assert digest["To"].addresses[0].addr_spec == MARIA
    assert digest["Subject"].startswith("1 overdue follow-up (")
