"""Importing accounts and contacts from CSV, through the CLI and the upload page."""

import html
import io
import tracemalloc
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from surveys.accounts.models import Account, Contact
from surveys.accounts.services import import_contacts_csv, unsubscribe_address
from surveys.extensions import db
from tests.conftest import build_app, sign_in

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


# Issue 7: streaming, hostile fields, internationalised addresses, formula cells. Each
# runs through the command line and through the upload page.


class Importer:
    """Imports a file through the CLI or the upload page and says what a person sees."""

    def __init__(self, channel, runner, client, tmp_path):
        self.channel, self.runner, self.client, self.tmp_path = channel, runner, client, tmp_path

    def __call__(self, content, skip_invalid=False):
        data = content.encode() if isinstance(content, str) else content
        if self.channel == "cli":
            result = run_import(
                self.runner, self.tmp_path, data, *(["--skip-invalid"] if skip_invalid else [])
            )
            return result.exit_code == 0, result.output
        response = upload(self.client, data, skip_invalid=skip_invalid)
        assert response.status_code in (200, 400), response.status_code
        return response.status_code == 200, html.unescape(response.get_data(as_text=True))


@pytest.fixture(params=["cli", "page"])
def importer(request, runner, client, tmp_path):
    return Importer(request.param, runner, client, tmp_path)


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


def test_a_row_with_fewer_fields_is_a_bad_row_named_by_its_line(app, importer):
    ok, output = importer(GOOD + "A3,Short AB,short@x.se\n")
    assert not ok
    assert "line 5: has 3 fields but the header names 12" in output
    assert "nothing was imported" in output.lower()
    assert snapshot(app) == ([], [])


def test_a_row_with_more_fields_is_a_bad_row_named_by_its_line(app, importer):
    ok, output = importer(GOOD + "A3,Long AB,long@x.se,,,,,,,,,,extra\n")
    assert not ok
    assert "line 5: has 13 fields but the header names 12" in output
    assert snapshot(app) == ([], [])


@pytest.mark.parametrize(
    ("cell", "column", "message"),
    [
        ("Ann\x00a", "contact_name", "contains a NUL character (U+0000)"),
        (
            "Ann\u202ea",
            "contact_name",
            "contains an invisible character U+202E (RIGHT-TO-LEFT OVERRIDE)",
        ),
        ('"Ann\na"', "contact_name", "contains a line break"),
        ('"Ann\r\na"', "contact_name", "contains a line break"),
        ("Ann\u2028a", "contact_name", "contains a line break"),
        ("Ann\ta", "contact_name", "contains a tab"),
        ("Ann\u200ba", "contact_name", "contains an invisible character U+200B"),
        ("Ann\u2066a\u2069", "contact_name", "contains an invisible character U+2066"),
        ("Ann\ufeffa", "contact_name", "contains an invisible character U+FEFF"),
        ("Ann\x1ba", "contact_name", "contains a control character U+001B"),
        ("Ann\x85a", "contact_name", "contains a control character U+0085"),
    ],
)
def test_hostile_characters_are_refused_by_line_and_column(app, importer, cell, column, message):
    text = HEADER + f"H1,Hostile AB,ok@hostile.se,{cell},user,sv,,,,,,\n"
    ok, output = importer(text)
    assert not ok
    assert f"line 2, {column}: {message}" in output
    assert snapshot(app) == ([], [])


