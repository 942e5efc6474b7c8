"""A contact's rights over what we hold on them: see all of it, and have it erased.

Erasure keeps the scores, anonymised, so that past NPS figures do not change: the contact
row stays (one contact, one vote) without name or address, every free text written by
the person and every word quoted from it goes, and the address joins the suppression
list, so no re-import ever puts it back on the mailing list; the notes staff took on its
follow-ups go too (the follow-ups' states stay). Both functions flush; the
caller commits (one transaction with its audit line).
"""

import logging
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from surveys.accounts.addresses import InvalidAddressError, normalise_address
from surveys.accounts.models import Contact
from surveys.accounts.services import unsubscribe_address
from surveys.auth.access import Scope, visible_account_ids
from surveys.campaigns.models import Invitation, Response, ResponseReason
from surveys.delivery.models import Delivery
from surveys.followups.models import FollowUp, FollowUpStep

logger = logging.getLogger(__name__)

ERASED_DOMAIN = "erased.invalid"


class NoSuchContactError(LookupError):
    """No contact has that address."""


def _contacts(session: Session, email: str, scope: Scope) -> list[Contact]:
    try:
        address = normalise_address(email.strip())  # as the import stored it
    except InvalidAddressError:
        address = email.strip().lower()
    contacts = session.scalars(
        sa.select(Contact)
        .where(Contact.email == address, Contact.account_id.in_(visible_account_ids(scope)))
        .options(selectinload(Contact.account))
        .order_by(Contact.id)
    ).all()
    if not contacts:
        raise NoSuchContactError(f"no contact has the address {address!r}")
    return list(contacts)


def _moment(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def export_contact(session: Session, email: str, *, scope: Scope) -> dict:
    """Everything held on the person with this address, at every account, as JSON-ready
    values: the contact, its account, its invitations with their e-mails' delivery
    states and dates, and its answers with scores, reasons and comments."""
    contacts = _contacts(session, email, scope)
    ids = [contact.id for contact in contacts]
    invitations = session.scalars(
        sa.select(Invitation)
        .where(Invitation.contact_id.in_(ids))
        .options(
            selectinload(Invitation.campaign),
            selectinload(Invitation.response).selectinload(Response.text_reasons),
        )
        .order_by(Invitation.id)
    ).all()
    follow_ups = {
        follow_up.response_id: follow_up
        for follow_up in session.scalars(
            sa.select(FollowUp)
            .join(Response, Response.id == FollowUp.response_id)
            .where(Response.invitation_id.in_([invitation.id for invitation in invitations]))
            .options(selectinload(FollowUp.steps))
        )
    }
    deliveries: dict[int, list[Delivery]] = {}
    for delivery in session.scalars(
        sa.select(Delivery)
        .where(Delivery.invitation_id.in_([invitation.id for invitation in invitations]))
        .order_by(Delivery.id)
    ):
        deliveries.setdefault(delivery.invitation_id, []).append(delivery)

    def follow_up(response: Response) -> dict | None:
        found = follow_ups.get(response.id)
        if found is None:
            return None
        return {
            "state": found.state,
            "opened_at": _moment(found.opened_at),
            "contacted_at": _moment(found.contacted_at),
            "resolved_at": _moment(found.resolved_at),
            "steps": [
                {"step": step.step, "at": _moment(step.at), "note": step.note}
                for step in found.steps
            ],
        }

    def answer(response: Response | None) -> dict | None:
        if response is None:
            return None
        return {
            "answered_at": _moment(response.answered_at),
            "score": response.score,
            "reason": response.reason,
            "comment": response.comment,
            "felt_prioritised": response.felt_prioritised,
            "manager_contact": response.manager_contact,
            "reasons_found_in_words": [
                {"reason": found.reason, "score": found.score, "words": found.evidence}
                for found in response.text_reasons
                if found.found
            ],
            "follow_up": follow_up(response),
        }

    return {
        "email": contacts[0].email,
        "contacts": [
            {
                "name": contact.name,
                "role": contact.role,
                "language": contact.language,
                "unsubscribed_at": _moment(contact.unsubscribed_at),
                "undeliverable_at": _moment(contact.undeliverable_at),
                "created_at": _moment(contact.created_at),
                "account": {
                    "account_id": contact.account.external_id,
                    "name": contact.account.name,
                    "status": contact.account.status,
                    "account_manager_email": contact.account.account_manager_email,
                },
                "invitations": [
                    {
                        "campaign": invitation.campaign.name,
                        "kind": invitation.campaign.kind,
                        "invited_at": _moment(invitation.created_at),
                        "e-mails": [
                            {
                                "kind": delivery.kind,
                                "state": delivery.state,
                                "reason": delivery.reason,
                                "sent_at": _moment(delivery.sent_at),
                            }
                            for delivery in deliveries.get(invitation.id, [])
                        ],
                        "answer": answer(invitation.response),
                    }
                    for invitation in invitations
                    if invitation.contact_id == contact.id
                ],
            }
            for contact in contacts
        ],
    }


def erase_contact(session: Session, email: str, now: datetime, *, scope: Scope) -> int:
    """Erase the person with this address everywhere; returns how many contacts (one an
    account) were erased. Flushes."""
    contacts = _contacts(session, email, scope)
    address = contacts[0].email
    unsubscribe_address(session, address, now)
    ids = [contact.id for contact in contacts]
    answered = sa.select(Response.id).join(Invitation).where(Invitation.contact_id.in_(ids))
    session.execute(
        sa.update(ResponseReason)
        .where(ResponseReason.response_id.in_(answered))
        .values(evidence=[])
        .execution_options(synchronize_session=False)
    )
    session.execute(
        sa.update(Response)
        .where(Response.id.in_(answered))
        .values(comment=None)
        .execution_options(synchronize_session=False)
    )
    # What staff wrote down about the person on its follow-ups goes with their words.
    session.execute(
        sa.update(FollowUpStep)
        .where(
            FollowUpStep.follow_up_id.in_(
                sa.select(FollowUp.id).where(FollowUp.response_id.in_(answered))
            )
        )
        .values(note=None)
        .execution_options(synchronize_session=False)
    )
    # The personal links stop working, and no e-mail still queued goes out.
    session.execute(
        sa.update(Invitation)
        .where(Invitation.contact_id.in_(ids))
        .values(token_hash=None, token_nonce=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        sa.update(Delivery)
        .where(
            Delivery.invitation_id.in_(
                sa.select(Invitation.id).where(Invitation.contact_id.in_(ids))
            ),
            Delivery.state.in_(("queued", "failed")),
        )
        .values(state="skipped", reason="erased", due_at=None)
        .execution_options(synchronize_session=False)
    )
    for contact in contacts:
        contact.name = None
        contact.email = f"erased-{contact.id}@{ERASED_DOMAIN}"
        contact.undeliverable_reason = None
        contact.erased_at = now
    session.flush()
    logger.info("contacts %s erased", ",".join(str(contact_id) for contact_id in ids))
    return len(contacts)
