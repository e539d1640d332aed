"""Pages to run an assessment and read its explanation."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from assist.assessments import operations
from assist.assessments.forms import AssessmentForm
from assist.assessments.models import Assessment
from assist.errors import DomainError
from assist.extensions import db
from assist.forms import apply_errors
from assist.permissions import get_family_or_404

bp = Blueprint("assessments", __name__, url_prefix="/families/<int:family_id>/assessments")


@bp.route("/new", methods=["GET", "POST"])
def new(family_id: int):
    family = get_family_or_404(family_id)
    form = AssessmentForm()
    if form.validate_on_submit():
        try:
            assessment = operations.assess_family(current_user, family, form.kind.data, form.note.data or "")
        except DomainError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Assessment saved."), "success")
            return redirect(url_for("assessments.view", family_id=family.id, assessment_id=assessment.id))
    status = 422 if request.method == "POST" else 200
    return render_template("assessments/new.html", form=form, family=family), status


@bp.route("/<int:assessment_id>")
def view(family_id: int, assessment_id: int):
    family = get_family_or_404(family_id)
    assessment = db.session.get(Assessment, assessment_id)
    if assessment is None or assessment.family_id != family.id:
        abort(404)
    return render_template("assessments/view.html", family=family, assessment=assessment)
