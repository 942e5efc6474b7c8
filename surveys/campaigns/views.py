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
                db.session,
                campaign_id,
                base_url=current_app.config["SURVEYS_BASE_URL"],
                sender=current_app.config["MAIL_DEFAULT_SENDER"],
            )
        except CampaignError as error:
            flash(f"Not sent: {error}.", "error")
        else:
            message = f"{result.sent} invitation(s) sent."
            if result.failed:
                message += f" {result.failed} failed; send again to retry them."
            flash(message, "error" if result.failed else "success")
    else:
        flash("The form expired; try again.", "error")
    return redirect(url_for(".index"))
