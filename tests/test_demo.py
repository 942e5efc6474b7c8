"""The demo that `make run` loads: its CSV, its past campaigns, its open exit campaign,
the reasons its answers carry, and a new campaign on top."""

import json
import re
from collections import Counter
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from surveys.accounts.csv_import import read_contacts_csv
from surveys.accounts.models import Account, Contact
from surveys.auth.access import Scope
from surveys.campaigns.models import (
    MANAGER_CONTACT,
    REASONS,
    Campaign,
    Invitation,
    Response,
    ResponseReason,
    campaign_accounts,
)
from surveys.demo.services import CONTACTS_CSV, EXIT_COMMENTS_CSV
from surveys.extensions import db
from surveys.reasons.services import ReasonFilters, classify_comment, reasons_report
from tests.helpers import create_campaign, send, token_of


def load(runner) -> str:
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    return result.output


def report(runner, *options) -> dict:
    result = runner.invoke(args=["report", "nps", "--json", *options])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def snapshot(app) -> list:
    """Every stored row the demo writes, to show that loading again changes nothing."""
    with app.app_context():
        return [
            db.session.execute(sa.select(table).order_by(*table.primary_key.columns)).all()
            for table in (
                Account.__table__,
                Contact.__table__,
                Campaign.__table__,
                Invitation.__table__,
                Response.__table__,
                ResponseReason.__table__,
                campaign_accounts,
            )
        ]


def demo_campaigns(kind: str) -> list[Campaign]:
    """The campaigns of a kind with their invitations, contacts, accounts and answers."""
    return db.session.scalars(
        sa.select(Campaign)
        .where(Campaign.kind == kind)
        .order_by(Campaign.created_at)
        .options(
            selectinload(Campaign.accounts),
            selectinload(Campaign.invitations)
            .selectinload(Invitation.response)
            .selectinload(Response.text_reasons),
            selectinload(Campaign.invitations)
            .selectinload(Invitation.contact)
            .selectinload(Contact.account),
        )
    ).all()


def test_the_demo_csv_imports_without_errors(app, runner):
    assert read_contacts_csv(CONTACTS_CSV.read_bytes()).errors == []
    result = runner.invoke(args=["contacts", "import", str(CONTACTS_CSV)])
    assert result.exit_code == 0, result.output
    assert "skipped" not in result.output
    assert "0 updated, 0 unchanged; contacts:" in result.output


def test_the_demo_loads_realistic_accounts(app, runner):
    output = load(runner)
    assert "Added campaign 'NPS spring" in output and "Added campaign 'NPS autumn" in output
    assert "Added campaign 'Exit survey " in output
    with app.app_context():
        accounts = db.session.scalars(
            sa.select(Account).options(selectinload(Account.contacts))
        ).all()
        assert len(accounts) >= 30
        for account in accounts:
            assert 3 <= len(account.contacts) <= 6, account.external_id
            assert account.account_manager_email.endswith("@leverans.example")
            assert account.segment in {"Enterprise", "Mid-market", "SMB"}
            assert account.annual_revenue > 0
        contacts = [contact for account in accounts for contact in account.contacts]
        assert {contact.language for contact in contacts} == {"sv", "nb", "en"}
        assert {contact.role for contact in contacts} == {"decision_maker", "influencer", "user"}
        assert all(contact.email.endswith(".example") for contact in contacts)
        # Nordic companies have English-speaking contacts too
        assert any(
            contact.language == "en"
            for account in accounts
            if account.name.endswith((" AB", " AS"))
            for contact in account.contacts
        )
        churned = [account for account in accounts if account.status == "churned"]
        assert 5 <= len(churned) <= 8
        assert all(account.churned_at < datetime.now(UTC) for account in churned)
        # every account says when it became a customer, some of them in 2025 or 2026
        assert all(account.customer_since is not None for account in accounts)
        assert all(a.customer_since < a.churned_at.date() for a in churned)
        assert sum(account.customer_since.year >= 2025 for account in accounts) >= 5


