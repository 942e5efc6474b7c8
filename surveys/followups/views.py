"""The follow-up pages: the list ("My follow-ups" for an account manager, every one with
filters for CX), one follow-up with its steps, and the time to first contact. Every
query goes through the services with the viewer's scope; another manager's follow-up
is a 404, as an unknown one."""

from datetime import UTC, datetime, time, timedelta
from urllib.parse import urlencode

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from surveys.accounts.services import NoteError
from surveys.auth.access import STAFF, blueprint_access, current_scope
from surveys.auth.services import audit
from surveys.columns import utcnow
from surveys.extensions import db
from surveys.followups.forms import ContactedForm, FollowUpFilterForm, PeriodForm, ResolveForm
from surveys.followups.links import URL_PREFIX
from surveys.followups.models import FollowUp
from surveys.followups.services import (
    FollowUpError,
    FollowUpFilters,
    assignees,
    first_contact_times,
    get_follow_up,
    list_follow_ups,
    take_step,
)

blueprint = blueprint_access(Blueprint("followups", __name__, url_prefix=URL_PREFIX), STAFF)

# The first-contact times look back this far unless a period is chosen.
TIMES_DEFAULT_DAYS = 365


def _form_problem(form: FlaskForm) -> str:
    return "; ".join(
        f"{form[name].label.text}: {message}"
        for name, messages in form.errors.items()
        for message in messages
    )


def _day(value: object) -> datetime | None:
    return datetime.combine(value, time(), UTC) if value else None


def _until(value: object) -> datetime | None:
    """The whole of the last day."""
    return _day(value) + timedelta(days=1) if value else None


def _query(**changes: str) -> str:
    """This page's filters with some changed, as a query string."""
    args = {key: value for key, value in request.args.items() if value}
    args.update(changes)
    return urlencode({key: value for key, value in args.items() if value})


@blueprint.get("/")
def index() -> str:
    scope = current_scope()
    form = FollowUpFilterForm(request.args)
    people = assignees(db.session, scope=scope)
    form.manager.choices = [form.manager.choices[0], *((str(u.id), u.email) for u in people)]
    if not form.validate():
        abort(400, _form_problem(form))
    manager = form.manager.data
    if manager and not (manager.isascii() and manager.isdigit()):
        abort(400, "Manager: choose one of the managers listed.")
    filters = FollowUpFilters(
        state=form.state.data or "open",
        overdue=bool(form.overdue.data),
        assignee_id=int(manager) if manager else None,
        account_external_id=(form.account.data or "").strip() or None,
        since=_day(form.since.data),
        until=_until(form.until.data),
    )
    now = utcnow()
    listing = list_follow_ups(db.session, filters, scope=scope, now=now)
    return render_template(
        "followups/index.html",
        form=form,
        filters=filters,
        listing=listing,
        now=now,
        query=_query,
        mine=not scope.sees_everything,
    )


def _page(
    follow_up: FollowUp,
    *,
    contacted_form: ContactedForm | None = None,
    resolve_form: ResolveForm | None = None,
    status: int = 200,
) -> tuple[str, int]:
    return (
        render_template(
            "followups/show.html",
            follow_up=follow_up,
            response=follow_up.response,
            contact=follow_up.response.invitation.contact,
            campaign=follow_up.response.invitation.campaign,
            contacted_form=contacted_form or ContactedForm(formdata=None),
            resolve_form=resolve_form or ResolveForm(formdata=None),
            now=utcnow(),
        ),
        status,
    )


def _follow_up(follow_up_id: int) -> FollowUp:
    follow_up = get_follow_up(db.session, follow_up_id, scope=current_scope())
    if follow_up is None:
        abort(404)
    return follow_up


@blueprint.get("/<id:follow_up_id>")
def show(follow_up_id: int) -> tuple[str, int]:
    return _page(_follow_up(follow_up_id))


def _step(follow_up_id: int, step: str, form: FlaskForm) -> Response | tuple[str, int]:
    follow_up = _follow_up(follow_up_id)  # a 404 before anything else is looked at
    forms = {"contacted": "contacted_form", "resolved": "resolve_form"}
    if not form.validate_on_submit():
        return _page(follow_up, **{forms[step]: form}, status=400)
    now = utcnow()
    try:
        take_step(
            db.session,
            follow_up.id,
            step,
            scope=current_scope(),
            user_id=current_user.id,
            note=form.note.data,
            now=now,
        )
    except (FollowUpError, NoteError) as error:
        db.session.rollback()
        flash(str(error), "error")
        return _page(_follow_up(follow_up_id), **{forms[step]: form}, status=409)
    audit(
        db.session,
        f"follow-up {step}",
        now=now,
        user=current_user,
        target=f"follow-up {follow_up.id}",
        detail=f"account {follow_up.account.external_id}",
        address=request.remote_addr,
    )
    db.session.commit()
    flash(
        "Marked contacted." if step == "contacted" else "Resolved: the loop is closed.",
        "success",
    )
    return redirect(url_for(".show", follow_up_id=follow_up.id), 303)


@blueprint.post("/<id:follow_up_id>/contacted")
def mark_contacted(follow_up_id: int) -> Response | tuple[str, int]:
    return _step(follow_up_id, "contacted", ContactedForm())


@blueprint.post("/<id:follow_up_id>/resolve")
def resolve(follow_up_id: int) -> Response | tuple[str, int]:
    return _step(follow_up_id, "resolved", ResolveForm())


@blueprint.get("/first-contact")
def times() -> str:
    scope = current_scope()
    form = PeriodForm(request.args)
    if not form.validate():
        abort(400, _form_problem(form))
    since = _day(form.since.data) or utcnow() - timedelta(days=TIMES_DEFAULT_DAYS)
    until = _until(form.until.data)
    return render_template(
        "followups/times.html",
        form=form,
        since=since,
        until=until,
        times=first_contact_times(db.session, scope=scope, since=since, until=until),
        mine=not scope.sees_everything,
    )
