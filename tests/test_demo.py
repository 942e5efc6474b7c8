"""The demo that `make run` loads: its CSV, its past campaigns, and a new campaign on top."""

import json
from collections import Counter
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from surveys.accounts.csv_import import read_contacts_csv
from surveys.accounts.models import Account, Contact
from surveys.campaigns.models import REASONS, Campaign, Invitation, Response
from surveys.demo.services import CONTACTS_CSV
from surveys.extensions import db
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
            )
        ]


def test_the_demo_csv_imports_without_errors(app, runner):
    assert read_contacts_csv(CONTACTS_CSV.read_bytes()).errors == []
    result = runner.invoke(args=["contacts", "import", str(CONTACTS_CSV)])
    assert result.exit_code == 0, result.output
    assert "skipped" not in result.output
    assert "0 updated, 0 unchanged; contacts:" in result.output


def test_the_demo_loads_realistic_accounts(app, runner):
    output = load(runner)
    assert "Added campaign 'NPS spring" in output and "Added campaign 'NPS autumn" in output
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


def test_the_demo_has_two_closed_answered_nps_campaigns(app, runner):
    load(runner)
    now = datetime.now(UTC)
    with app.app_context():
        campaigns = db.session.scalars(
            sa.select(Campaign)
            .order_by(Campaign.created_at)
            .options(
                selectinload(Campaign.invitations).selectinload(Invitation.response),
                selectinload(Campaign.invitations)
                .selectinload(Invitation.contact)
                .selectinload(Contact.account),
            )
        ).all()
        assert [campaign.kind for campaign in campaigns] == ["nps", "nps"]
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
            responses = [i.response for i in invitations if i.response is not None]
            assert 0.5 <= len(responses) / len(invitations) <= 0.75
            assert {response.reason for response in responses} <= {*REASONS, None}
            assert set(REASONS) <= {response.reason for response in responses}
            for response in responses:
                assert 0 <= response.score <= 10
                assert campaign.created_at < response.answered_at < campaign.closes_at
        assert None not in token_hashes
        assert len(token_hashes) == sum(len(campaign.invitations) for campaign in campaigns)
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
