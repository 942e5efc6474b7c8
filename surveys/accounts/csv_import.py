"""Reading a contacts CSV into checked rows, without touching the database.

Nordic spreadsheets export semicolons and often a BOM; both separators, UTF-8 with or
without BOM, quoted fields with separators and newlines, and header names in any case
are read. The file is read as a stream through a text wrapper, so memory does not grow
with its size. Every problem is reported with its line number and column, so a person
can fix the whole file in one go. What only the whole file can tell (rows of one account
that disagree, a contact given twice) is checked by the import in
``surveys.accounts.services``.
"""

import csv
import io
import itertools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache, partial
from operator import itemgetter
from typing import IO, NamedTuple

from surveys.accounts.addresses import InvalidAddressError, normalise_address, plain_addresses
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
    "customer_since",
)
REQUIRED_COLUMNS = ("account_id", "contact_email")
# The columns that describe the account rather than the contact.
ACCOUNT_COLUMNS = (
    "account_name",
    "account_manager_email",
    "segment",
    "annual_revenue",
    "status",
    "churned_at",
    "last_contacted_at",
    "customer_since",
)
# Values that end up in a mail header or a URL, where a line break or a tab could start
# a header of its own. The other columns are free text or parsed values.
HEADER_COLUMNS = frozenset(
    {"account_id", "account_name", "contact_name", "contact_email", "account_manager_email"}
)
LANGUAGE_ALIASES = {"no": "nb", "nn": "nb", "nob": "nb", "swe": "sv", "se": "sv", "eng": "en"}
MAX_LENGTHS = {
    "account_id": 64,
    "account_name": 200,
    "contact_name": 200,
    "segment": 100,
}
# Stored addresses are at most this long (the contacts.email column).
MAX_EMAIL_LENGTH = 254
MAX_ERRORS_SHOWN = 200
# The longest physical line read, in characters: the csv module's own limit of a field.
# A longer line is no contacts file, and reading it whole would cost memory.
MAX_LINE_LENGTH = csv.field_size_limit()


def _format_characters() -> str:
    """Every invisible format character (Unicode category Cf), as the ranges of a regular
    expression class. They live in planes 0, 1 and 14; a test checks that against all of
    Unicode. Ranges rather than single characters: the re module tries the characters
    beyond plane 0 one by one."""
    planes = itertools.chain(range(0x20000), range(0xE0000, 0xE1000))
    codes = [code for code in planes if unicodedata.category(chr(code)) == "Cf"]
    ranges: list[list[int]] = []
    for code in codes:
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    return "".join(f"{re.escape(chr(first))}-{re.escape(chr(last))}" for first, last in ranges)


# Anything that may need a closer look: control characters (C0, DEL, C1), line and
# paragraph separators and format characters.
_SUSPECT = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029" + _format_characters() + "]")
# The lone surrogates that stand for bytes that were not UTF-8.
_UNDECODED = re.compile("[\udc80-\udcff]")
_LINE_BREAKS = frozenset("\r\n\u2028\u2029")


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


class ContactRow(NamedTuple):
    """One checked line: the contact and what it says about its account. The account
    fields are None where the cell is empty or the file has no such column."""

    line: int
    account_id: str
    contact_email: str
    contact_name: str | None
    role: str | None
    language: str
    account_name: str | None
    account_manager_email: str | None
    segment: str | None
    annual_revenue: Decimal | None
    status: str | None
    churned_at: datetime | None
    last_contacted_at: datetime | None
    customer_since: date | None


_new_row = partial(tuple.__new__, ContactRow)


@dataclass
class CheckedRows:
    """Good rows, as columns in the order of ContactRow's fields: the import stages them
    a column at a time."""

    columns: list[list]

    def __len__(self) -> int:
        return len(self.columns[0])

    def rows(self) -> list[ContactRow]:
        return list(map(_new_row, zip(*self.columns, strict=True)))


