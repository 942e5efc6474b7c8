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
    if not form.validate_on_submit():
        return import_page(form, status=400 if form.is_submitted() else 200)
    try:
        result = import_contacts_csv(
            db.session, form.file.data.stream, skip_invalid=form.skip_invalid.data
        )
    except CSVFileError as error:
        return import_page(form, rejected=[str(error)], problem_count=1, status=400)
    except ImportRejectedError as error:
        rejected = [str(problem) for problem in error.errors]
        return import_page(form, rejected=rejected, problem_count=error.count, status=400)
    return import_page(form, result=result)


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
            columns=COLUMNS,
        ),
        status,
    )