@pytest.mark.parametrize(
    ("row", "column"),
    [
        ('"H\n1",Hostile AB,ok@hostile.se,Anna,user,sv,,,,,,\n', "account_id"),
        ('H1,"Hostile\r\nAB",ok@hostile.se,Anna,user,sv,,,,,,\n', "account_name"),
        ('H1,Hostile AB,"ok@hostile.se\nBcc: x@y.se",Anna,user,sv,,,,,,\n', "contact_email"),
        ('H1,Hostile AB,ok@hostile.se,Anna,user,sv,"kam@x.se\r\nBcc: x@y.se",,,,,\n', None),
        ("H1\x00,Hostile AB,ok@hostile.se,Anna,user,sv,,,,,,\n", "account_id"),
        ("H1,Hostile AB,ok@hostile.se,Anna,user,sv,,Seg\u202ement,,,,\n", "segment"),
        ("H1,Hostile AB,ok@hostile.se,Anna,user,sv,,Seg\x07ment,,,,\n", "segment"),
    ],
)
def test_every_column_is_guarded(app, importer, row, column):
    ok, output = importer(HEADER + row)
    assert not ok
    assert f"line 2, {column or 'account_manager_email'}: contains" in output
    assert snapshot(app) == ([], [])


def test_a_quoted_newline_in_a_free_column_is_kept(app, importer):
    text = HEADER + 'N1,Nordljus AB,anna@nordljus.se,Anna,user,sv,,"Bygg\nInköp\ttab",,,,\n'
    ok, output = importer(text)
    assert ok, output
    with app.app_context():
        account = db.session.scalar(sa.select(Account).where(Account.external_id == "N1"))
        assert account.segment == "Bygg\nInköp\ttab"


def test_internationalised_addresses_are_stored_normalised(app, importer):
    text = HEADER + (
        "I1,Exämple AB,jörg@exämple.com,Jörg,user,en,kam@leverantor.se,,,,,\n"
        "I1,,ÅSA@EXÄMPLE.COM,Åsa,user,sv,,,,,,\n"
        "I1,,lars@xn--exmple-cua.com,Lars,user,sv,,,,,,\n"
        "I1,,bo\u0308rje@exa\u0308mple.com,Börje,user,sv,,,,,,\n"
    )
    ok, output = importer(text)
    assert ok, output
    with app.app_context():
        emails = db.session.scalars(sa.select(Contact.email).order_by(Contact.email)).all()
    assert emails == [
        "börje@exämple.com",
        "jörg@exämple.com",
        "lars@exämple.com",
        "åsa@exämple.com",
    ]
    ok, output = importer(text)
    assert ok and "contacts: 0 created, 0 updated, 4 unchanged" in output


FORMULAS = HEADER + (
    'F1,@SUM(A1),anna@formula.se,"=HYPERLINK(""http://x"",""y"")",user,sv,,+46,,,,\n'
    "F2,-2+3,bo@formula.se,+Bo,user,sv,,-5%,,,,\n"
)


def test_formula_cells_are_stored_and_shown_as_text(app, importer, client):
    ok, output = importer(FORMULAS)
    assert ok, output
    with app.app_context():
        first = db.session.scalar(sa.select(Account).where(Account.external_id == "F1"))
        second = db.session.scalar(sa.select(Account).where(Account.external_id == "F2"))
        assert (first.name, first.segment) == ("@SUM(A1)", "+46")
        assert first.contacts[0].name == '=HYPERLINK("http://x","y")'
        assert (second.name, second.segment, second.contacts[0].name) == ("-2+3", "-5%", "+Bo")
    listing = client.get("/accounts/").get_data(as_text=True)
    assert "@SUM(A1)" in listing and "+46" in listing and "-5%" in listing
    page = client.get("/accounts/F1").get_data(as_text=True)
    assert "=HYPERLINK(&#34;http://x&#34;,&#34;y&#34;)" in page
    assert '<a href="http://x"' not in page and '<a href="http://x"' not in listing


def test_a_negative_revenue_stays_refused(app, importer):
    ok, output = importer(HEADER + "F3,Minus AB,a@minus.se,,user,sv,,,-5,,,\n")
    assert not ok
    assert "line 2, annual_revenue: '-5' is not a positive number" in output


