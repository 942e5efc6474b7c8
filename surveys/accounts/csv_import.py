"""Reading a contacts CSV into checked rows, without touching the database.

Nordic spreadsheets export semicolons and often a BOM; both separators, UTF-8 with or
without BOM, quoted fields with separators and newlines, and header names in any case
are read. Every problem is reported with its line number and column, so a person can
fix the whole file in one go.
"""

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from email_validator import EmailNotValidError, validate_email

from surveys.accounts.models import ACCOUNT_STATUSES, LANGUAGES, ROLES

COLUMNS = (
    "account_id",
    "account_name",
    "contact_email",
    "contact_name",
    "role",
    "language",
    "account_manager_email",
    "segment",
    "annual_revenue",
    "status",
    "churned_at",
    "last_contacted_at",
)
REQUIRED_COLUMNS = ("account_id", "contact_email")
LANGUAGE_ALIASES = {"no": "nb", "nn": "nb", "nob": "nb", "swe": "sv", "se": "sv", "eng": "en"}
MAX_LENGTHS = {
    "account_id": 64,
    "account_name": 200,
    "contact_name": 200,
    "segment": 100,
}
MAX_ERRORS_SHOWN = 200


@dataclass(frozen=True)
class RowError:
    line: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "file"
        if self.column:
            where += f", {self.column}"
        return f"{where}: {self.message}"


@dataclass
class ContactRow:
    """One checked line: the contact and what it says about its account. Account fields
    are ``None`` where the cell was empty."""

    line: int
    account_id: str
    contact_email: str
    contact_name: str | None
    role: str | None
    language: str
    account: dict[str, object]


