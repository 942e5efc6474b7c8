import io
import json
from datetime import timedelta
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms.fields.choices import SelectChoice

from surveys.accounts.csv_import import COLUMNS, CSVFileError, TooManyRowsError
from surveys.accounts.forms import (
    SORTS,
    AccountListForm,
    ContactedTodayForm,
    ContactEraseForm,
    ContactExportForm,
    ImportForm,
    account_filter,
)
from surveys.accounts.models import ROLES, Account, Contact
from surveys.accounts.privacy import erase_contact, export_contact
from surveys.accounts.services import (
    ImportRejectedError,
    NoteError,
    get_account,
    get_contact,
    import_contacts_csv,
    recent_touches,
    record_touch,
)
from surveys.auth.access import CX, STAFF, access, blueprint_access, current_scope
from surveys.auth.services import audit
from surveys.columns import utcnow
from surveys.extensions import db
from surveys.followups.services import follow_ups_of_account
from surveys.reasons.services import segments
from surveys.reports.services import (
    account_managers,
    invitations_sent,
    latest_answers,
    nps_report,
)
from surveys.reports.workspace import Voice, disagreement, my_accounts

blueprint = blueprint_access(Blueprint("accounts", __name__, url_prefix="/accounts"), STAFF)


ACCOUNTS_PER_PAGE = 50