def test_the_demo_has_two_closed_answered_nps_campaigns(app, runner):
    load(runner)
    now = datetime.now(UTC)
    with app.app_context():
        campaigns = demo_campaigns("nps")
        assert len(campaigns) == 2
        assert campaigns[0].name.startswith("NPS spring ")
        assert campaigns[1].name.startswith("NPS autumn ")
        token_hashes = set()
        for campaign in campaigns:
            assert not campaign.is_open(now)
            invitations = campaign.invitations
            token_hashes |= {invitation.token_hash for invitation in invitations}
            assert all(invitation.sent_at == campaign.created_at for invitation in invitations)
            for invitation in invitations:
                account = invitation.contact.account
                assert account.status == "active" or account.churned_at > campaign.created_at
                # a company that became a customer later was not asked
                assert account.customer_since <= campaign.created_at.date()
            responses = [i.response for i in invitations if i.response is not None]
            assert 0.5 <= len(responses) / len(invitations) <= 0.75
            assert {response.reason for response in responses} <= {*REASONS, None}
            assert set(REASONS) <= {response.reason for response in responses}
            for response in responses:
                assert 0 <= response.score <= 10
                assert campaign.created_at < response.answered_at < campaign.closes_at
        comments = db.session.scalars(
            sa.select(Response.comment).where(Response.comment.is_not(None))
        ).all()
        assert any("hör av sig" in comment for comment in comments)
        assert any("oppfølging" in comment or "ringt" in comment for comment in comments)
        assert any("never hear from you" in comment for comment in comments)


def test_the_report_shows_overall_nps_and_bands(app, runner):
    load(runner)
    data = report(runner)
    overall = data["overall"]
    assert overall["nps"] is not None and overall["n"] >= 100
    assert overall["ci_low"] < overall["nps"] < overall["ci_high"]
    bands = Counter(row["band"] for row in data["accounts"] if row["band"])
    assert sum(bands.values()) >= 20
    assert {"world_class", "positive", "at_risk"} <= set(bands)
    churned = [row["nps"] for row in data["accounts"] if row["status"] == "churned" and row["n"]]
    assert max(churned) < overall["nps"]


def test_loading_the_demo_twice_changes_nothing(app, runner):
    load(runner)
    before = snapshot(app)
    output = load(runner)
    assert "accounts: 0 created, 0 updated" in output
    assert "no demo campaigns were added" in output
    assert "nothing changed" in output
    assert snapshot(app) == before


def test_a_new_campaign_mails_every_subscribed_contact_of_every_active_account(
    app, runner, client, smtp_sink
):
    load(runner)
    with app.app_context():
        rows = db.session.execute(
            sa.select(Contact.email, Account.status, Account.external_id).join(Account)
        ).all()
    active = {email for email, status, _ in rows if status == "active"}
    churned = {email for email, status, _ in rows if status == "churned"}
    assert churned
    campaign_id = create_campaign(runner)
    assert send(runner, campaign_id).strip().endswith(f"{len(active)} sent")
    recipients = [message["To"].addresses[0].addr_spec for message in smtp_sink.messages]
    assert sorted(recipients) == sorted(active)

    # a forgotten account answers the new campaign and its NPS moves
    account_id = "SE-1009"
    emails = [email for email, _, external_id in rows if external_id == account_id]
    before = report(runner, "--account", account_id)["accounts"][0]
    for email in emails:
        (message,) = smtp_sink.to(email)
        response = client.post(f"/r/{token_of(message)}", data={"score": "10"})
        assert response.status_code == 303
    after = report(runner, "--account", account_id)["accounts"][0]
    assert (after["n"], after["nps"]) == (len(emails), 100.0)
    assert after["nps"] > before["nps"]


