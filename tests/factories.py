"""Test data, stored through the models: an account with the contacts a test asks for."""

import itertools
from dataclasses import dataclass
from datetime import datetime

from flask import Flask

from surveys.accounts.models import Account, Contact
from surveys.extensions import db


@dataclass(frozen=True)
class Made:
    """Plain ids and values of what a factory stored, usable outside any app context."""

    account_id: int
    external_id: str
    contact_ids: list[int]
    emails: list[str]


class AccountFactory:
    def __init__(self, app: Flask):
        self.app = app
        self.numbers = itertools.count(1)

    def __call__(
        self,
        *contacts: dict | str,
        external_id: str | None = None,
        name: str | None = None,
        status: str = "active",
        churned_at: datetime | None = None,
        last_contacted_at: datetime | None = None,
        segment: str | None = None,
        account_manager_email: str | None = None,
        **fields: object,
    ) -> Made:
        """``make_account("sv", {"language": "en", "role": "user"})``: a contact per
        argument, given as its language or as a dict of its fields. Other account fields
        (``customer_since``, ``annual_revenue``, ``created_at``, ...) are passed on."""
        number = next(self.numbers)
        external_id = external_id or f"ACC-{number}"
        with self.app.app_context():
            account = Account(
                external_id=external_id,
                name=name or f"Account {number}",
                status=status,
                churned_at=churned_at,
                last_contacted_at=last_contacted_at,
                segment=segment,
                account_manager_email=account_manager_email,
                **fields,
            )
            made = []
            for index, spec in enumerate(contacts or ("en",)):
                fields = {"language": spec} if isinstance(spec, str) else dict(spec)
                fields.setdefault("email", f"contact{index}@{external_id.lower()}.example")
                fields.setdefault("name", f"Contact {index} of {external_id}")
                fields.setdefault("role", "decision_maker")
                made.append(Contact(**fields))
            account.contacts.extend(made)
            db.session.add(account)
            db.session.commit()
            return Made(
                account.id,
                account.external_id,
                [contact.id for contact in made],
                [contact.email for contact in made],
            )