@dataclass
class ParsedFile:
    columns: tuple[str, ...]
    rows: list[ContactRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def bad_lines(self) -> set[int]:
        return {error.line for error in self.errors}


class CSVFileError(ValueError):
    """The file as a whole cannot be read (not UTF-8, no header, required column missing)."""


def normalise_email(value: str) -> str:
    return value.strip().lower()


def read_contacts_csv(data: bytes) -> ParsedFile:
    text = _decode(data)
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise CSVFileError("the file is empty: its first line must name the columns")
    delimiter = _guess_delimiter(lines[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = [name.strip().lower().replace(" ", "_") for name in next(reader)]
    except csv.Error as error:
        raise CSVFileError(f"line 1: the header cannot be read ({error})") from None
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise CSVFileError(
            f"the header has no {' or '.join(missing)} column; the columns are: "
            + ", ".join(COLUMNS)
        )
    duplicated = sorted({name for name in header if name and header.count(name) > 1})
    if duplicated:
        raise CSVFileError(f"the header names {', '.join(duplicated)} more than once")
    known = tuple(name for name in header if name in COLUMNS)
    parsed = ParsedFile(columns=known)

    line = 2
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            parsed.errors.append(RowError(line, None, f"the line cannot be read ({error})"))
            break
        start, line = line, reader.line_num + 1
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(header):
            parsed.errors.append(
                RowError(
                    start,
                    None,
                    f"has {len(cells)} fields but the header names {len(header)}; "
                    "is a value with a separator in it missing its quotes?",
                )
            )
            continue
        values = {name: cells[index].strip() for index, name in enumerate(header) if name}
        row, errors = _check_row(start, values, known)
        parsed.errors.extend(errors)
        if row is not None:
            parsed.rows.append(row)
    _check_consistency(parsed)
    return parsed


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise CSVFileError(
            f"line {line}: the file is not UTF-8; save it from your spreadsheet as "
            '"CSV UTF-8" and import it again'
        ) from None


def _guess_delimiter(header_line: str) -> str:
    """The separator is the one that splits the header into the most known column names."""

    def known_names(delimiter: str) -> int:
        names = [name.strip().strip('"').lower() for name in header_line.split(delimiter)]
        return sum(name in COLUMNS for name in names)

    return max((",", ";", "\t"), key=known_names)


def _check_row(
    line: int, values: dict[str, str], columns: tuple[str, ...]
) -> tuple[ContactRow | None, list[RowError]]:
    errors: list[RowError] = []

    def error(column: str, message: str) -> None:
        errors.append(RowError(line, column, message))

    for column, limit in MAX_LENGTHS.items():
        if len(values.get(column, "")) > limit:
            error(column, f"is longer than {limit} characters")

    account_id = values.get("account_id", "")
    if not account_id:
        error("account_id", "is empty; every contact belongs to an account")

    contact_email = _email(values.get("contact_email", ""), "contact_email", error, required=True)
    role = _choice(values.get("role", ""), "role", ROLES, error)
    language = _language(values.get("language", ""), error)

    account: dict[str, object] = {}
    if "account_name" in columns:
        account["account_name"] = values["account_name"] or None
    if "account_manager_email" in columns:
        account["account_manager_email"] = _email(
            values["account_manager_email"], "account_manager_email", error, required=False
        )
    if "segment" in columns:
        account["segment"] = values["segment"] or None
    if "annual_revenue" in columns:
        account["annual_revenue"] = _amount(values["annual_revenue"], error)
    if "status" in columns:
        account["status"] = _choice(values["status"], "status", ACCOUNT_STATUSES, error)
    for column in ("churned_at", "last_contacted_at"):
        if column in columns:
            account[column] = _moment(values[column], column, error)
    if account.get("churned_at") and account.get("status") == "active":
        error("churned_at", "is set but status is active; an active account has not churned")

    if errors:
        return None, errors
    assert contact_email is not None
    return (
        ContactRow(
            line=line,
            account_id=account_id,
            contact_email=contact_email,
            contact_name=values.get("contact_name") or None,
            role=role,
            language=language,
            account=account,
        ),
        [],
    )


def _email(value: str, column: str, error, *, required: bool) -> str | None:
    value = normalise_email(value)
    if not value:
        if required:
            error(column, "is empty; every contact needs an e-mail address")
        return None
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError as problem:
        error(column, f"{value!r} is not a valid e-mail address ({problem})")
        return None
    return value


def _choice(value: str, column: str, allowed: tuple[str, ...], error) -> str | None:
    cleaned = re.sub(r"[\s-]+", "_", value.strip().lower())
    if not cleaned:
        return None
    if cleaned not in allowed:
        error(column, f"{value!r} is not one of {', '.join(allowed)}")
        return None
    return cleaned


def _language(value: str, error) -> str:
    cleaned = value.strip().lower()
    cleaned = LANGUAGE_ALIASES.get(cleaned, cleaned)
    if not cleaned:
        return "en"
    if cleaned not in LANGUAGES:
        error("language", f"{value!r} is not one of {', '.join(LANGUAGES)}")
        return "en"
    return cleaned


def _amount(value: str, error) -> Decimal | None:
    """A yearly revenue as spreadsheets write it: "1 200 000", "1200000.50", "1 200 000,50"."""
    cleaned = re.sub(r"[\s\u00a0\u202f_']", "", value)
    if not cleaned:
        return None
    if "," in cleaned and "." in cleaned:
        thousands = "," if cleaned.rindex(".") > cleaned.rindex(",") else "."
        cleaned = cleaned.replace(thousands, "").replace(",", ".")
    elif cleaned.count(",") == 1:
        cleaned = cleaned.replace(",", ".")
    elif cleaned.count(",") > 1:
        cleaned = cleaned.replace(",", "")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        error("annual_revenue", f"{value!r} is not a number")
        return None
    if not amount.is_finite() or amount < 0:
        error("annual_revenue", f"{value!r} is not a positive number")
        return None
    if amount >= Decimal("1e14"):
        error("annual_revenue", f"{value!r} is too large")
        return None
    return amount.quantize(Decimal("0.01"))


def _moment(value: str, column: str, error) -> datetime | None:
    """An ISO date ("2026-03-01", midnight UTC) or date and time (UTC unless it says)."""
    if not value:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        moment = datetime.fromisoformat(value)
    except ValueError:
        error(column, f"{value!r} is not an ISO date like 2026-03-31")
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _check_consistency(parsed: ParsedFile) -> None:
    """Rows that name the same account must not disagree about it, and a contact must not
    appear twice with different details."""
    first_value: dict[tuple[str, str], tuple[int, object]] = {}
    first_contact: dict[tuple[str, str], ContactRow] = {}
    for row in parsed.rows:
        for column, value in row.account.items():
            if value is None:
                continue
            key = (row.account_id, column)
            if key not in first_value:
                first_value[key] = (row.line, value)
            elif first_value[key][1] != value:
                line, earlier = first_value[key]
                parsed.errors.append(
                    RowError(
                        row.line,
                        column,
                        f"{_shown(value)} differs from {_shown(earlier)} on line {line} "
                        f"for account {row.account_id}",
                    )
                )
        contact_key = (row.account_id, row.contact_email)
        earlier_row = first_contact.setdefault(contact_key, row)
        if earlier_row is not row and (
            (earlier_row.contact_name, earlier_row.role, earlier_row.language)
            != (row.contact_name, row.role, row.language)
        ):
            parsed.errors.append(
                RowError(
                    row.line,
                    "contact_email",
                    f"{row.contact_email} appears again for account {row.account_id} with "
                    f"other details (first on line {earlier_row.line})",
                )
            )
    parsed.errors.sort(key=lambda error: (error.line, error.column or ""))


def _shown(value: object) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    return repr(str(value))
