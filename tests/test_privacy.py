"""A contact's rights: everything held on them, exported; erasure that keeps the numbers;
and free texts that do not outlive their retention."""

import json
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from surveys.accounts.models import Contact, Suppression
from surveys.campaigns.models import Response, ResponseReason
from surveys.extensions import db
from tests.conftest import build_app
from tests.helpers import create_campaign, send, token_of

EMAIL = "astrid@nordljus.example"


def answered(app, runner, client, make_account, smtp_sink):
    """Astrid (at two accounts) and a colleague answered an NPS campaign."""
    make_account(
        {"language": "sv", "email": EMAIL, "name": "Astrid Lind"},
        {"language": "sv", "email": "bo@nordljus.example", "name": "Bo"},
        external_id="NORD",
        name="Nordljus AB",
    )
    make_account({"language": "sv", "email": EMAIL, "name": "Astrid Lind"}, external_id="FJORD")
    campaign_id = create_campaign(runner)
    send(runner, campaign_id)
    for message in smtp_sink.messages:
        score = "3" if EMAIL in message["To"].addresses[0].addr_spec else "10"
        comment = "För dyrt, och ingen ringer oss" if score == "3" else "Bra"
        response = client.post(f"/r/{token_of(message)}", data={"score": score, "comment": comment})
        assert response.status_code == 303
    return campaign_id


def nps_report(runner):
    result = runner.invoke(args=["report", "nps", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    del report["since"]  # the window's start moves with the clock
    return report


def test_export_prints_everything_held_on_the_person(app, runner, client, make_account, smtp_sink):
    answered(app, runner, client, make_account, smtp_sink)
    result = runner.invoke(args=["contacts", "export", " Astrid@Nordljus.example "])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["email"] == EMAIL
    assert {contact["account"]["account_id"] for contact in data["contacts"]} == {"NORD", "FJORD"}
    contact = next(c for c in data["contacts"] if c["account"]["account_id"] == "NORD")
    assert contact["name"] == "Astrid Lind" and contact["language"] == "sv"
    [invitation] = contact["invitations"]
    assert invitation["kind"] == "nps"
    assert invitation["e-mails"][0]["kind"] == "invitation"
    assert invitation["e-mails"][0]["state"] == "sent"
    assert invitation["answer"]["score"] == 3
    assert invitation["answer"]["comment"] == "För dyrt, och ingen ringer oss"
    assert {found["reason"] for found in invitation["answer"]["reasons_found_in_words"]} >= {
        "price"
    }
    unknown = runner.invoke(args=["contacts", "export", "nobody@example.com"])
    assert unknown.exit_code != 0 and "no contact has the address" in unknown.output


def test_erasure_keeps_the_numbers_and_forgets_the_person(
    app, runner, client, make_account, smtp_sink, tmp_path
):
    campaign_id = answered(app, runner, client, make_account, smtp_sink)
    old_link = token_of(next(m for m in smtp_sink.messages if EMAIL in str(m["To"])))
    before = nps_report(runner)
    refused = runner.invoke(args=["contacts", "erase", EMAIL], input="n\n")
    assert refused.exit_code != 0
    assert "Aborted" in refused.output
    result = runner.invoke(args=["contacts", "erase", EMAIL, "--yes"])
    assert result.exit_code == 0, result.output
    assert "Erased 2 contact(s)" in result.output
    assert nps_report(runner) == before  # scores stay, anonymised
    with app.app_context():
        erased = db.session.scalars(sa.select(Contact).where(Contact.erased_at.is_not(None))).all()
        assert len(erased) == 2
        assert all(c.name is None and EMAIL not in c.email for c in erased)
        assert all(c.unsubscribed_at is not None for c in erased)
        comments = db.session.scalars(sa.select(Response.comment)).all()
        assert "För dyrt, och ingen ringer oss" not in comments and "Bra" in comments
        evidence = db.session.scalars(sa.select(ResponseReason.evidence)).all()
        assert not any("dyrt" in words for words in evidence)
        assert db.session.scalar(sa.select(sa.func.count(Suppression.id))) == 1
    assert client.get(f"/r/{old_link}").status_code == 404  # the link is gone too
    export = runner.invoke(args=["contacts", "export", EMAIL])
    assert export.exit_code != 0
    # imported again, the address is not mailed again
    csv_path = tmp_path / "again.csv"
    csv_path.write_text(f"account_id,contact_email,language\nNORD,{EMAIL},sv\n")
    assert runner.invoke(args=["contacts", "import", str(csv_path)]).exit_code == 0
    smtp_sink.clear()
    result = runner.invoke(args=["campaigns", "send", str(create_campaign(runner))])
    assert EMAIL not in str([message["To"] for message in smtp_sink.messages])
    assert "skipped: 1 unsubscribed" in result.output
    assert campaign_id


def test_the_account_page_exports_and_erases(app, runner, client, make_account, smtp_sink):
    answered(app, runner, client, make_account, smtp_sink)
    with app.app_context():
        contact_id = db.session.scalar(
            sa.select(Contact.id).where(Contact.email == EMAIL).order_by(Contact.id)
        )
    page = client.get("/accounts/NORD").get_data(as_text=True)
    assert f'action="/accounts/contacts/{contact_id}/export"' in page
    export = client.post(f"/accounts/contacts/{contact_id}/export")
    assert export.status_code == 200
    assert export.headers["Content-Disposition"].startswith("attachment;")
    assert json.loads(export.data)["email"] == EMAIL
    assert client.get(f"/accounts/contacts/{contact_id}/export").status_code == 405
    # no tick, no erasure
    response = client.post(f"/accounts/contacts/{contact_id}/erase", follow_redirects=True)
    assert "Tick the box to confirm the erasure." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Contact, contact_id).erased_at is None
    response = client.post(
        f"/accounts/contacts/{contact_id}/erase", data={"confirm": "y"}, follow_redirects=True
    )
    text = response.get_data(as_text=True)
    assert "Erased at 2 account(s)" in text and EMAIL not in text and "Astrid" not in text
    assert client.post(f"/accounts/contacts/{contact_id}/erase").status_code == 404
    assert client.post("/accounts/contacts/999999/export").status_code == 404


def test_erasing_needs_the_forms_token(database_url, runner, client, make_account, smtp_sink):
    made = make_account({"language": "en", "email": EMAIL})
    app = build_app(database_url, WTF_CSRF_ENABLED=True, MAIL_PORT=smtp_sink.port)
    response = app.test_client().post(
        f"/accounts/contacts/{made.contact_ids[0]}/erase", data={"confirm": "y"}
    )
    assert response.status_code == 400
    with app.app_context():
        assert db.session.get(Contact, made.contact_ids[0]).erased_at is None


def test_free_texts_go_after_their_retention(app, runner, client, make_account, smtp_sink):
    answered(app, runner, client, make_account, smtp_sink)
    with app.app_context():
        db.session.execute(
            sa.update(Response)
            .where(Response.score == 3)
            .values(answered_at=datetime.now(UTC) - timedelta(days=731))
        )
        db.session.commit()
    result = runner.invoke(args=["campaigns", "tick"])
    assert "2 old free texts removed" in result.output
    with app.app_context():
        rows = db.session.execute(sa.select(Response.score, Response.comment)).all()
    assert sorted(rows, key=lambda row: row.score) == [(3, None), (3, None), (10, "Bra")]