def test_twenty_thousand_rows_import_and_import_again_unchanged(app, importer):
    text = HEADER + rows(20_000)
    ok, output = importer(text)
    assert ok, output[-500:]
    assert "accounts: 5000 created, 0 updated, 0 unchanged" in output
    assert "contacts: 20000 created, 0 updated, 0 unchanged" in output
    assert counts(app) == (5000, 20000)
    with app.app_context():
        account = db.session.scalar(sa.select(Account).where(Account.external_id == "SE-04999"))
        assert (account.name, account.segment, account.annual_revenue) == (
            "Konto 4999 AB",
            "SMB",
            Decimal("1200000"),
        )
        assert account.last_contacted_at == datetime(2026, 3, 1, tzinfo=UTC)
    ok, output = importer(text)
    assert ok
    assert "accounts: 0 created, 0 updated, 5000 unchanged" in output
    assert "contacts: 0 created, 0 updated, 20000 unchanged" in output


def test_one_bad_row_at_the_end_of_twenty_thousand_writes_nothing(app, importer):
    ok, output = importer(HEADER + rows(20_000) + "SE-99999,Bad AB,not-an-address,,,,,,,,,\n")
    assert not ok
    assert "line 20002, contact_email: 'not-an-address' is not a valid e-mail address" in output
    assert counts(app) == (0, 0)


def test_skip_invalid_imports_around_a_bad_row_in_the_middle(app, importer):
    text = HEADER + rows(10_000) + "SE-99999,Bad AB,bad@bad.se,,chief,,,,,,,\n"
    text += rows(10_000, start=10_001)
    ok, output = importer(text, skip_invalid=True)
    assert ok, output[-500:]
    assert "line 10002, role: 'chief' is not one of decision_maker, influencer, user" in output
    assert "contacts: 20000 created" in output
    assert counts(app) == (5000, 20000)


def test_bad_utf8_is_named_by_its_line(app, importer):
    data = (HEADER + rows(5)).encode() + "SE-9,Åsa AB,asa@x.se,,,,,,,,,\n".encode("latin-1")
    ok, output = importer(data)
    assert not ok
    assert "line 7: the file is not UTF-8" in output
    assert counts(app) == (0, 0)


def test_an_empty_file_is_refused(app, importer):
    ok, output = importer(b"")
    assert not ok
    assert "the file is empty" in output


def test_a_file_with_only_a_header_imports_nothing(app, importer):
    ok, output = importer(HEADER)
    assert ok, output
    assert "accounts: 0 created, 0 updated, 0 unchanged" in output
    assert counts(app) == (0, 0)


def test_only_the_first_problems_are_listed_with_the_count(app, importer):
    bad = "".join(f"B{number},Bad,not-an-address-{number},,,,,,,,,\n" for number in range(250))
    ok, output = importer(HEADER + bad)
    assert not ok
    assert "250 problem" in output
    assert "line 201, contact_email" in output and "line 202, contact_email" not in output


def test_rows_that_disagree_are_skipped_and_the_first_value_kept(app, importer):
    text = HEADER + (
        "D1,Name One,a@d.se,,user,en,,Enterprise,,,,\n"
        "D1,Name Two,b@d.se,,user,en,,,,,,\n"
        "D1,,c@d.se,,user,en,,SMB,,,,\n"
        "D1,,d@d.se,,user,en,,,,,,\n"
    )
    ok, output = importer(text, skip_invalid=True)
    assert ok, output
    assert "line 3, account_name: 'Name Two' differs from 'Name One' on line 2" in output
    assert "line 4, segment: 'SMB' differs from 'Enterprise' on line 2" in output
    assert "contacts: 2 created" in output
    with app.app_context():
        account = db.session.scalar(sa.select(Account).where(Account.external_id == "D1"))
        assert (account.name, account.segment) == ("Name One", "Enterprise")
        assert [contact.email for contact in account.contacts] == ["a@d.se", "d@d.se"]