def test_every_demo_answer_is_classified_as_the_app_would_when_saved(app, runner):
    load(runner)
    with app.app_context():
        rows = db.session.execute(
            sa.select(Response, Contact.language)
            .join(Response.invitation)
            .join(Invitation.contact)
            .options(selectinload(Response.text_reasons))
        ).all()
        assert len(rows) >= 200
        commented = 0
        for response, language in rows:
            columns, reasons = classify_comment(response.comment, language, response.answered_at)
            assert response.classified_at == response.answered_at
            assert response.classifier_version == columns["classifier_version"]
            stored = {
                reason.reason: (reason.score, reason.found, reason.evidence)
                for reason in response.text_reasons
            }
            assert stored == {r["reason"]: (r["score"], r["found"], r["evidence"]) for r in reasons}
            assert response.text_reason == columns["text_reason"]
            assert response.text_language == columns["text_language"]
            if response.comment:
                commented += 1
                assert response.text_language in {"sv", "nb", "en"}
                assert set(stored) == set(REASONS)
                assert any(found for _score, found, _evidence in stored.values())
            else:
                assert response.text_language is None and stored == {}
        assert commented >= 150


def test_the_demo_has_an_open_exit_campaign_answered_by_the_churned_accounts(app, runner):
    load(runner)
    now = datetime.now(UTC)
    with app.app_context():
        (campaign,) = demo_campaigns("exit")
        churned = db.session.scalars(
            sa.select(Account)
            .where(Account.status == "churned")
            .options(selectinload(Account.contacts))
        ).all()
        other_campaigns = db.session.scalars(
            sa.select(Campaign)
            .where(Campaign.kind == "nps")
            .options(selectinload(Campaign.invitations))
        ).all()
        assert campaign.name == f"Exit survey {campaign.created_at.year}"
        assert campaign.is_open(now)
        assert timedelta(days=15) < now - campaign.created_at < timedelta(days=25)
        assert {a.id for a in campaign.accounts} == {a.id for a in churned}
        invitations = campaign.invitations
        assert sorted(i.contact_id for i in invitations) == sorted(
            contact.id for account in churned for contact in account.contacts
        )
        assert all(i.sent_at is not None and i.sent_at >= campaign.created_at for i in invitations)
        # every invitation of the demo has its own token
        hashes = [i.token_hash for c in [campaign, *other_campaigns] for i in c.invitations]
        assert None not in hashes and len(set(hashes)) == len(hashes)

        answers = [(i, i.response) for i in invitations if i.response is not None]
        assert 0.5 <= len(answers) / len(invitations) <= 0.7
        assert {i.contact.account_id for i, _ in answers} == {a.id for a in churned}
        languages = Counter()
        for invitation, response in answers:
            assert invitation.sent_at < response.answered_at < now
            assert response.reason in REASONS
            assert 1 <= response.felt_prioritised <= 5
            assert response.manager_contact in MANAGER_CONTACT
            assert response.score is None or 0 <= response.score <= 10
            if response.comment:
                languages[(invitation.contact.language, response.text_language)] += 1
        # most write in their own language, some Nordic contacts in English
        assert sum(n for (own, written), n in languages.items() if own == written) >= 8
        assert languages[("sv", "en")] + languages[("nb", "en")] >= 1
        assert {written for _own, written in languages} == {"sv", "nb", "en"}
        reasons = Counter(response.reason for _, response in answers)
        assert reasons.most_common(1)[0][0] == "price"

    texts = EXIT_COMMENTS_CSV.read_text(encoding="utf-8")
    for language in ("sv", "nb", "en"):
        assert 8 <= sum(line.startswith(f"{language},") for line in texts.splitlines()) <= 15