@blueprint.get("/")
def index() -> str:
    scope = current_scope()
    form = AccountListForm(request.args)
    form.segment.choices += [SelectChoice(s) for s in segments(db.session, scope=scope)]
    form.manager.choices += [SelectChoice(m) for m in account_managers(db.session, scope=scope)]
    if not form.validate():
        abort(
            400,
            "; ".join(
                f"{form[name].label.text}: {message}"
                for name, messages in form.errors.items()
                for message in messages
            ),
        )
    report = nps_report(
        db.session,
        scope=scope,
        window_days=current_app.config["REPORT_WINDOW_DAYS"],
        narrow=account_filter(form),
    )
    rows = report.accounts
    pages = max(1, -(-len(rows) // ACCOUNTS_PER_PAGE))
    page = min(int(form.page.data or 1), pages)
    shown = rows[(page - 1) * ACCOUNTS_PER_PAGE : page * ACCOUNTS_PER_PAGE]

    def link(**changes: object) -> str:
        args = {key: value for key, value in request.args.items() if value}
        args.update({key: str(value) for key, value in changes.items()})
        return url_for(".index") + "?" + urlencode(args)

    return render_template(
        "accounts/index.html",
        report=report,
        form=form,
        rows=shown,
        total=len(rows),
        page=page,
        pages=pages,
        link=link,
        sorts=SORTS,
        filtered=any(
            [form.q.data, form.segment.data, form.manager.data, form.band.data, form.status.data]
        ),
    )


@blueprint.get("/mine")
def mine() -> str:
    """The signed-in manager's accounts, most at risk first (every account for CX)."""
    scope = current_scope()
    return render_template(
        "accounts/mine.html",
        accounts=my_accounts(
            db.session,
            scope=scope,
            now=utcnow(),
            window_days=current_app.config["REPORT_WINDOW_DAYS"],
        ),
        mine=not scope.sees_everything,
        roles=ROLES,
    )


@blueprint.get("/<external_id>")
def detail(external_id: str) -> str | tuple[str, int]:
    account = get_account(db.session, external_id, scope=current_scope())
    if account is None:
        abort(404)
    return account_page(account)


def account_page(
    account: Account, contacted_form: ContactedTodayForm | None = None, status: int = 200
) -> tuple[str, int]:
    scope = current_scope()
    now = utcnow()
    window_days = current_app.config["REPORT_WINDOW_DAYS"]
    report = nps_report(
        db.session,
        scope=scope,
        window_days=window_days,
        account_external_id=account.external_id,
        now=now,
    )
    answers = latest_answers(db.session, account)
    since = now - timedelta(days=window_days)
    voices = [
        Voice(contact.name or contact.email, contact.role, response.score)
        for contact in account.contacts
        if (response := answers.get(contact.id)) is not None
        and not contact.erased_at
        and response.invitation.campaign.kind == "nps"
        and response.score is not None
        and response.answered_at >= since
    ]
    return (
        render_template(
            "accounts/detail.html",
            account=account,
            row=report.accounts[0],
            answers=answers,
            invited=invitations_sent(db.session, account),
            disagreement=disagreement(voices),
            follow_ups=follow_ups_of_account(db.session, account, scope=scope),
            touches=recent_touches(db.session, account, scope=scope),
            contacted_form=contacted_form or ContactedTodayForm(formdata=None),
            export_form=ContactExportForm(),
            erase_form=ContactEraseForm(),
            now=now,
        ),
        status,
    )


@blueprint.post("/<external_id>/contacted")
def contacted_today(external_id: str) -> Response | tuple[str, int]:
    """Contacted today: moves the account's last contact to now (what the cover rule
    and My accounts read), with the note, audited."""
    scope = current_scope()
    account = get_account(db.session, external_id, scope=scope)
    if account is None:
        abort(404)
    form = ContactedTodayForm()
    if not form.validate_on_submit():
        return account_page(account, contacted_form=form, status=400)
    now = utcnow()
    try:
        record_touch(
            db.session,
            external_id,
            scope=scope,
            user_id=current_user.id,
            note=form.note.data,
            now=now,
        )
    except NoteError as error:
        form.note.errors = [str(error)]
        return account_page(account, contacted_form=form, status=400)
    audit(
        db.session,
        "account contacted",
        now=now,
        user=current_user,
        target=f"account {account.external_id}",
        address=request.remote_addr,
    )
    db.session.commit()
    flash(f"Noted: {account.name} was contacted today.", "success")
    return redirect(url_for(".detail", external_id=external_id), 303)


def _contact(contact_id: int) -> Contact:
    contact = get_contact(db.session, contact_id, scope=current_scope())
    if contact is None:
        abort(404)
    return contact


@blueprint.post("/contacts/<int:contact_id>/export")
def export_contact_data(contact_id: int) -> Response:
    """Everything held on the contact's address, as a JSON file."""
    contact = _contact(contact_id)
    if not ContactExportForm().validate_on_submit():
        abort(400, "The form expired; go back and try again.")
    data = export_contact(db.session, contact.email, scope=current_scope())
    audit(
        db.session,
        "contact exported",
        now=utcnow(),
        user=current_user,
        target=f"contact {contact.id}",
    )
    db.session.commit()
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="contact-{contact.id}.json"'},
    )


@blueprint.post("/contacts/<int:contact_id>/erase")
@access(CX)
def erase_contact_data(contact_id: int) -> Response:
    contact = _contact(contact_id)
    external_id = contact.account.external_id
    form = ContactEraseForm()
    if not form.validate_on_submit():
        for message in form.confirm.errors or ["The form expired; try again."]:
            flash(message, "error")
        return redirect(url_for(".detail", external_id=external_id))
    count = erase_contact(db.session, contact.email, utcnow(), scope=current_scope())
    audit(
        db.session,
        "contact erased",
        now=utcnow(),
        user=current_user,
        target=f"contact {contact.id}",
        detail=f"{count} contact(s)",
    )
    db.session.commit()
    flash(f"Erased at {count} account(s); the address is never mailed again.", "success")
    return redirect(url_for(".detail", external_id=external_id))


@blueprint.route("/import", methods=["GET", "POST"])
@access(CX)
def import_contacts() -> tuple[str, int]:
    form = ImportForm()
    if not form.validate_on_submit():
        return import_page(form, status=400 if form.is_submitted() else 200)
    upload = form.file.data.stream
    size = upload.seek(0, io.SEEK_END)
    upload.seek(0)
    if size > current_app.config["IMPORT_MAX_BYTES"]:
        form.file.errors.append(too_large_message(size))
        return import_page(form, status=413)
    try:
        result = import_contacts_csv(
            db.session,
            upload,
            skip_invalid=form.skip_invalid.data,
            max_rows=current_app.config["IMPORT_MAX_ROWS"],
        )
    except TooManyRowsError as error:
        form.file.errors.append(too_large_message(size, rows=error.limit))
        return import_page(form, status=413)
    except CSVFileError as error:
        return import_page(form, rejected=[str(error)], problem_count=1, status=400)
    except ImportRejectedError as error:
        rejected = [str(problem) for problem in error.errors]
        return import_page(form, rejected=rejected, problem_count=error.count, status=400)
    return import_page(form, result=result)


@blueprint.errorhandler(RequestEntityTooLarge)
def request_too_large(error: RequestEntityTooLarge) -> tuple[str, int]:
    """A file over the app's MAX_CONTENT_LENGTH is refused before the view sees it; on
    the import page that is said beside the file field, like any other problem with it."""
    if request.endpoint != "accounts.import_contacts":
        return render_template("errors/error.html", error=error), 413
    form = ImportForm(formdata=None)
    form.file.errors = [too_large_message(request.content_length)]
    return import_page(form, status=413)


def too_large_message(size: int | None, *, rows: int | None = None) -> str:
    limit = current_app.config["IMPORT_MAX_BYTES"]
    if rows:
        given = f"The file has more than {rows:,} rows; this page imports up to {rows:,}."
    elif size:
        given = f"The file is {size / 1e6:.1f} MB; this page imports files of up to "
        given += f"{limit / 1e6:.0f} MB."
    else:
        given = f"The file is too large: this page imports files of up to {limit / 1e6:.0f} MB."
    return (
        f"{given} Split it into smaller files, or import it on the server with "
        "flask contacts import, which has no limit."
    )


def import_page(
    form: ImportForm,
    *,
    result: object = None,
    rejected: list[str] | None = None,
    problem_count: int = 0,
    status: int = 200,
) -> tuple[str, int]:
    return (
        render_template(
            "accounts/import.html",
            form=form,
            result=result,
            rejected=rejected,
            problem_count=problem_count,
            limit_mb=round(current_app.config["IMPORT_MAX_BYTES"] / 1e6),
            limit_rows=current_app.config["IMPORT_MAX_ROWS"],
            columns=COLUMNS,
        ),
        status,
    )
