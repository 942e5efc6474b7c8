"""The account manager's workspace: My accounts in order of risk, the account page's
contacts (who disagrees, who never answered), and "Contacted today"; all scoped."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from surveys.accounts.models import Account, AccountTouch
from surveys.auth.models import AuditEvent
from surveys.campaigns.models import Campaign, Invitation, Response
from surveys.delivery.queue import wait_for_background
from surveys.extensions import db
from surveys.followups.models import FollowUp
from surveys.reports.workspace import Voice, disagreement
from tests.conftest import sign_in
from tests.helpers import create_campaign, send, token_of

MARIA = "maria.holm@supplier.example"
OLA = "ola.berg@supplier.example"
CX = "cx@supplier.example"
NOW = datetime.now(UTC)


def user(name, role="user"):
    return {"language": "en", "role": role, "name": name, "email": f"{name.lower()}@x.example"}


def tokens(smtp_sink):
    found = {
        message["To"].addresses[0].addr_spec: token_of(message) for message in smtp_sink.messages
    }
    smtp_sink.clear()
    return found


def answer(client, token, **data):
    assert client.post(f"/r/{token}", data=data).status_code == 303


def risk_reasons(page: str) -> list[tuple[str, list[str]]]:
    """(account name, [risk classes]) per row of the My accounts page, in order."""
    rows = re.findall(r"<tr>\s*<th scope=\"row\" data-label=\"Account\">(.*?)</tr>", page, re.S)
    return [
        (
            re.search(r'">([^<]+)</a>', row).group(1),
            re.findall(r'<li class="risk-([a-z_]+)">', row),
        )
        for row in rows
    ]


@pytest.fixture
def constructed(app, runner, anonymous, make_account, make_user, smtp_sink):
    """Maria's accounts, each with one reason to be at risk (Hushed with two), one with
    none, and Ola's account at risk. Returns Maria's user id."""
    maria = make_user(MARIA, "account_manager")
    make_user(OLA, "account_manager")
    make_user(CX, "cx")
    mine = {"account_manager_email": MARIA}
    make_account(
        user("Hugo", "decision_maker"),
        name="Hushed Hotel",
        last_contacted_at=NOW - timedelta(days=200),
        **mine,
    )
    make_account(user("Alva"), user("Arne"), user("Anja"), name="At Risk AB", **mine)
    make_account(*(user(f"Bo{n}") for n in range(5)), name="Falling Oy", **mine)
    make_account(user("Cecilia"), name="Call Overdue AS", **mine)
    make_account(user("Dag"), user("Dina"), name="Discount Talk AB", **mine)
    make_account(
        user("Erik"), name="Echo Quiet", last_contacted_at=NOW - timedelta(days=120), **mine
    )
    make_account(user("Frida", "decision_maker"), name="Faceless Board", **mine)
    make_account(user("Gustav"), name="Good Friends", **mine)
    make_account(
        user("Olle"), user("Otto"), user("Oskar"), name="Ola Risk", account_manager_email=OLA
    )

    # Half a year ago Falling Oy's five all recommended us...
    send(runner, create_campaign(runner))
    first = tokens(smtp_sink)
    for n in range(5):
        answer(anonymous, first[f"bo{n}@x.example"], score="10")
    with app.app_context():
        db.session.execute(sa.update(Response).values(answered_at=NOW - timedelta(days=270)))
        db.session.commit()
    # ... now only two do.
    send(runner, create_campaign(runner))
    second = tokens(smtp_sink)
    for address, score in {"bo0": 10, "bo1": 9, "bo2": 8, "bo3": 7, "bo4": 8}.items():
        answer(anonymous, second[f"{address}@x.example"], score=str(score))
    for address, score in {"alva": 2, "arne": 3, "anja": 4}.items():
        answer(anonymous, second[f"{address}@x.example"], score=str(score), reason="product")
    answer(anonymous, second["cecilia@x.example"], score="5")
    # "price" with a colleague who picked attention beside it: a cover
    answer(anonymous, second["dag@x.example"], score="7", reason="price")
    answer(anonymous, second["dina@x.example"], score="8", reason="attention")
    answer(anonymous, second["gustav@x.example"], score="9")
    for address in ("olle", "otto", "oskar"):
        answer(anonymous, second[f"{address}@x.example"], score="1")
    wait_for_background()
    with app.app_context():
        late = db.session.scalar(
            sa.select(FollowUp).join(Account).where(Account.name == "Call Overdue AS")
        )
        late.opened_at = NOW - timedelta(days=4)
        late.due_at = NOW - timedelta(days=2)
        db.session.commit()
    return maria


def test_my_accounts_puts_the_most_at_risk_first(app, constructed):
    client = sign_in(app.test_client(), constructed)
    response = client.get("/accounts/mine")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<h1>My accounts</h1>" in page
    assert risk_reasons(page) == [
        ("Hushed Hotel", ["no_recent_contact", "committee_silence"]),
        ("At Risk AB", ["at_risk"]),
        ("Falling Oy", ["nps_fall"]),
        ("Call Overdue AS", ["overdue_follow_ups"]),
        ("Discount Talk AB", ["price_cover"]),
        ("Echo Quiet", ["no_recent_contact"]),
        ("Faceless Board", ["committee_silence"]),
        ("Good Friends", []),
    ]
    assert "Ola Risk" not in page
    assert "NPS fell from +100 to +40 against the six months before" in page
    assert "decision maker Hugo was invited and never answered" in page
    assert "last contact" in page and "120 days ago" in page
    assert "1 follow-up past the due time" in page
    assert re.search(r"price looks like a cover: Dina picked attention on \d{4}-\d\d-\d\d", page)
    # each row: NPS with its interval, the change, the response rate per role
    falling = page[page.index("Falling Oy") :]
    assert "+40" in falling and " to " in falling and "-60" in falling
    assert 'user 100% <span class="muted">(10/10)</span>' in falling
    hushed = page[page.index("Hushed Hotel") :]
    assert 'decision maker 0% <span class="muted">(0/2)</span>' in hushed


def test_cx_sees_every_account_by_risk_and_each_manager_their_own(app, constructed, make_user):
    cx_page = sign_in(app.test_client(), make_user("boss@supplier.example", "cx")).get(
        "/accounts/mine"
    )
    names = [name for name, _ in risk_reasons(cx_page.get_data(as_text=True))]
    assert "Accounts by risk" in cx_page.get_data(as_text=True)
    assert "Ola Risk" in names and "Hushed Hotel" in names and len(names) == 9
    ola = sign_in(app.test_client(), db_id(app, OLA))
    assert [name for name, _ in risk_reasons(ola.get("/accounts/mine").get_data(as_text=True))] == [
        "Ola Risk"
    ]


def db_id(app, email):
    from surveys.auth.models import User

    with app.app_context():
        return db.session.scalar(sa.select(User.id).where(User.email == email))


def test_the_start_page_depends_on_the_role(app, make_user):
    manager = sign_in(app.test_client(), make_user(MARIA, "account_manager"))
    assert manager.get("/").headers["Location"] == "/accounts/mine"
    cx = sign_in(app.test_client(), make_user(CX, "cx"))
    assert cx.get("/").headers["Location"] == "/accounts/"


def test_contacted_today_moves_the_last_contact(app, constructed):
    client = sign_in(app.test_client(), constructed)
    external_id = account_id(app, "Echo Quiet")
    response = client.post(
        f"/accounts/{external_id}/contacted", data={"note": "Lunch with Erik; renewal in May."}
    )
    assert response.status_code == 303
    page = client.get(f"/accounts/{external_id}").get_data(as_text=True)
    assert f"<dt>Last contacted</dt><dd>{datetime.now(UTC):%Y-%m-%d}</dd>" in page
    assert "Lunch with Erik; renewal in May." in page and "was contacted today" in page
    with app.app_context():
        account = db.session.scalar(sa.select(Account).where(Account.external_id == external_id))
        assert datetime.now(UTC) - account.last_contacted_at < timedelta(minutes=1)
        [touch] = db.session.scalars(sa.select(AccountTouch)).all()
        assert (touch.account_id, touch.user_id, touch.note) == (
            account.id,
            constructed,
            "Lunch with Erik; renewal in May.",
        )
        assert ("account contacted", MARIA, f"account {external_id}") in db.session.execute(
            sa.select(AuditEvent.action, AuditEvent.actor, AuditEvent.target)
        ).all()
    # no longer "more than 90 days since the last contact"
    reasons = dict(risk_reasons(client.get("/accounts/mine").get_data(as_text=True)))
    assert reasons["Echo Quiet"] == []
    # without a note it works too
    assert client.post(f"/accounts/{external_id}/contacted").status_code == 303


def account_id(app, name):
    with app.app_context():
        return db.session.scalar(sa.select(Account.external_id).where(Account.name == name))


def test_contacted_today_is_scoped_and_checks_the_note(app, constructed):
    ola = sign_in(app.test_client(), db_id(app, OLA))
    external_id = account_id(app, "Echo Quiet")
    assert ola.post(f"/accounts/{external_id}/contacted", data={"note": "x"}).status_code == 404
    assert ola.get(f"/accounts/{external_id}").status_code == 404
    maria = sign_in(app.test_client(), constructed)
    long = maria.post(f"/accounts/{external_id}/contacted", data={"note": "n" * 2001})
    assert long.status_code == 400
    assert "A note can have at most 2,000 characters." in long.get_data(as_text=True)
    assert (
        maria.post(f"/accounts/{external_id}/contacted", data={"note": "\x00"}).status_code == 400
    )
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AccountTouch)) == 0
        last = db.session.scalar(
            sa.select(Account.last_contacted_at).where(Account.external_id == external_id)
        )
        assert NOW - last > timedelta(days=100)


def test_the_account_page_says_who_disagrees_and_who_never_answered(
    app, runner, anonymous, make_account, make_user, smtp_sink
):
    maria = make_user(MARIA, "account_manager")
    make_account(
        user("Ulla"),
        {**user("Dagny", "decision_maker")},
        {**user("Ivar", "influencer")},
        external_id="SPLIT",
        name="Split Decision AB",
        account_manager_email=MARIA,
    )
    send(runner, create_campaign(runner))
    found = tokens(smtp_sink)
    answer(anonymous, found["ulla@x.example"], score="10", comment="Lovely tool, use it daily.")
    answer(anonymous, found["dagny@x.example"], score="2", reason="price", comment="Too costly.")
    wait_for_background()
    page = sign_in(app.test_client(), maria).get("/accounts/SPLIT").get_data(as_text=True)
    assert (
        "Contacts disagree: Ulla (user, 10) recommends us, while Dagny (decision maker, 2) does "
        "not. A decision maker is a detractor although the people who use us are happy"
    ) in page
    assert "Lovely tool, use it daily." in page and "Too costly." in page
    assert 'Never answered: Ivar <span class="muted">(influencer, invited 1 time)</span>' in page
    # the follow-up of Dagny's answer is on the page
    assert "/follow-ups/" in page and "score <strong>2</strong>" in page


def test_an_overdue_follow_up_is_flagged_on_the_account_page(app, constructed):
    client = sign_in(app.test_client(), constructed)
    page = client.get(f"/accounts/{account_id(app, 'Call Overdue AS')}").get_data(as_text=True)
    assert 'class="overdue"' in page
    page = client.get(f"/accounts/{account_id(app, 'At Risk AB')}").get_data(as_text=True)
    assert 'class="overdue"' not in page and page.count('class="state state-open"') == 3


def test_disagreement_sentences():
    assert disagreement([Voice("A", "user", 9), Voice("B", "user", 8)]) is None
    assert disagreement([Voice("A", "user", 3)]) is None
    two = disagreement(
        [
            Voice("Ann", "decision_maker", 9),
            Voice("Ben", "influencer", 10),
            Voice("Cai", "user", 0),
        ]
    )
    assert two == (
        "Contacts disagree: Ann (decision maker, 9) and Ben (influencer, 10) recommend us, "
        "while Cai (user, 0) does not."
    )
    worry = disagreement([Voice("Ann", "decision_maker", 6), Voice("Ben", "user", 9)])
    assert worry.endswith("the renewal is decided by the unhappy side.")


def test_committee_silence_needs_an_invitation_in_the_window(
    app, runner, make_account, make_user, smtp_sink
):
    maria = make_user(MARIA, "account_manager")
    make_account(user("Quiet", "decision_maker"), name="Long Ago AB", account_manager_email=MARIA)
    send(runner, create_campaign(runner))
    client = sign_in(app.test_client(), maria)
    assert dict(risk_reasons(client.get("/accounts/mine").get_data(as_text=True))) == {
        "Long Ago AB": ["committee_silence"]
    }
    with app.app_context():
        db.session.execute(sa.update(Invitation).values(sent_at=NOW - timedelta(days=400)))
        db.session.execute(sa.update(Campaign).values(created_at=NOW - timedelta(days=401)))
        db.session.commit()
    assert dict(risk_reasons(client.get("/accounts/mine").get_data(as_text=True))) == {
        "Long Ago AB": []
    }
