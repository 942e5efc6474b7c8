"""Importing accounts and contacts from CSV, through the CLI and the upload page."""

import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from surveys.accounts.models import Account, Contact
from surveys.extensions import db
from tests.conftest import build_app

HEADER = (
    "account_id,account_name,contact_email,contact_name,role,language,"
    "account_manager_email,segment,annual_revenue,status,churned_at,last_contacted_at\n"
)
GOOD = HEADER + (
    "A1,Nordljus AB,anna@nordljus.se,Anna Berg,decision_maker,sv,kam@supplier.se,"
    "Enterprise,1200000,active,,2026-09-01\n"
    "A1,Nordljus AB,per@nordljus.se,Per Ek,user,sv,,,,,,\n"
    "A2,Fjordkraft Industri AS,kari@fjord.no,Kari Nordmann,influencer,nb,,SMB,300000.50,"
    "churned,2026-10-01,\n"
)


def run_import(runner, tmp_path, text, *options, encoding="utf-8"):
    path = tmp_path / "contacts.csv"
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return runner.invoke(args=["contacts", "import", str(path), *options])


def snapshot(app):
    """Everything stored about accounts and contacts, to show nothing changed."""
    with app.app_context():
        accounts = db.session.execute(
            sa.select(Account.external_id, Account.name, Account.status, Account.segment).order_by(
                Account.external_id
            )
        ).all()
        contacts = db.session.execute(
            sa.select(Contact.email, Contact.name, Contact.role, Contact.language).order_by(
                Contact.email
            )
        ).all()
    return accounts, contacts


def test_import_creates_accounts_and_contacts(app, runner, tmp_path):
    result = run_import(runner, tmp_path, GOOD)
    assert result.exit_code == 0, result.output
    assert (
        "accounts: 2 created, 0 updated, 0 unchanged; "
        "contacts: 3 created, 0 updated, 0 unchanged" in result.output
    )
    with app.app_context():
        nordljus = db.session.scalar(sa.select(Account).where(Account.external_id == "A1"))
        assert nordljus.name == "Nordljus AB"
        assert nordljus.account_manager_email == "kam@supplier.se"
        assert nordljus.annual_revenue == Decimal("1200000")
        assert nordljus.last_contacted_at == datetime(2026, 9, 1, tzinfo=UTC)
        assert [contact.email for contact in nordljus.contacts] == [
            "anna@nordljus.se",
            "per@nordljus.se",
        ]
        fjord = db.session.scalar(sa.select(Account).where(Account.external_id == "A2"))
        assert fjord.status == "churned"
        assert fjord.churned_at == datetime(2026, 10, 1, tzinfo=UTC)
        assert fjord.annual_revenue == Decimal("300000.50")
        kari = fjord.contacts[0]
        assert (kari.role, kari.language, kari.name) == ("influencer", "nb", "Kari Nordmann")


def test_nordic_spreadsheet_export_is_read(app, runner, tmp_path):
    """Semicolons, a BOM, header names in any case, quoted fields with the separator and a
    newline inside, decimal commas and e-mails in odd case. (The newline is in the segment:
    a name reaches mail headers, where a line break is refused.)"""
    text = (
        "\ufeffAccount_ID;ACCOUNT_NAME;Contact_Email;Contact Name;Role;Language;Annual_Revenue;"
        "Segment\r\n"
        'S1;"Bygg & Co; Malmö";  Åsa.Öberg@Bygg.SE ;Åsa Öberg;Decision Maker;SV;'
        '"1 250 000,75";"Bygg; anläggning\nInköp"\r\n'
        'S1;"Bygg & Co; Malmö";lars@bygg.se;Lars;user;;;\r\n'
    )
    result = run_import(runner, tmp_path, text)
    assert result.exit_code == 0, result.output
    with app.app_context():
        account = db.session.scalar(sa.select(Account).where(Account.external_id == "S1"))
        assert account.name == "Bygg & Co; Malmö"
        assert account.annual_revenue == Decimal("1250000.75")
        assert account.segment == "Bygg; anläggning\nInköp"
        emails = {contact.email: contact for contact in account.contacts}
        assert set(emails) == {"åsa.öberg@bygg.se", "lars@bygg.se"}
        assert emails["åsa.öberg@bygg.se"].name == "Åsa Öberg"
        assert emails["åsa.öberg@bygg.se"].role == "decision_maker"
        assert emails["åsa.öberg@bygg.se"].language == "sv"
        assert emails["lars@bygg.se"].language == "en"


