from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response

from surveys.auth import staff_only
from surveys.campaigns.forms import CampaignForm, SendForm
from surveys.campaigns.services import (
    CampaignError,
    campaign_summaries,
    create_campaign,
    send_campaign,
    split_account_ids,
)
from surveys.extensions import db
from surveys.mail.messages import MailSettings

# Problems named in the flash after a send; the CLI lists them all.
PROBLEMS_SHOWN = 5

blueprint = staff_only(Blueprint("campaigns", __name__, url_prefix="/campaigns"))


@blueprint.get("/")
def index() -> str:
    return render_template(
        "campaigns/index.html",
        summaries=campaign_summaries(db.session),
        form=CampaignForm(),
        send_form=SendForm(),
    )


@blueprint.post("/")
def create() -> Response | tuple[str, int]:
    form = CampaignForm()
    if form.validate_on_submit():
        try:
            campaign = create_campaign(
                db.session,
                kind=form.kind.data,
                name=form.name.data,
                days_open=form.days_open.data,
                account_ids=split_account_ids(form.accounts.data),
            )
        except CampaignError as error:
            form.kind.errors = [*form.kind.errors, str(error)]
        else:
            flash(f"Campaign {campaign.name!r} created. Send it when you are ready.", "success")
            return redirect(url_for(".index"))
    return (
        render_template(
            "campaigns/index.html",
            summaries=campaign_summaries(db.session),
            form=form,
            send_form=SendForm(),
        ),
        400,
    )


@blueprint.post("/<int:campaign_id>/send")
def send(campaign_id: int) -> Response:
    if SendForm().validate_on_submit():
        try:
            result = send_campaign(
                db.session, campaign_id, mail=MailSettings.from_config(current_app.config)
            )
        except CampaignError as error:
            flash(f"Not sent: {error}.", "error")
        else:
            flash(f"{result.sent} invitation(s) sent.", "success")
            if result.problems:
                shown = "; ".join(
                    f"{problem.email}: {problem.reason}"
                    for problem in result.problems[:PROBLEMS_SHOWN]
                )
                more = len(result.problems) - PROBLEMS_SHOWN
                flash(
                    f"{result.failed} not sent ({shown}{f'; and {more} more' if more > 0 else ''})."
                    " They are kept: send again to retry them.",
                    "error",
                )
            if result.stopped:
                flash(f"Stopped: {result.stopped}.", "error")
    else:
        flash("The form expired; try again.", "error")
    return redirect(url_for(".index"))