def test_a_contact_given_twice(app, importer):
    same = HEADER + "T1,Twice AB,a@t.se,Anna,user,sv,,,,,,\nT1,,A@T.SE,Anna,user,sv,,,,,,\n"
    ok, output = importer(same)
    assert ok, output
    assert "contacts: 1 created" in output
    other = same + "T1,,a@t.se,Anna Berg,user,sv,,,,,,\n"
    ok, output = importer(other)
    assert not ok
    assert "line 4, contact_email: a@t.se appears again for account T1 with other details" in output


def test_an_empty_account_cell_clears_only_when_no_row_fills_it(app, importer):
    assert importer(GOOD)[0]
    # A1's segment is on its first row only: kept. A2's is empty on its only row: cleared.
    ok, output = importer(GOOD.replace(",SMB,", ",,"))
    assert ok, output
    assert "accounts: 0 created, 1 updated, 1 unchanged" in output
    with app.app_context():
        segments = dict(db.session.execute(sa.select(Account.external_id, Account.segment)).all())
    assert segments == {"A1": "Enterprise", "A2": None}


def test_suppressed_addresses_stay_unsubscribed(app, importer):
    assert importer(GOOD)[0]
    with app.app_context():
        unsubscribe_address(db.session, "per@nordljus.se", datetime(2026, 5, 1, tzinfo=UTC))
        db.session.commit()
    # again, and the same person as a contact of another account, written in capitals
    ok, output = importer(GOOD + "A9,Other AB,PER@Nordljus.se,Per Ek,user,sv,,,,,,\n")
    assert ok, output
    with app.app_context():
        found = db.session.execute(
            sa.select(Contact.email, Contact.unsubscribed_at).where(
                Contact.email == "per@nordljus.se"
            )
        ).all()
    assert [moment for _, moment in found] == [datetime(2026, 5, 1, tzinfo=UTC)] * 2


def test_the_upload_page_refuses_a_file_over_its_limit(admin_id, database_url, smtp_server):
    app = build_app(database_url, MAIL_PORT=smtp_server.port, IMPORT_MAX_BYTES=1000)
    response = upload(sign_in(app.test_client(), admin_id), (HEADER + rows(40)).encode())
    assert response.status_code == 413
    text = response.get_data(as_text=True)
    assert 'class="field-error">The file is' in text and "files of up to" in text
    assert "flask contacts import" in text
    assert counts(app) == (0, 0)
    with app.app_context():
        db.engine.dispose()


def test_the_upload_page_refuses_a_file_over_its_row_limit(admin_id, database_url, smtp_server):
    app = build_app(database_url, MAIL_PORT=smtp_server.port, IMPORT_MAX_ROWS=2500)
    client = sign_in(app.test_client(), admin_id)
    response = upload(client, (HEADER + rows(2501)).encode())
    assert response.status_code == 413
    text = response.get_data(as_text=True)
    assert 'class="field-error">The file has more than 2,500 rows' in text
    assert counts(app) == (0, 0)
    assert upload(client, (HEADER + rows(2500)).encode()).status_code == 200
    assert counts(app) == (625, 2500)
    with app.app_context():
        db.engine.dispose()


def test_the_upload_page_says_so_beside_the_field_over_the_request_limit(
    admin_id, database_url, smtp_server
):
    app = build_app(database_url, MAIL_PORT=smtp_server.port, MAX_CONTENT_LENGTH=1000)
    response = upload(sign_in(app.test_client(), admin_id), (HEADER + rows(40)).encode())
    assert response.status_code == 413
    assert 'class="field-error">The file is' in response.get_data(as_text=True)
    with app.app_context():
        db.engine.dispose()


class Chunked(io.RawIOBase):
    """A file that notes the largest piece read from it, and refuses to be read whole."""

    def __init__(self, data: bytes):
        self.data, self.position, self.largest = data, 0, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        piece = self.data[self.position : self.position + len(buffer)]
        buffer[: len(piece)] = piece
        self.position += len(piece)
        self.largest = max(self.largest, len(piece))
        return len(piece)

    def readall(self) -> bytes:
        raise AssertionError("the import read the whole file at once")