def test_the_exit_campaign_mails_no_one_twice(app, runner, smtp_sink):
    load(runner)
    with app.app_context():
        exit_id = db.session.scalar(sa.select(Campaign.id).where(Campaign.kind == "exit"))
    assert send(runner, exit_id).strip().endswith("0 sent")
    assert smtp_sink.messages == []

    # no account churned since the demo's exit campaign: creating another says so
    result = runner.invoke(args=["campaigns", "create", "--kind", "exit", "--name", "X"])
    assert result.exit_code != 0
    assert "no account has churned since the last exit campaign" in result.output
    assert "--accounts" in result.output

    # a contact added to a churned account is the only one mailed when sending again
    with app.app_context():
        account = db.session.scalar(sa.select(Account).where(Account.external_id == "DK-3003"))
        account.contacts.append(
            Contact(
                email="new.buyer@ribe-emballage.example",
                name="New Buyer",
                role="user",
                language="en",
            )
        )
        db.session.commit()
    assert send(runner, exit_id).strip().endswith("1 sent")
    assert [m["To"].addresses[0].addr_spec for m in smtp_sink.messages] == [
        "new.buyer@ribe-emballage.example"
    ]


def test_the_reasons_report_tells_price_as_cover_from_real_price(app, runner, client):
    load(runner)
    now = datetime.now(UTC)
    with app.app_context():
        exit_report = reasons_report(
            db.session, ReasonFilters(scope=Scope.system(), kind="exit"), now
        )
        # the CX page's default: every answer of the last year
        year = reasons_report(
            db.session, ReasonFilters(scope=Scope.system(), since=now - timedelta(days=365)), now
        )
    exit_rows = {row.account.external_id: row for row in exit_report.accounts}
    covers = {key for key, row in exit_rows.items() if row.verdict.price_is_cover}
    assert len(covers) >= 3
    assert exit_report.price_answers > exit_report.price_covers > 0
    for key in covers:
        row = exit_rows[key]
        assert "price" in row.stated, key
        signals = {signal.signal for signal in row.verdict.evidence}
        assert {"low_attention_answers", "account_neglected"} <= signals, key
        assert all(signal.detail for signal in row.verdict.evidence)
    # a cover account's evidence quotes the words and figures
    details = [signal.as_json() for signal in exit_rows["NO-2004"].verdict.evidence]
    assert any(d["signal"] == "text_attention" and '"' in d["detail"] for d in details)
    assert any(re.search(r"felt prioritised [12] of 5", d["detail"]) for d in details)
    assert any("days before the churn" in d["detail"] for d in details)

    # at Vinterviken Kemi price is price, in the exit answers and over the whole year
    year_rows = {row.account.external_id: row for row in year.accounts}
    for rows in (exit_rows, year_rows):
        assert rows["SE-1015"].stated[0] == "price"
        assert rows["SE-1015"].verdict.price_is_cover is False
        assert rows["SE-1015"].verdict.evidence == ()
    # Ribe Emballage was acquired
    assert exit_rows["DK-3003"].stated == ["other"]
    assert exit_rows["DK-3003"].verdict.price_is_cover is None

    page = client.get("/reasons/?kind=exit")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Price as cover" in html and "Price, no cover signal" in html


def test_the_demo_has_one_user_per_role_who_can_sign_in(app, runner):
    from surveys.demo.services import DEMO_PASSWORD

    loaded = runner.invoke(args=["demo", "load"])
    assert "Added user maria.holm@leverans.example" in loaded.output
    logins = runner.invoke(args=["demo", "logins"]).output
    for role, email in [
        ("admin", "admin@leverans.example"),
        ("cx", "cx@leverans.example"),
        ("account manager", "maria.holm@leverans.example"),
    ]:
        assert re.search(rf"{role}\s+{re.escape(email)}\s+password: {DEMO_PASSWORD}", logins)
        client = app.test_client()
        response = client.post("/login", data={"email": email, "password": DEMO_PASSWORD})
        assert response.status_code == 302
    # the account manager sees Maria Holm's accounts and no one else's
    page = client.get("/accounts/").get_data(as_text=True)
    assert "Nordljus Bygg AB" in page and "Fjordlys Industri AS" not in page
    assert client.get("/accounts/NO-2001").status_code == 404
    assert "Added user" not in runner.invoke(args=["demo", "load"]).output
