"""Accounts and contacts: the import upsert and the look-ups the pages need."""

import hashlib
import itertools
import logging
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from operator import methodcaller
from typing import IO

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from surveys.accounts.csv_import import (
    ACCOUNT_COLUMNS,
    MAX_ERRORS_SHOWN,
    ContactRow,
    ContactsFile,
    Problems,
    RowError,
)
from surveys.accounts.models import NOTE_MAX_LENGTH, Account, AccountTouch, Contact, Suppression
from surveys.auth.access import Scope, visible_account_ids, visible_accounts
from surveys.columns import UTCDateTime, utcnow
from surveys.respond.forms import CONTROL_CHARACTER

logger = logging.getLogger(__name__)

# SQLite's page caches (main and temporary databases) during an import, in KiB each.
IMPORT_PAGE_CACHE_KIB = 32 * 1024

# The CSV's account columns and the attributes they set.
ACCOUNT_ATTRIBUTES = {
    "account_name": "name",
    "account_manager_email": "account_manager_email",
    "segment": "segment",
    "annual_revenue": "annual_revenue",
    "status": "status",
    "churned_at": "churned_at",
    "last_contacted_at": "last_contacted_at",
    "customer_since": "customer_since",
}

# The good rows of a file are staged in temporary tables of the import's own connection
# (on SQLite in its temporary database, so the staging takes no lock on the main one),
# then checked against each other and written with a few set-based statements, so memory
# stays the same whatever the size of the file. Each row's contact is staged; its account
# columns only when it fills one, which in most files is the account's first row.
# PostgreSQL drops the tables at the end of the transaction whatever happens; SQLite runs
# DDL outside the transaction, so they are dropped by name.
_staging = sa.MetaData()


def _staging_table(name: str, *columns: sa.Column) -> sa.Table:
    return sa.Table(name, _staging, *columns, prefixes=["TEMPORARY"], postgresql_on_commit="drop")


# in the order of ACCOUNT_COLUMNS and ContactRow
_ACCOUNT_VALUES = (
    sa.Column("account_name", sa.String(200)),
    sa.Column("account_manager_email", sa.String(254)),
    sa.Column("segment", sa.String(100)),
    sa.Column("annual_revenue", sa.Numeric(16, 2)),
    sa.Column("status", sa.String(16)),
    sa.Column("churned_at", UTCDateTime),
    sa.Column("last_contacted_at", UTCDateTime),
    sa.Column("customer_since", sa.Date),
)
_staged_contacts = _staging_table(
    "staged_contacts",
    # ContactRow's first fields, then the address's hash
    sa.Column("line", sa.Integer, primary_key=True),
    sa.Column("account_id", sa.String(64), nullable=False),
    sa.Column("contact_email", sa.String(254), nullable=False),
    sa.Column("contact_name", sa.String(200)),
    sa.Column("role", sa.String(20)),
    sa.Column("language", sa.String(2), nullable=False),
    sa.Column("email_hash", sa.String(64), nullable=False),
)
_staged_contacts_by_contact = sa.Index(
    "ix_staged_contacts_contact",
    _staged_contacts.c.account_id,
    _staged_contacts.c.contact_email,
)
_staged_account_rows = _staging_table(
    "staged_account_rows",
    sa.Column("line", sa.Integer, primary_key=True),
    sa.Column("account_id", sa.String(64), nullable=False),
    *(column._copy() for column in _ACCOUNT_VALUES),
)
_staged_accounts = _staging_table(
    "staged_accounts",
    sa.Column("account_id", sa.String(64), primary_key=True),
    *(column._copy() for column in _ACCOUNT_VALUES),
)
_refused_lines = _staging_table("refused_lines", sa.Column("line", sa.Integer, nullable=False))
_STAGING = (_staged_contacts, _staged_account_rows, _staged_accounts, _refused_lines)


class ImportRejectedError(Exception):
    """The file has bad rows and nothing was written."""

    def __init__(self, errors: list[RowError], count: int):
        super().__init__(f"{count} problem(s) in the file")
        # the first MAX_ERRORS_SHOWN problems, by line, of ``count``
        self.errors = errors
        self.count = count