def test_the_import_reads_its_file_in_pieces(app):
    source = Chunked((HEADER + rows(20_000)).encode())
    with app.app_context():
        result = import_contacts_csv(db.session, io.BufferedReader(source))
    assert result.contacts["created"] == 20_000
    assert source.position == len(source.data)
    assert source.largest <= 64 * 1024


def test_the_import_memory_does_not_grow_with_the_file(app):
    """What Python allocates while importing 20,000 rows is about what it allocates for
    2,000: rows are held a batch at a time, never all of them."""

    def peak(text: str) -> int:
        source = io.BytesIO(text.encode())
        with app.app_context():
            tracemalloc.start()
            try:
                import_contacts_csv(db.session, source)
                return tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()

    peak(HEADER + rows(10, start=900_001))  # caches and compiled statements
    small = peak(HEADER + rows(2_000, start=1))
    large = peak(HEADER + rows(20_000, start=100_001))
    assert large < 1.5 * small, (small, large)


SINCE = (
    "account_id;account_name;contact_email;status;churned_at;customer_since\n"
    "S1;Since AB;a@s1.se;active;;2019-04-01\n"
    "S1;;b@s1.se;;;\n"
    "S2;Gone AB;a@s2.se;churned;2026-03-01T23:30:00+00:00;2026-03-01\n"
    "S3;Unknown AB;a@s3.se;active;;\n"
)


def test_customer_since_is_imported_as_a_day(app, importer):
    ok, output = importer(SINCE)
    assert ok, output
    with app.app_context():
        query = sa.select(Account.external_id, Account.customer_since)
        since = dict(db.session.execute(query).all())
    assert since == {"S1": date(2019, 4, 1), "S2": date(2026, 3, 1), "S3": None}
    # a file without the column leaves it alone; an empty cell in a file with it clears it
    ok, output = importer("account_id,contact_email\nS1,a@s1.se\n")
    assert ok and "accounts: 0 created, 0 updated, 1 unchanged" in output, output
    ok, output = importer("account_id,contact_email,customer_since\nS1,a@s1.se,\n")
    assert ok and "accounts: 0 created, 1 updated" in output, output
    with app.app_context():
        account = db.session.scalar(sa.select(Account).where(Account.external_id == "S1"))
        assert account.customer_since is None


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("2019-02-30", "'2019-02-30' is not an ISO date like 2019-04-01"),
        ("20190401", "'20190401' is not an ISO date like 2019-04-01"),
        ("2019-W14-1", "'2019-W14-1' is not an ISO date like 2019-04-01"),
        ("01/04/2019", "'01/04/2019' is not an ISO date like 2019-04-01"),
        (
            "\u0662\u0660\u0661\u0669-04-01",
            "'\u0662\u0660\u0661\u0669-04-01' is not an ISO date like 2019-04-01",
        ),
        ("2026-03-02", "2026-03-02 is after churned_at (2026-03-01)"),
    ],
)
def test_a_bad_customer_since_is_named_by_line_and_column(app, importer, cell, message):
    text = (
        "account_id,contact_email,status,churned_at,customer_since\n"
        "S1,a@s1.se,active,,2019-04-01\n"
        f"S2,a@s2.se,churned,2026-03-01,{cell}\n"
    )
    ok, output = importer(text)
    assert not ok
    assert f"line 3, customer_since: {message}" in output
    assert snapshot(app) == ([], [])


def test_rows_that_disagree_about_customer_since_are_refused(app, importer):
    text = (
        "account_id,contact_email,customer_since\n"
        "S1,a@s1.se,2019-04-01\nS1,b@s1.se,\nS1,c@s1.se,2020-01-01\n"
    )
    ok, output = importer(text)
    assert not ok
    assert "line 4, customer_since: '2020-01-01' differs from '2019-04-01' on line 2" in output
