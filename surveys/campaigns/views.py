from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from surveys.accounts.models import LANGUAGES
from surveys.auth.access import CX, blueprint_access
from surveys.campaigns.forms import (
    ButtonForm,
    CampaignForm,
    RetryUnknownForm,
    SendTestForm,
    language_label,
)
from surveys.campaigns.models import Campaign
from surveys.campaigns.services import (
    CampaignError,
    NoChurnedAccountsError,
    campaign_status,
    campaign_summaries,
    churned_accounts,
    create_campaign,
    get_campaign,
    invitation_preview,
    queue_campaign,
    queue_test,
    recent_tests,
    retry,
)
from surveys.campaigns.tokens import link_key
from surveys.columns import utcnow
from surveys.delivery.dispatcher import TEST_TOKEN
from surveys.delivery.queue import BrokerUnavailableError, kick
from surveys.extensions import db
from surveys.mail.messages import MailSettings
from surveys.security import MAIL_POLICY

blueprint = blueprint_access(Blueprint("campaigns", __name__, url_prefix="/campaigns"), CX)

PROBLEMS_PER_PAGE = 100
# Far past any campaign's last page, and an OFFSET every database takes.
MAX_PROBLEMS_PAGE = 100_000


def _campaign_form() -> tuple[CampaignForm, dict]:
    """The new-campaign form with the churned accounts an exit campaign can pick from."""
    churned = {account.external_id: account for account in churned_accounts(db.session)}
    form = CampaignForm()
    form.accounts.choices = [
        SelectChoice(account.external_id, account.name) for account in churned.values()
    ]
    return form, churned


def _index_page(form: CampaignForm, churned: dict) -> str:
    return render_template(
        "campaigns/index.html",
        summaries=campaign_summaries(db.session),
        form=form,
        churned=churned,
        send_form=ButtonForm(),
    )


@blueprint.get("/")
def index() -> str:
    return _index_page(*_campaign_form())


@blueprint.post("/")
def create() -> Response | tuple[str, int]:
    form, churned = _campaign_form()
    if form.validate_on_submit():
        try:
            campaign = create_campaign(
                db.session,
                kind=form.kind.data,
                name=form.name.data,
                days_open=form.days_open.data,
                remind_after_days=form.remind_after_days.data,
                account_ids=form.accounts.data,
            )
        except NoChurnedAccountsError as error:
            form.accounts.errors = [
                f"No account has churned{error.since}: tick the accounts to ask."
            ]
        except CampaignError as error:
            form.kind.errors = [*form.kind.errors, str(error)]
        else:
            flash(f"Campaign {campaign.name!r} created. Send it when you are ready.", "success")
            return redirect(url_for(".show", campaign_id=campaign.id))
    return _index_page(form, churned), 400


def _campaign_or_404(campaign_id: int) -> Campaign:
    campaign = get_campaign(db.session, campaign_id)
    if campaign is None:
        abort(404)
    return campaign


def _problems_page() -> int:
    """?page=N of the problems list; anything that is not a page number is the first."""
    page = request.args.get("page", 1, type=int)
    return min(max(page, 1), MAX_PROBLEMS_PAGE)


