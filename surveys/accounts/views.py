import json

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, url_for

from surveys.accounts.csv_import import COLUMNS, CSVFileError
from surveys.accounts.forms import ContactEraseForm, ContactExportForm, ImportForm
from surveys.accounts.models import Contact
from surveys.accounts.privacy import erase_contact, export_contact
from surveys.accounts.services import ImportRejectedError, get_account, import_contacts_csv
from surveys.auth import staff_only
from surveys.columns import utcnow
from surveys.extensions import db
from surveys.reports.services import latest_answers, nps_report

blueprint = staff_only(Blueprint("accounts", __name__, url_prefix="/accounts"))


@blueprint.get("/")
def index() -> str:
    report = nps_report(db.session, window_days=current_app.config["REPORT_WINDOW_DAYS"])
    return render_template("accounts/index.html", report=report)


@blueprint.get("/<external_id>")
def detail(external_id: str) -> str:
    account = get_account(db.session, external_id)
    if account is None:
        abort(404)
    report = nps_report(
        db.session,
        window_days=current_app.config["REPORT_WINDOW_DAYS"],
        account_external_id=external_id,
    )
    return render_template(
        "accounts/detail.html",
        account=account,
        row=report.accounts[0],
        answers=latest_answers(db.session, account),
        export_form=ContactExportForm(),
        erase_form=ContactEraseForm(),
    )


def _contact(contact_id: int) -> Contact:
    contact = db.session.get(Contact, contact_id)
    if contact is None or contact.erased_at is not None:
        abort(404)
    return contact


@blueprint.post("/contacts/<int:contact_id>/export")
def export_contact_data(contact_id: int) -> Response:
    """Everything held on the contact's address, as a JSON file."""
    contact = _contact(contact_id)
    if not ContactExportForm().validate_on_submit():
        abort(400, "The form expired; go back and try again.")
    data = export_contact(db.session, contact.email)
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="contact-{contact.id}.json"'},
    )


@blueprint.post("/contacts/<int:contact_id>/erase")
def erase_contact_data(contact_id: int) -> Response:
    contact = _contact(contact_id)
    external_id = contact.account.external_id
    form = ContactEraseForm()
    if not form.validate_on_submit():
        for message in form.confirm.errors or ["The form expired; try again."]:
            flash(message, "error")
        return redirect(url_for(".detail", external_id=external_id))
    count = erase_contact(db.session, contact.email, utcnow())
    db.session.commit()
    flash(f"Erased at {count} account(s); the address is never mailed again.", "success")
    return redirect(url_for(".detail", external_id=external_id))


@blueprint.route("/import", methods=["GET", "POST"])
def import_contacts() -> tuple[str, int]:
    form = ImportForm()
    result = rejected = None
    status = 200
    if form.validate_on_submit():
        try:
            result = import_contacts_csv(
                db.session, form.file.data.read(), skip_invalid=form.skip_invalid.data
            )
        except CSVFileError as error:
            rejected = [str(error)]
            status = 400
        except ImportRejectedError as error:
            rejected = [str(problem) for problem in error.errors]
            status = 400
    elif form.is_submitted():
        status = 400
    return (
        render_template(
            "accounts/import.html", form=form, result=result, rejected=rejected, columns=COLUMNS
        ),
        status,
    )