def test_importing_the_same_file_twice_changes_nothing(app, runner, tmp_path):
    assert run_import(runner, tmp_path, GOOD).exit_code == 0
    before = snapshot(app)
    result = run_import(runner, tmp_path, GOOD)
    assert result.exit_code == 0
    assert (
        "accounts: 0 created, 0 updated, 2 unchanged; "
        "contacts: 0 created, 0 updated, 3 unchanged" in result.output
    )
    assert snapshot(app) == before


def test_a_changed_row_updates(app, runner, tmp_path):
    assert run_import(runner, tmp_path, GOOD).exit_code == 0
    changed = GOOD.replace("Per Ek,user", "Per Ek,influencer").replace(
        "Fjordkraft Industri AS", "Fjordkraft AS"
    )
    result = run_import(runner, tmp_path, changed)
    assert result.exit_code == 0
    assert "accounts: 0 created, 1 updated, 1 unchanged" in result.output
    assert "contacts: 0 created, 1 updated, 2 unchanged" in result.output
    with app.app_context():
        assert (
            db.session.scalar(sa.select(Contact.role).where(Contact.email == "per@nordljus.se"))
            == "influencer"
        )
        assert (
            db.session.scalar(sa.select(Account.name).where(Account.external_id == "A2"))
            == "Fjordkraft AS"
        )


def test_emails_are_matched_normalised(app, runner, tmp_path):
    assert run_import(runner, tmp_path, GOOD).exit_code == 0
    result = run_import(runner, tmp_path, GOOD.replace("anna@nordljus.se", " ANNA@Nordljus.se "))
    assert "contacts: 0 created, 0 updated, 3 unchanged" in result.output


BAD = HEADER + (
    "B1,Bad AB,,No Email,user,sv,,,,,,\n"
    "B1,Bad AB,not-an-email,Broken,user,sv,,,,,,\n"
    "B1,Bad AB,ok@bad.se,Role,chief,sv,,,,,,\n"
    "B1,Bad AB,ok2@bad.se,Lang,user,de,,,,,,\n"
    "B2,Other AB,ok3@other.se,Date,user,en,,,,churned,01/10/2026,\n"
    "B2,Other AB,ok4@other.se,Number,user,en,,,lots,,,\n"
    "B3,Fine AB,fine@fine.se,Fine,user,en,,,,,,\n"
)


def test_a_file_with_bad_rows_is_rejected_whole(app, runner, tmp_path):
    assert run_import(runner, tmp_path, GOOD).exit_code == 0
    before = snapshot(app)
    result = run_import(runner, tmp_path, BAD)
    assert result.exit_code != 0
    output = result.output
    assert "line 2, contact_email: is empty" in output
    assert "line 3, contact_email: 'not-an-email' is not a valid e-mail address" in output
    assert "line 4, role: 'chief' is not one of decision_maker, influencer, user" in output
    assert "line 5, language: 'de' is not one of sv, nb, en" in output
    assert "line 6, churned_at: '01/10/2026' is not an ISO date" in output
    assert "line 7, annual_revenue: 'lots' is not a number" in output
    assert "6 problem(s)" in output and "nothing was imported" in output
    assert snapshot(app) == before


def test_skip_invalid_imports_the_good_rows_and_lists_the_rest(app, runner, tmp_path):
    result = run_import(runner, tmp_path, BAD, "--skip-invalid")
    assert result.exit_code == 0, result.output
    assert "skipped" in result.output and "line 4, role" in result.output
    assert "contacts: 1 created" in result.output
    accounts, contacts = snapshot(app)
    assert [row.email for row in contacts] == ["fine@fine.se"]
    assert [row.external_id for row in accounts] == ["B3"]


def test_line_numbers_count_newlines_inside_quotes(runner, tmp_path):
    text = HEADER + ('Q1,"Multi\nline\nname",ok@q.se,,user,en,,,,,,\nQ1,,broken,,user,en,,,,,,\n')
    result = run_import(runner, tmp_path, text)
    assert result.exit_code != 0
    assert "line 5, contact_email: 'broken'" in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"name,email\nA,b@c.se\n", "the header has no account_id or contact_email column"),
        ("account_id;contact_email\nA1;åsa@x.se\n".encode("latin-1"), "is not UTF-8"),
        (
            b"account_id,contact_email,contact_email\nA,b@c.se,d@e.se\n",
            "names contact_email more than once",
        ),
    ],
)
def test_unreadable_files_get_a_clear_message(app, runner, tmp_path, content, message):
    result = run_import(runner, tmp_path, content)
    assert result.exit_code != 0
    assert message in result.output
    assert "nothing was imported" in result.output
    assert snapshot(app) == ([], [])