@dataclass
class Problems:
    """Every problem of a file counted, and the first ``MAX_ERRORS_SHOWN`` by line kept,
    so that a file with a problem on each of a million lines costs no more memory."""

    count: int = 0
    # lines refused by the checks of single rows (the import adds the lines it refuses)
    lines: int = 0
    _kept: list[RowError] = field(default_factory=list)

    def add(self, error: RowError) -> None:
        self.count += 1
        self._kept.append(error)
        if len(self._kept) >= 4 * MAX_ERRORS_SHOWN:
            self._trim()

    def add_counted(self, first: list[RowError], count: int) -> None:
        """The first of ``count`` problems found together (e.g. by one query)."""
        for error in first:
            self.add(error)
        self.count += count - len(first)

    @property
    def shown(self) -> list[RowError]:
        self._trim()
        return list(self._kept)

    def _trim(self) -> None:
        self._kept.sort(key=lambda error: (error.line, error.column or ""))
        del self._kept[MAX_ERRORS_SHOWN:]


@dataclass
class ParsedFile:
    """A small file read whole: its good rows and the problems of single rows."""

    columns: tuple[str, ...]
    rows: list[ContactRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


class CSVFileError(ValueError):
    """The file as a whole cannot be read (not UTF-8, no header, required column missing)."""


class TooManyRowsError(CSVFileError):
    """The file has more rows than the caller takes."""

    def __init__(self, limit: int):
        super().__init__(f"the file has more than {limit:,} rows")
        self.limit = limit


class ContactsFile:
    """A contacts CSV read from a binary stream: the header is read and checked when it is
    opened, then iterating gives the good rows and counts the problems of the bad ones in
    ``problems``. The stream is read through a text wrapper in small pieces and is left
    open. With ``max_rows``, a file with more rows raises ``TooManyRowsError``."""

    def __init__(self, source: IO[bytes], *, max_rows: int | None = None) -> None:
        self.max_rows = max_rows
        # Undecodable bytes become lone surrogates, so the line that has them is known.
        self._text = io.TextIOWrapper(
            source, encoding="utf-8-sig", errors="surrogateescape", newline=""
        )
        self.problems = Problems()
        try:
            self._read_header()
        except BaseException:
            self.close()
            raise

    def _read_header(self) -> None:
        lines = self._lines()
        first = next(lines, "")
        if not first.strip():
            raise CSVFileError("the file is empty: its first line must name the columns")
        delimiter = _guess_delimiter(first)
        self._reader = csv.reader(itertools.chain([first], lines), delimiter=delimiter, strict=True)
        try:
            header = [name.strip().lower().replace(" ", "_") for name in next(self._reader)]
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
        self.columns = tuple(name for name in header if name in COLUMNS)
        self._width = len(header)
        # The cells of a row in the order of COLUMNS; a column the file lacks reads the
        # empty cell appended after the row's own.
        self._pick = itemgetter(
            *(header.index(name) if name in header else len(header) for name in COLUMNS)
        )

    def close(self) -> None:
        """Let go of the stream without closing it."""
        self._text.detach()

    def __enter__(self) -> "ContactsFile":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _lines(self) -> Iterator[str]:
        for number in itertools.count(1):
            line = self._text.readline(MAX_LINE_LENGTH + 2)
            if not line:
                return
            if len(line) > MAX_LINE_LENGTH and line[-1] not in "\r\n":
                raise CSVFileError(
                    f"line {number} is longer than {MAX_LINE_LENGTH} characters; "
                    "is this a contacts CSV file?"
                )
            if not line.isascii() and _UNDECODED.search(line):
                raise CSVFileError(
                    f"line {number}: the file is not UTF-8; save it from your spreadsheet "
                    'as "CSV UTF-8" and import it again'
                )
            yield line

    def __iter__(self) -> Iterator[ContactRow]:
        for batch in self.batches():
            yield from batch.rows()

    def batches(self) -> Iterator[CheckedRows]:
        """The good rows, up to CHECKED_TOGETHER at a time."""
        reader, width, pick, problems = self._reader, self._width, self._pick, self.problems
        blank_when_empty = pick(list(range(width + 1)))[COLUMNS.index("account_id")]
        lines: list[int] = []
        records: list[tuple[str, ...]] = []
        line = 2
        read = 0  # rows read before this batch, but for those refused while reading
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as error:
                # The reader starts again on the next line.
                start, line = line, reader.line_num + 1
                problems.add(RowError(start, None, f"the line cannot be read ({error})"))
                problems.lines += 1
                continue
            start, line = line, reader.line_num + 1
            if len(cells) != width:
                if "".join(cells).strip():
                    problems.add(_width_error(start, len(cells), width))
                    problems.lines += 1
                continue
            cells.append("")
            # A row without an account may be blank: a spreadsheet's empty line.
            if not cells[blank_when_empty].strip() and not "".join(cells).strip():
                continue
            records.append(pick(cells))
            lines.append(start)
            if len(records) == CHECKED_TOGETHER:
                read += CHECKED_TOGETHER
                if self.max_rows is not None and read > self.max_rows:
                    raise TooManyRowsError(self.max_rows)
                yield _check_rows(lines, records, problems)
                lines, records = [], []
        if records:
            if self.max_rows is not None and read + len(records) > self.max_rows:
                raise TooManyRowsError(self.max_rows)
            yield _check_rows(lines, records, problems)


def read_contacts_csv(data: bytes) -> ParsedFile:
    """A small file's good rows and the problems of single rows, kept whole. The import
    streams instead, and also checks the rows against each other."""
    with ContactsFile(io.BytesIO(data)) as contacts:
        rows = list(contacts)
        return ParsedFile(columns=contacts.columns, rows=rows, errors=contacts.problems.shown)


def _width_error(line: int, fields: int, width: int) -> RowError:
    hint = (
        "is a value with a separator in it missing its quotes?"
        if fields > width
        else "is a value with a line break in it missing its quotes?"
    )
    return RowError(line, None, f"has {fields} fields but the header names {width}; {hint}")


def _guess_delimiter(header_line: str) -> str:
    """The separator is the one that splits the header into the most known column names."""

    def known_names(delimiter: str) -> int:
        names = [name.strip().strip('"').lower() for name in header_line.split(delimiter)]
        return sum(name in COLUMNS for name in names)

    return max((",", ";", "\t"), key=known_names)


# Rows are checked this many at a time, a column at a time.
CHECKED_TOGETHER = 1000


class Problem(str):
    """What a cell's parser gives instead of a value: why the cell is refused."""


def _check_rows(
    lines: list[int], records: list[tuple[str, ...]], problems: Problems
) -> CheckedRows:
    """The good rows of a batch; the problems of the bad ones go to ``problems``.

    ``records`` are the rows' cells in the order of COLUMNS. The checks below each run
    over a whole column with built-in functions and cached parsers, in a fraction of the
    time that checking the rows one by one takes. A row that any of them cannot vouch for
    is checked again on its own by ``_check_row``, which has the last word and writes the
    messages; a test holds the two to the same results."""
    doubtful: set[int] = set()

    def doubt(values: list, unless) -> None:
        doubtful.update(index for index, value in enumerate(values) if not unless(value))

    if not "".join(itertools.chain.from_iterable(records)).isprintable():
        doubt(records, lambda record: "".join(record).isprintable())
    columns = [list(map(str.strip, column)) for column in zip(*records, strict=True)]
    if "" in columns[0]:
        doubt(columns[0], bool)
    for column, limit in MAX_LENGTHS.items():
        values = columns[COLUMNS.index(column)]
        if max(map(len, values)) > limit:
            doubt(values, lambda value, limit=limit: len(value) <= limit)
    emails = plain_addresses(columns[COLUMNS.index("contact_email")])
    if None in emails:
        doubt(emails, bool)
    parsed = {
        column: list(map(parse, columns[COLUMNS.index(column)])) for column, parse in _PARSERS
    }
    for values in parsed.values():
        if Problem in set(map(type, values)):
            doubt(values, lambda value: type(value) is not Problem)
    statuses, churned = parsed["status"], parsed["churned_at"]
    if "active" in statuses and any(churned):
        doubt(
            list(zip(statuses, churned, strict=True)),
            lambda pair: not (pair[0] == "active" and pair[1]),
        )
    since = parsed["customer_since"]
    if any(since) and any(churned):
        doubt(list(zip(since, churned, strict=True)), lambda pair: not _after_churn(*pair))

    def text(column: str) -> list[str | None]:
        return [value or None for value in columns[COLUMNS.index(column)]]

    checked = [
        lines,
        columns[0],
        emails,
        text("contact_name"),
        parsed["role"],
        parsed["language"],
        text("account_name"),
        parsed["account_manager_email"],
        text("segment"),
        parsed["annual_revenue"],
        statuses,
        churned,
        parsed["last_contacted_at"],
        since,
    ]
    refused = set()
    for index in sorted(doubtful):
        row = _check_row(lines[index], [column[index] for column in columns])
        if type(row) is ContactRow:
            for values, value in zip(checked, row, strict=True):
                values[index] = value
            continue
        for error in row:
            problems.add(error)
        problems.lines += 1
        refused.add(index)
    if refused:
        keep = [index not in refused for index in range(len(lines))]
        checked = [list(itertools.compress(values, keep)) for values in checked]
    return CheckedRows(checked)


def _check_row(line: int, values: list[str]) -> ContactRow | list[RowError]:
    """The row, or its problems. ``values`` are its trimmed cells in the order of COLUMNS
    ("" where the file has no such column)."""
    (
        account_id,
        account_name,
        contact_email,
        contact_name,
        role,
        language,
        account_manager_email,
        segment,
        annual_revenue,
        status,
        churned_at,
        last_contacted_at,
        customer_since,
    ) = values
    errors: list[RowError] = []

    def checked(column: str, value: object) -> object:
        if type(value) is Problem:
            errors.append(RowError(line, column, value))
            return None
        return value

    joined = "".join(values)
    if not joined.isprintable() and _SUSPECT.search(joined):
        for column, value in zip(COLUMNS, values, strict=True):
            checked(column, _hostile_character(value, column in HEADER_COLUMNS))
        if errors:
            return errors
    for column, limit in MAX_LENGTHS.items():
        if len(values[COLUMNS.index(column)]) > limit:
            checked(column, Problem(f"is longer than {limit} characters"))
    if not account_id:
        checked("account_id", Problem("is empty; every contact belongs to an account"))
    if contact_email:
        contact_email = checked("contact_email", _address(contact_email))
    else:
        checked("contact_email", Problem("is empty; every contact needs an e-mail address"))
    role = checked("role", _role(role))
    language = checked("language", _language(language))
    account_manager_email = checked("account_manager_email", _manager(account_manager_email))
    annual_revenue = checked("annual_revenue", _amount(annual_revenue))
    status = checked("status", _status(status))
    churned_at = checked("churned_at", _moment(churned_at))
    last_contacted_at = checked("last_contacted_at", _moment(last_contacted_at))
    customer_since = checked("customer_since", _day(customer_since))
    if churned_at and status == "active":
        checked(
            "churned_at",
            Problem("is set but status is active; an active account has not churned"),
        )
    if _after_churn(customer_since, churned_at):
        checked(
            "customer_since",
            Problem(
                f"{customer_since.isoformat()} is after churned_at "
                f"({churned_at.date().isoformat()}); an account is a customer before it leaves"
            ),
        )
    if errors:
        return errors
    return ContactRow(
        line,
        account_id,
        contact_email,
        contact_name or None,
        role,
        language,
        account_name or None,
        account_manager_email,
        segment or None,
        annual_revenue,
        status,
        churned_at,
        last_contacted_at,
        customer_since,
    )


def _hostile_character(value: str, header: bool) -> Problem | None:
    """Why ``value`` cannot be stored: a control or invisible character, or in a value
    that reaches a mail header or URL (``header``) a line break or tab."""
    for character in value:
        if not _SUSPECT.match(character):
            continue
        if character in _LINE_BREAKS:
            if header:
                return Problem("contains a line break")
            continue
        if character == "\t":
            if header:
                return Problem("contains a tab")
            continue
        code = f"U+{ord(character):04X}"
        if character == "\x00":
            return Problem(f"contains a NUL character ({code})")
        if unicodedata.category(character) == "Cf":
            name = unicodedata.name(character, "")
            return Problem(
                f"contains an invisible character {code}" + (f" ({name})" if name else "")
            )
        return Problem(f"contains a control character {code}")
    return None


def _shown(value: str) -> str:
    """A cell quoted for a message, cut short if it is long."""
    return repr(value if len(value) <= 80 else value[:77] + "...")


# The parsers of single cells. Each takes the trimmed cell and gives its value (None for
# an empty cell) or a Problem. Most of them see the same few values again and again, so
# they remember them.


def _address(value: str) -> str | Problem:
    """The stored form of an e-mail address."""
    try:
        address = normalise_address(value)
    except InvalidAddressError as reason:
        return Problem(f"{_shown(value)} is not a valid e-mail address ({reason})")
    if len(address) > MAX_EMAIL_LENGTH:
        return Problem(f"is longer than {MAX_EMAIL_LENGTH} characters")
    return address


@lru_cache(maxsize=1024)
def _manager(value: str) -> str | Problem | None:
    """An account manager's address: one of a few, on many rows."""
    return _address(value) if value else None


def _choice(value: str, allowed: tuple[str, ...]) -> str | Problem | None:
    if value in allowed or not value:
        return value or None
    cleaned = re.sub(r"[\s-]+", "_", value.lower())
    if cleaned not in allowed:
        return Problem(f"{_shown(value)} is not one of {', '.join(allowed)}")
    return cleaned


@lru_cache(maxsize=256)
def _role(value: str) -> str | Problem | None:
    return _choice(value, ROLES)


@lru_cache(maxsize=256)
def _status(value: str) -> str | Problem | None:
    return _choice(value, ACCOUNT_STATUSES)


@lru_cache(maxsize=256)
def _language(value: str) -> str | Problem:
    """The contact's language; English where the cell is empty."""
    cleaned = value.lower()
    cleaned = LANGUAGE_ALIASES.get(cleaned, cleaned)
    if not cleaned:
        return "en"
    if cleaned not in LANGUAGES:
        return Problem(f"{_shown(value)} is not one of {', '.join(LANGUAGES)}")
    return cleaned


@lru_cache(maxsize=1024)
def _amount(value: str) -> Decimal | Problem | None:
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
        return Problem(f"{_shown(value)} is not a number")
    if not amount.is_finite() or amount < 0:
        return Problem(f"{_shown(value)} is not a positive number")
    if amount >= Decimal("1e14"):
        return Problem(f"{_shown(value)} is too large")
    return amount.quantize(Decimal("0.01"))


@lru_cache(maxsize=1024)
def _moment(value: str) -> datetime | Problem | None:
    """An ISO date ("2026-03-01", midnight UTC) or date and time (UTC unless it says)."""
    if not value:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        moment = datetime.fromisoformat(value)
    except ValueError:
        return Problem(f"{_shown(value)} is not an ISO date like 2026-03-31")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@lru_cache(maxsize=1024)
def _day(value: str) -> date | Problem | None:
    """A day written as 2019-04-01, in ASCII digits (``date.fromisoformat`` also takes
    "20190401" and week dates, which nobody means here)."""
    if not value:
        return None
    try:
        if _ISO_DATE.fullmatch(value):
            return date.fromisoformat(value)
    except ValueError:
        pass
    return Problem(f"{_shown(value)} is not an ISO date like 2019-04-01")


def _after_churn(since: object, churned_at: object) -> bool:
    """Whether a customer_since falls after the day the account churned (UTC)."""
    return (
        type(since) is date
        and isinstance(churned_at, datetime)
        and since > churned_at.astimezone(UTC).date()
    )


# The columns that _check_rows parses a column at a time.
_PARSERS = (
    ("role", _role),
    ("language", _language),
    ("account_manager_email", _manager),
    ("annual_revenue", _amount),
    ("status", _status),
    ("churned_at", _moment),
    ("last_contacted_at", _moment),
    ("customer_since", _day),
)