@dataclass
class ImportResult:
    accounts: Counter = field(default_factory=Counter)
    contacts: Counter = field(default_factory=Counter)
    # the first MAX_ERRORS_SHOWN problems of the rows skipped, by line
    skipped: list[RowError] = field(default_factory=list)
    problem_count: int = 0
    skipped_rows: int = 0

    def summary(self) -> str:
        def part(noun: str, counts: Counter) -> str:
            return (
                f"{noun}: {counts['created']} created, {counts['updated']} updated, "
                f"{counts['unchanged']} unchanged"
            )

        return f"{part('accounts', self.accounts)}; {part('contacts', self.contacts)}"


def email_hash(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def _email_hashes(addresses: Iterable[str]) -> Iterator[str]:
    """``email_hash`` of each stored (trimmed, lower-case) address, by built-ins alone."""
    return map(methodcaller("hexdigest"), map(hashlib.sha256, map(str.encode, addresses)))


def import_contacts_csv(
    session: Session,
    source: IO[bytes],
    *,
    skip_invalid: bool = False,
    max_rows: int | None = None,
    now: datetime | None = None,
) -> ImportResult:
    """Upsert accounts by account_id and contacts by (account, e-mail) from the CSV read
    from the binary stream ``source``, in one transaction, and commit.

    A file with any bad row is rejected whole (``ImportRejectedError``) and nothing is
    written, unless ``skip_invalid``, which imports the good rows and reports the rest in
    ``result.skipped``. A file that cannot be read at all raises ``CSVFileError``, one with
    more than ``max_rows`` rows ``TooManyRowsError``.
    """
    now = now or utcnow()
    connection = session.connection()
    try:
        with _page_caches(connection):
            _create_staging(connection)
            with ContactsFile(source, max_rows=max_rows) as contacts:
                _stage(connection, contacts)
            problems = contacts.problems
            account_columns = [column for column in ACCOUNT_COLUMNS if column in contacts.columns]
            _stage_accounts(connection, account_columns)
            repeated = _check_across_rows(connection, account_columns, problems)
            if problems.count and not skip_invalid:
                raise ImportRejectedError(problems.shown, problems.count)
            if _leave_out(connection, problems, repeated=repeated):
                _stage_accounts(connection, account_columns)
            result = _write(connection, account_columns, now)
            for table in _STAGING:
                connection.execute(sa.schema.DropTable(table))
    except BaseException:
        session.rollback()
        raise
    session.commit()
    result.skipped = problems.shown
    result.problem_count = problems.count
    result.skipped_rows = problems.lines
    logger.info(
        "contacts import: accounts %s, contacts %s, %d rows skipped",
        dict(result.accounts),
        dict(result.contacts),
        result.skipped_rows,
    )
    return result


@contextmanager
def _page_caches(connection: sa.Connection) -> Iterator[None]:
    """SQLite keeps 2 MB of pages a database, and an import of 100,000 rows writes some
    15 MB of staging and 20 MB of contacts and their indexes: with room for more of them,
    it spends about a tenth less time. Bounded, so memory still does not grow with the
    file; the connection goes back to the pool with its usual caches."""
    if connection.dialect.name != "sqlite":
        yield
        return
    usual = {
        database: connection.exec_driver_sql(f"PRAGMA {database}.cache_size").scalar()
        for database in ("main", "temp")
    }
    for database in usual:
        connection.exec_driver_sql(f"PRAGMA {database}.cache_size = -{IMPORT_PAGE_CACHE_KIB}")
    try:
        yield
    finally:
        for database, size in usual.items():
            connection.exec_driver_sql(f"PRAGMA {database}.cache_size = {int(size)}")


def _create_staging(connection: sa.Connection) -> None:
    if connection.dialect.name == "sqlite":
        # What a refused import on this connection left behind.
        for table in _STAGING:
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{table.name}")
    for table in _STAGING:
        connection.execute(sa.schema.CreateTable(table))


def _stage(connection: sa.Connection, contacts: ContactsFile) -> None:
    """Every good row into the staging tables, a batch at a time.

    The rows go to the driver as they are, with the values converted as SQLAlchemy would
    (dates and amounts; each distinct value once): SQLAlchemy's own executemany spends
    more time per row than reading and checking the row does. Like the checks, the rows
    are put together a column at a time, with built-in functions."""
    dialect = connection.dialect
    fields = ContactRow._fields
    line, account_id, contact_email = map(fields.index, ("line", "account_id", "contact_email"))
    first_account_field = fields.index("account_name")
    converters = [
        (index, lru_cache(maxsize=1024)(converter))
        for index, column in enumerate(_staged_account_rows.columns)
        if (converter := column.type.bind_processor(dialect)) is not None
    ]
    no_account_values = (None,) * len(ACCOUNT_COLUMNS)
    for batch in contacts.batches():
        if not len(batch):
            continue
        columns = batch.columns
        hashes = _email_hashes(columns[contact_email])
        contact_rows = list(zip(*columns[:first_account_field], hashes, strict=True))
        _write_rows(connection, _staged_contacts, contact_rows)
        # the rows that give their account a value: line, account_id and the values
        account_columns = columns[first_account_field:]
        given = list(map(no_account_values.__ne__, zip(*account_columns, strict=True)))
        if any(given):
            staged = [
                list(itertools.compress(values, given))
                for values in (columns[line], columns[account_id], *account_columns)
            ]
            for index, convert in converters:
                staged[index] = list(map(convert, staged[index]))
            _write_rows(connection, _staged_account_rows, list(zip(*staged, strict=True)))
    connection.execute(sa.schema.CreateIndex(_staged_contacts_by_contact))


def _write_rows(connection: sa.Connection, table: sa.Table, rows: list[tuple]) -> None:
    """Rows of all ``table``'s columns in their order, by the driver: on PostgreSQL by
    COPY, which takes a tenth of the time of psycopg's executemany; elsewhere by
    executemany."""
    names = ", ".join(table.columns.keys())
    if connection.dialect.name == "postgresql":
        with connection.connection.dbapi_connection.cursor() as cursor:
            with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    markers = ", ".join([marker] * len(table.columns))
    connection.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({markers})", rows)


def _stage_accounts(connection: sa.Connection, account_columns: list[str]) -> None:
    """What the file says about each of its accounts, from the staged rows: a value given
    on any of them, None where all leave the cell empty. (Where rows disagree, the
    greatest value; such rows are refused.)"""
    rows, staged, contacts = _staged_account_rows, _staged_accounts, _staged_contacts
    connection.execute(sa.delete(staged))
    connection.execute(
        sa.insert(staged).from_select(
            ["account_id", *account_columns],
            sa.select(
                rows.c.account_id, *(sa.func.max(rows.c[column]) for column in account_columns)
            ).group_by(rows.c.account_id),
        )
    )
    connection.execute(
        sa.insert(staged).from_select(
            ["account_id"],
            sa.select(contacts.c.account_id)
            .where(~sa.exists().where(staged.c.account_id == contacts.c.account_id))
            .distinct(),
        )
    )


def _check_across_rows(
    connection: sa.Connection, account_columns: list[str], problems: Problems
) -> bool:
    """What single rows cannot tell: rows of one account that give it different values,
    and a contact given again with other details. Each later row that disagrees with the
    first is a problem, its line noted in ``refused_lines``. True when a contact (account
    and address) is on more than one row."""
    rows, account_rows, staged = _staged_contacts, _staged_account_rows, _staged_accounts
    # A row whose value differs from its account's greatest.
    disagreeing = (
        sa.select(account_rows.c.line)
        .join(staged, staged.c.account_id == account_rows.c.account_id)
        .where(
            sa.or_(
                sa.false(),
                *(account_rows.c[column] != staged.c[column] for column in account_columns),
            )
        )
    )
    if _any(disagreeing, connection):
        for column in account_columns:
            _report(connection, _disagreements(column), problems)
    repeated = _any(
        sa.select(rows.c.account_id)
        .group_by(rows.c.account_id, rows.c.contact_email)
        .having(sa.func.count() > 1),
        connection,
    )
    if repeated:
        _report(connection, _contacts_given_again(), problems)
    return repeated


def _leave_out(connection: sa.Connection, problems: Problems, *, repeated: bool) -> int:
    """Unstage the refused rows, and the later rows of a contact that are left (which
    repeat its first); returns how many rows were refused."""
    refused = sa.select(_refused_lines.c.line)
    removed = 0
    if _any(refused, connection):
        account_rows, rows = _staged_account_rows, _staged_contacts
        connection.execute(sa.delete(account_rows).where(account_rows.c.line.in_(refused)))
        removed = connection.execute(sa.delete(rows).where(rows.c.line.in_(refused))).rowcount
        problems.lines += removed
    if repeated:
        rows = _staged_contacts
        first_lines = sa.select(sa.func.min(rows.c.line)).group_by(
            rows.c.account_id, rows.c.contact_email
        )
        connection.execute(sa.delete(rows).where(rows.c.line.not_in(first_lines)))
    return removed


def _any(query: sa.Select, connection: sa.Connection) -> bool:
    return connection.execute(query.limit(1)).first() is not None


def _disagreements(column: str) -> sa.Select:
    """Rows whose ``column`` differs from the first value given for their account."""
    rows = _staged_account_rows
    later, earlier = rows.alias("later"), rows.alias("earlier")
    first = (
        sa.select(rows.c.account_id, sa.func.min(rows.c.line).label("line"))
        .where(rows.c[column].is_not(None))
        .group_by(rows.c.account_id)
        .subquery()
    )
    return (
        sa.select(
            later.c.line,
            sa.literal(column).label("column"),
            later.c.account_id,
            later.c[column].label("value"),
            earlier.c.line.label("first_line"),
            earlier.c[column].label("first_value"),
        )
        .join_from(later, first, first.c.account_id == later.c.account_id)
        .join(earlier, earlier.c.line == first.c.line)
        .where(later.c[column].is_not(None), later.c[column] != earlier.c[column])
    )


def _contacts_given_again() -> sa.Select:
    """Later rows of a contact (account and address) whose details differ from its first."""
    rows = _staged_contacts
    later, earlier = rows.alias("later"), rows.alias("earlier")
    first = (
        sa.select(rows.c.account_id, rows.c.contact_email, sa.func.min(rows.c.line).label("line"))
        .group_by(rows.c.account_id, rows.c.contact_email)
        .having(sa.func.count() > 1)
        .subquery()
    )
    return (
        sa.select(
            later.c.line,
            sa.literal("contact_email").label("column"),
            later.c.account_id,
            later.c.contact_email.label("value"),
            earlier.c.line.label("first_line"),
        )
        .join_from(
            later,
            first,
            sa.and_(
                first.c.account_id == later.c.account_id,
                first.c.contact_email == later.c.contact_email,
            ),
        )
        .join(earlier, earlier.c.line == first.c.line)
        .where(
            later.c.line != earlier.c.line,
            sa.or_(
                later.c.contact_name.is_distinct_from(earlier.c.contact_name),
                later.c.role.is_distinct_from(earlier.c.role),
                later.c.language != earlier.c.language,
            ),
        )
    )


def _report(connection: sa.Connection, found: sa.Select, problems: Problems) -> None:
    """Count the rows ``found``, keep the first for the messages and note their lines."""
    first = connection.execute(
        found.order_by(found.selected_columns.line).limit(MAX_ERRORS_SHOWN)
    ).all()
    count = connection.scalar(sa.select(sa.func.count()).select_from(found.subquery()))
    problems.add_counted([_problem(row) for row in first], count or 0)
    connection.execute(
        sa.insert(_refused_lines).from_select(["line"], sa.select(found.subquery().c.line))
    )


def _problem(row: sa.Row) -> RowError:
    if row.column == "contact_email":
        message = (
            f"{row.value} appears again for account {row.account_id} with other details "
            f"(first on line {row.first_line})"
        )
    else:
        message = (
            f"{_shown(row.value)} differs from {_shown(row.first_value)} on line "
            f"{row.first_line} for account {row.account_id}"
        )
    return RowError(row.line, row.column, message)


def _shown(value: object) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    return repr(str(value))


def _write(connection: sa.Connection, account_columns: list[str], now: datetime) -> ImportResult:
    """The staged accounts (whose rows agree) and contacts: what exists is updated where
    it differs, then what is new is inserted, each by one set-based statement. Contacts
    are updated before the new accounts exist, so that their rows are not looked at."""
    result = ImportResult()
    accounts_in_file = connection.scalar(sa.select(sa.func.count()).select_from(_staged_accounts))
    contacts_in_file = connection.scalar(sa.select(sa.func.count()).select_from(_staged_contacts))
    result.accounts["updated"] = _update_accounts(connection, account_columns, now)
    result.contacts["updated"] = _update_contacts(connection, now)
    result.accounts["created"] = _insert_accounts(connection, account_columns, now)
    result.contacts["created"] = _insert_contacts(connection, now)
    for counts, in_file in (
        (result.accounts, accounts_in_file),
        (result.contacts, contacts_in_file),
    ):
        counts["unchanged"] = (in_file or 0) - counts["created"] - counts["updated"]
    return result


def _update_accounts(connection: sa.Connection, account_columns: list[str], now: datetime) -> int:
    accounts, staged = Account.__table__, _staged_accounts
    # An empty name or status keeps the stored one; any other empty column clears it.
    values = {}
    for column in account_columns:
        attribute = ACCOUNT_ATTRIBUTES[column]
        value = staged.c[column]
        if attribute in ("name", "status"):
            value = sa.func.coalesce(value, accounts.c[attribute])
        values[attribute] = value
    if not values:
        return 0
    changed = sa.or_(*(accounts.c[name].is_distinct_from(value) for name, value in values.items()))
    statement = (
        sa.update(accounts)
        .where(accounts.c.external_id == staged.c.account_id, changed)
        .values(**values, updated_at=now)
    )
    return connection.execute(statement).rowcount


def _update_contacts(connection: sa.Connection, now: datetime) -> int:
    accounts, contacts, rows = Account.__table__, Contact.__table__, _staged_contacts
    changed = sa.or_(
        contacts.c.name.is_distinct_from(rows.c.contact_name),
        contacts.c.role.is_distinct_from(rows.c.role),
        contacts.c.language != rows.c.language,
    )
    statement = (
        sa.update(contacts)
        .where(
            accounts.c.external_id == rows.c.account_id,
            contacts.c.account_id == accounts.c.id,
            contacts.c.email == rows.c.contact_email,
            changed,
        )
        .values(
            name=rows.c.contact_name, role=rows.c.role, language=rows.c.language, updated_at=now
        )
    )
    return connection.execute(statement).rowcount


def _insert_accounts(connection: sa.Connection, account_columns: list[str], now: datetime) -> int:
    accounts, staged = Account.__table__, _staged_accounts
    values = {
        ACCOUNT_ATTRIBUTES[column]: staged.c[column]
        for column in account_columns
        if column not in ("account_name", "status")
    }
    values["name"] = (
        sa.func.coalesce(staged.c.account_name, staged.c.account_id)
        if "account_name" in account_columns
        else staged.c.account_id
    )
    values["status"] = (
        sa.func.coalesce(staged.c.status, "active")
        if "status" in account_columns
        else sa.literal("active")
    )
    new = sa.select(
        staged.c.account_id,
        *values.values(),
        sa.literal(now, UTCDateTime),
        sa.literal(now, UTCDateTime),
    ).where(~sa.exists().where(accounts.c.external_id == staged.c.account_id))
    statement = sa.insert(accounts).from_select(
        ["external_id", *values, "created_at", "updated_at"], new
    )
    return connection.execute(statement.execution_options(preserve_rowcount=True)).rowcount


def _insert_contacts(connection: sa.Connection, now: datetime) -> int:
    """New contacts; one whose address was unsubscribed before stays unsubscribed."""
    accounts, contacts, rows = Account.__table__, Contact.__table__, _staged_contacts
    new = (
        sa.select(
            accounts.c.id,
            rows.c.contact_email,
            rows.c.contact_name,
            rows.c.role,
            rows.c.language,
            Suppression.created_at,
            sa.literal(now, UTCDateTime),
            sa.literal(now, UTCDateTime),
        )
        .join_from(rows, accounts, accounts.c.external_id == rows.c.account_id)
        .outerjoin(Suppression, Suppression.email_hash == rows.c.email_hash)
        .where(
            ~sa.exists().where(
                contacts.c.account_id == accounts.c.id, contacts.c.email == rows.c.contact_email
            )
        )
    )
    statement = sa.insert(contacts).from_select(
        ["account_id", "email", "name", "role", "language", "unsubscribed_at"]
        + ["created_at", "updated_at"],
        new,
    )
    return connection.execute(statement.execution_options(preserve_rowcount=True)).rowcount


def unsubscribe_address(session: Session, email: str, now: datetime) -> int:
    """Never mail this address again, at any account; returns how many contacts it had.
    Flushes; the caller's service commits."""
    hashed = email_hash(email)
    if session.scalar(sa.select(Suppression.id).where(Suppression.email_hash == hashed)) is None:
        session.add(Suppression(email_hash=hashed, created_at=now))
    contacts = session.scalars(
        sa.select(Contact).where(Contact.email == email, Contact.unsubscribed_at.is_(None))
    ).all()
    for contact in contacts:
        contact.unsubscribed_at = now
    session.flush()
    return len(contacts)


def get_account(session: Session, external_id: str, *, scope: Scope) -> Account | None:
    """The account with this account_id if ``scope`` may see it, with its contacts."""
    return session.scalar(
        visible_accounts(scope)
        .where(Account.external_id == external_id)
        .options(selectinload(Account.contacts))
    )


def visible_contacts(scope: Scope) -> sa.Select:
    """The contacts (not erased) of the accounts ``scope`` sees, with their account."""
    return (
        sa.select(Contact)
        .where(Contact.erased_at.is_(None), Contact.account_id.in_(visible_account_ids(scope)))
        .options(selectinload(Contact.account))
    )


def get_contact(session: Session, contact_id: int, *, scope: Scope) -> Contact | None:
    """The contact if ``scope`` may see its account, and it is not erased."""
    return session.scalar(visible_contacts(scope).where(Contact.id == contact_id))


class NoteError(ValueError):
    """A staff note that cannot be stored; the message says why."""


def clean_note(text: str | None) -> str | None:
    """A staff note as stored: one kind of line break, trimmed, None when empty; raises
    ``NoteError`` for one that is too long or holds a control character (the forms say
    the same first, beside the field)."""
    text = (text or "").replace("\r\n", "\n").strip()
    if len(text) > NOTE_MAX_LENGTH:
        raise NoteError(
            f"The note has {len(text):,} characters; a note can have at most {NOTE_MAX_LENGTH:,}."
        )
    found = CONTROL_CHARACTER.search(text)
    if found:
        raise NoteError(
            f"The note contains a character that cannot be stored (U+{ord(found.group()):04X})."
        )
    return text or None


def record_touch(
    session: Session,
    external_id: str,
    *,
    scope: Scope,
    user_id: int | None,
    note: str | None,
    now: datetime,
) -> Account | None:
    """The account's manager was in touch now ("Contacted today"), with an optional note;
    None when ``scope`` does not see the account, ``NoteError`` for a note that cannot
    be stored. Flushes."""
    note = clean_note(note)
    account = session.scalar(visible_accounts(scope).where(Account.external_id == external_id))
    if account is None:
        return None
    account.last_contacted_at = now
    session.add(AccountTouch(account_id=account.id, user_id=user_id, at=now, note=note))
    session.flush()
    return account


def recent_touches(
    session: Session, account: Account, *, scope: Scope, limit: int = 10
) -> list[AccountTouch]:
    """The account's latest touches, newest first, if ``scope`` sees the account."""
    return list(
        session.scalars(
            sa.select(AccountTouch)
            .where(
                AccountTouch.account_id == account.id,
                AccountTouch.account_id.in_(visible_account_ids(scope)),
            )
            .order_by(AccountTouch.at.desc(), AccountTouch.id.desc())
            .limit(limit)
        )
    )