def test_rows_that_disagree_about_an_account_are_rejected(app, runner, tmp_path):
    text = HEADER + ("C1,Name One,a@c.se,,user,en,,,,,,\nC1,Name Two,b@c.se,,user,en,,,,,,\n")
    result = run_import(runner, tmp_path, text)
    assert result.exit_code != 0
    assert "line 3, account_name: 'Name Two' differs from 'Name One' on line 2" in result.output
    assert snapshot(app) == ([], [])


def test_an_active_account_cannot_have_churned(runner, tmp_path):
    text = HEADER + "D1,D,a@d.se,,user,en,,,,active,2026-01-01,\n"
    result = run_import(runner, tmp_path, text)
    assert result.exit_code != 0
    assert "line 2, churned_at: is set but status is active" in result.output


def upload(client, content, skip_invalid=False):
    data = {"file": (io.BytesIO(content), "contacts.csv")}
    if skip_invalid:
        data["skip_invalid"] = "y"
    return client.post("/accounts/import", data=data, content_type="multipart/form-data")


def test_upload_page_imports(app, client):
    page = client.get("/accounts/import")
    assert page.status_code == 200
    assert b'type="file"' in page.data
    response = upload(client, GOOD.encode())
    assert response.status_code == 200
    assert b"accounts: 2 created" in response.data
    assert snapshot(app)[1][0].email == "anna@nordljus.se"


def test_upload_page_rejects_a_bad_file_and_lists_every_problem(app, client):
    response = upload(client, BAD.encode())
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Nothing was imported" in text
    assert "line 2, contact_email: is empty" in text
    assert "line 7, annual_revenue: &#39;lots&#39; is not a number" in text
    assert snapshot(app) == ([], [])


def test_upload_page_skip_invalid(app, client):
    response = upload(client, BAD.encode(), skip_invalid=True)
    assert response.status_code == 200
    assert "6 problem(s) skipped" in response.get_data(as_text=True)
    assert [row.email for row in snapshot(app)[1]] == ["fine@fine.se"]


def test_upload_page_without_a_file(client):
    response = client.post("/accounts/import", data={}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert b"Choose a CSV file to import." in response.data


def rows(count, *, start=1, contacts_per_account=4):
    """``count`` good rows with every column, the account columns on each account's first
    row only, as spreadsheets often leave them."""
    lines = []
    for number in range(start, start + count):
        account, index = divmod(number - 1, contacts_per_account)
        first = index == 0
        lines.append(
            f"SE-{account:05d},{f'Konto {account} AB' if first else ''},"
            f"person{number}@konto{account}.se,Person {number},user,sv,"
            f"{'kam@leverantor.se' if first else ''},{'SMB' if first else ''},"
            f"{'1 200 000' if first else ''},{'active' if first else ''},,"
            f"{'2026-03-01' if first else ''}\n"
        )
    return "".join(lines)


def counts(app):
    with app.app_context():
        return (
            db.session.scalar(sa.select(sa.func.count(Account.id))),
            db.session.scalar(sa.select(sa.func.count(Contact.id))),
        )


def test_the_upload_page_refuses_a_file_over_its_limit(database_url, smtp_server):
    app = build_app(database_url, MAIL_PORT=smtp_server.port, IMPORT_MAX_BYTES=1000)
    response = upload(app.test_client(), (HEADER + rows(40)).encode())
    assert response.status_code == 413
    text = response.get_data(as_text=True)
    assert 'class="field-error">The file is' in text and "files of up to" in text
    assert "flask contacts import" in text
    assert counts(app) == (0, 0)
    with app.app_context():
        db.engine.dispose()


def test_the_upload_page_says_so_beside_the_field_over_the_request_limit(database_url, smtp_server):
    app = build_app(database_url, MAIL_PORT=smtp_server.port, MAX_CONTENT_LENGTH=1000)
    response = upload(app.test_client(), (HEADER + rows(40)).encode())
    assert response.status_code == 413
    assert 'class="field-error">The file is' in response.get_data(as_text=True)
    with app.app_context():
        db.engine.dispose()
