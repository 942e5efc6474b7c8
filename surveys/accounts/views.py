from flask import Blueprint, abort, current_app, render_template

from surveys.accounts.csv_import import COLUMNS, CSVFileError
from surveys.accounts.forms import ImportForm
from surveys.accounts.services import ImportRejectedError, get_account, import_contacts_csv
from surveys.auth import staff_only
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
    )


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
