from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response

from surveys.auth import staff_only
from surveys.campaigns.forms import CampaignForm, SendForm
from surveys.campaigns.services import (
    CampaignError,
    campaign_summaries,
    create_campaign,
    queue_campaign,
    split_account_ids,
)
from surveys.campaigns.tokens import link_key
from surveys.delivery.queue import BrokerUnavailableError, kick
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
                remind_after_days=form.remind_after_days.data,
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


@blueprint.post("/<id:campaign_id>/send")
def send(campaign_id: int) -> Response:
    """Queue the e-mails and answer at once; they go in the background (or on the
    workers), and the campaign's page shows how far they got."""
    if not SendForm().validate_on_submit():
        flash("The form expired; try again.", "error")
        return redirect(url_for(".index"))
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
        return redirect(url_for(".index"))
    message = f"{result.queued} invitation(s) queued; they are being sent."
    if result.skipped:
        message += " Skipped: " + ", ".join(
            f"{count} {reason}" for reason, count in sorted(result.skipped.items())
        )
        message += "."
    flash(message, "success")
    if result.queued:
        try:
            kick(result.queued, in_background=True)
        except BrokerUnavailableError as error:
            flash(f"{error}.", "error")
    return redirect(url_for(".index"))