def _campaign_page(campaign_id: int, *, test_form: SendTestForm | None = None) -> str:
    page = _problems_page()
    status = campaign_status(
        db.session,
        campaign_id,
        problems_limit=PROBLEMS_PER_PAGE,
        problems_offset=(page - 1) * PROBLEMS_PER_PAGE,
    )
    settings = MailSettings.from_config(current_app.config)
    previews = [
        invitation_preview(
            db.session, campaign_id, language=language, settings=settings, token=TEST_TOKEN
        )
        for language in LANGUAGES
    ]
    return render_template(
        "campaigns/show.html",
        status=status,
        campaign=status.campaign,
        is_open=status.campaign.is_open(utcnow()),
        page=page,
        pages=max(1, -(-status.problem_count // PROBLEMS_PER_PAGE)),
        per_page=PROBLEMS_PER_PAGE,
        previews=previews,
        language_label=language_label,
        tests=recent_tests(db.session, campaign_id),
        button_form=ButtonForm(),
        retry_unknown_form=RetryUnknownForm(formdata=None),
        test_form=test_form or SendTestForm(formdata=None),
    )


@blueprint.get("/<id:campaign_id>")
def show(campaign_id: int) -> str:
    _campaign_or_404(campaign_id)
    return _campaign_page(campaign_id)


@blueprint.get("/<id:campaign_id>/status.json")
def status_json(campaign_id: int) -> Response:
    """What the campaign page polls while its e-mails go: the first page of problems."""
    _campaign_or_404(campaign_id)
    status = campaign_status(db.session, campaign_id, problems_limit=PROBLEMS_PER_PAGE)
    return jsonify({**status.as_json(), "in_flight": status.in_flight})


@blueprint.get("/<id:campaign_id>/preview/<language>")
def preview(campaign_id: int, language: str) -> Response:
    """The invitation's HTML part as a contact gets it, framed by the campaign page under
    the e-mail's own policy (its inline styles; no script)."""
    _campaign_or_404(campaign_id)
    if language not in LANGUAGES:
        abort(404)
    mail = invitation_preview(
        db.session,
        campaign_id,
        language=language,
        settings=MailSettings.from_config(current_app.config),
        token=TEST_TOKEN,
    )
    # <base>: a clicked link opens in the whole window, not inside the frame
    return Response(
        '<base target="_top">' + mail.html,
        content_type="text/html; charset=utf-8",
        headers={"Content-Security-Policy": MAIL_POLICY},
    )


def _kick(count: int) -> None:
    """Have ``count`` queued e-mails sent after this request has answered."""
    if count:
        try:
            kick(count, in_background=True)
        except BrokerUnavailableError as error:
            flash(f"{error}.", "error")


def _back(campaign_id: int) -> Response:
    return redirect(url_for(".show", campaign_id=campaign_id))


@blueprint.post("/<id:campaign_id>/send")
def send(campaign_id: int) -> Response:
    """Queue the e-mails and answer at once; they go in the background (or on the
    workers), and the campaign's page shows how far they got."""
    _campaign_or_404(campaign_id)
    if not ButtonForm().validate_on_submit():
        flash("The form expired; try again.", "error")
        return _back(campaign_id)
    config = current_app.config
    try:
        result = queue_campaign(
            db.session,
            campaign_id,
            link_key=link_key(config["SECRET_KEY"]),
            fatigue_days=config["NPS_FATIGUE_DAYS"],
        )
    except CampaignError as error:
        flash(f"Not sent: {error}.", "error")
        return _back(campaign_id)
    message = f"{result.queued} invitation(s) queued; they are being sent."
    if result.skipped:
        message += " Skipped: " + ", ".join(
            f"{count} {reason}" for reason, count in sorted(result.skipped.items())
        )
        message += "."
    flash(message, "success")
    _kick(result.queued)
    return _back(campaign_id)


def _retry(campaign_id: int, states: tuple[str, ...]) -> int | None:
    try:
        count = retry(db.session, campaign_id, states=states, now=utcnow())
    except CampaignError as error:
        flash(f"Not sent again: {error}.", "error")
        return None
    _kick(count)
    return count


@blueprint.post("/<id:campaign_id>/retry/failed")
def retry_failed(campaign_id: int) -> Response:
    _campaign_or_404(campaign_id)
    if not ButtonForm().validate_on_submit():
        flash("The form expired; try again.", "error")
        return _back(campaign_id)
    count = _retry(campaign_id, ("failed",))
    if count is not None:
        flash(f"{count} failed e-mail(s) queued again; they are being sent.", "success")
    return _back(campaign_id)


@blueprint.post("/<id:campaign_id>/retry/unknown")
def retry_unknown(campaign_id: int) -> Response:
    _campaign_or_404(campaign_id)
    form = RetryUnknownForm()
    if not form.validate_on_submit():
        for error in form.understood.errors or ["The form expired; try again."]:
            flash(f"Not sent again: {error}", "error")
        return _back(campaign_id)
    count = _retry(campaign_id, ("unknown",))
    if count is not None:
        flash(
            f"{count} e-mail(s) in doubt queued again; some of these contacts may get them "
            "twice, with the same link.",
            "success",
        )
    return _back(campaign_id)


@blueprint.post("/<id:campaign_id>/test")
def send_test(campaign_id: int) -> Response | tuple[str, int]:
    _campaign_or_404(campaign_id)
    form = SendTestForm()
    if not form.validate_on_submit():
        return _campaign_page(campaign_id, test_form=form), 400
    try:
        delivery = queue_test(
            db.session,
            campaign_id,
            recipient=form.recipient.data,
            language=form.language.data,
            now=utcnow(),
        )
    except CampaignError as error:
        form.recipient.errors = [*form.recipient.errors, str(error)]
        return _campaign_page(campaign_id, test_form=form), 400
    flash(
        f"A test in {language_label(delivery.language)} is on its way to "
        f"{delivery.recipient}. Reload the page to see whether the mail server took it.",
        "success",
    )
    _kick(1)
    return _back(campaign_id)
