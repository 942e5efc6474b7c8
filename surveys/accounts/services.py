"""Accounts and contacts: the import upsert and the look-ups the pages need."""

import hashlib
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from surveys.accounts.csv_import import ContactRow, ParsedFile, RowError, read_contacts_csv
from surveys.accounts.models import Account, Contact, Suppression

logger = logging.getLogger(__name__)

# The CSV's account columns and the attributes they set.
ACCOUNT_ATTRIBUTES = {
    "account_name": "name",
    "account_manager_email": "account_manager_email",
    "segment": "segment",
    "annual_revenue": "annual_revenue",
    "status": "status",
    "churned_at": "churned_at",
    "last_contacted_at": "last_contacted_at",
}
# Ids per IN (...) list; SQLite allows 32 766 parameters, PostgreSQL 65 535.
CHUNK = 5000


class ImportRejectedError(Exception):
    """The file has bad rows and nothing was written."""

    def __init__(self, errors: list[RowError]):
        super().__init__(f"{len(errors)} problem(s) in the file")
        self.errors = errors


@dataclass
class ImportResult:
    accounts: Counter = field(default_factory=Counter)
    contacts: Counter = field(default_factory=Counter)
    skipped: list[RowError] = field(default_factory=list)

    def summary(self) -> str:
        def part(noun: str, counts: Counter) -> str:
            return (
                f"{noun}: {counts['created']} created, {counts['updated']} updated, "
                f"{counts['unchanged']} unchanged"
            )

        return f"{part('accounts', self.accounts)}; {part('contacts', self.contacts)}"


def email_hash(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def import_contacts_csv(
    session: Session, data: bytes, *, skip_invalid: bool = False
) -> ImportResult:
    """Upsert accounts by account_id and contacts by (account, e-mail), in one transaction.

    A file with any bad row is rejected whole (``ImportRejectedError``) unless ``skip_invalid``,
    which imports the good rows and reports the rest in ``result.skipped``. A file that
    cannot be read at all raises ``CSVFileError``.
    """
    parsed = read_contacts_csv(data)
    if parsed.errors and not skip_invalid:
        raise ImportRejectedError(parsed.errors)
    result = _upsert(session, parsed)
    result.skipped = parsed.errors
    session.commit()
    logger.info(
        "contacts import: accounts %s, contacts %s, %d rows skipped",
        dict(result.accounts),
        dict(result.contacts),
        len(parsed.bad_lines),
    )
    return result


def _upsert(session: Session, parsed: ParsedFile) -> ImportResult:
    result = ImportResult()
    bad_lines = parsed.bad_lines
    rows = [row for row in parsed.rows if row.line not in bad_lines]
    by_account: dict[str, list[ContactRow]] = {}
    for row in rows:
        by_account.setdefault(row.account_id, []).append(row)

    external_ids = list(by_account)
    accounts: dict[str, Account] = {}
    for start in range(0, len(external_ids), CHUNK):
        chunk = external_ids[start : start + CHUNK]
        found = session.scalars(
            sa.select(Account)
            .where(Account.external_id.in_(chunk))
            .options(selectinload(Account.contacts))
        )
        accounts.update((account.external_id, account) for account in found)
    suppressed = _suppressed_hashes(session, {row.contact_email for row in rows})

    for external_id, account_rows in by_account.items():
        values = _account_values(parsed.columns, account_rows)
        account = accounts.get(external_id)
        if account is None:
            account = Account(external_id=external_id, contacts=[])
            values.setdefault("name", external_id)
            values.setdefault("status", "active")
            _apply(account, values)
            session.add(account)
            result.accounts["created"] += 1
        else:
            if values.get("name") is None:
                values.pop("name", None)
            if values.get("status") is None:
                values.pop("status", None)
            result.accounts["updated" if _apply(account, values) else "unchanged"] += 1

        existing = {contact.email: contact for contact in account.contacts}
        for row in account_rows:
            contact = existing.get(row.contact_email)
            contact_values = {"name": row.contact_name, "role": row.role, "language": row.language}
            if contact is None:
                contact = Contact(email=row.contact_email, **contact_values)
                if email_hash(row.contact_email) in suppressed:
                    contact.unsubscribed_at = suppressed[email_hash(row.contact_email)]
                account.contacts.append(contact)
                existing[row.contact_email] = contact
                result.contacts["created"] += 1
            elif contact in session.new:
                continue  # the same contact again on a later line of this file
            else:
                changed = _apply(contact, contact_values)
                result.contacts["updated" if changed else "unchanged"] += 1
    session.flush()
    return result


def _account_values(columns: tuple[str, ...], rows: list[ContactRow]) -> dict[str, object]:
    """What the file says about an account: the first non-empty value of each column it
    has (rows that disagree were already refused), or None where all are empty."""
    values: dict[str, object] = {}
    for column, attribute in ACCOUNT_ATTRIBUTES.items():
        if column not in columns:
            continue
        given = [row.account[column] for row in rows if row.account.get(column) is not None]
        values[attribute] = given[0] if given else None
    return values


def _apply(instance: object, values: dict[str, object]) -> bool:
    changed = False
    for attribute, value in values.items():
        if getattr(instance, attribute) != value:
            setattr(instance, attribute, value)
            changed = True
    return changed


def _suppressed_hashes(session: Session, emails: set[str]) -> dict[str, datetime]:
    hashes = [email_hash(email) for email in emails]
    found: dict[str, datetime] = {}
    for start in range(0, len(hashes), CHUNK):
        chunk = hashes[start : start + CHUNK]
        rows = session.execute(
            sa.select(Suppression.email_hash, Suppression.created_at).where(
                Suppression.email_hash.in_(chunk)
            )
        )
        found.update((hashed, created_at) for hashed, created_at in rows)
    return found


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


def get_account(session: Session, external_id: str) -> Account | None:
    return session.scalar(
        sa.select(Account)
        .where(Account.external_id == external_id)
        .options(selectinload(Account.contacts))
    )
