"""Login, logout and one's own profile."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from assist.auth import operations
from assist.auth.forms import EmailForm, LoginForm, PasswordForm
from assist.errors import DomainError
from assist.extensions import db
from assist.forms import apply_errors
from assist.i18n import safe_next
from assist.security import end_session, renew_session, start_session

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = operations.authenticate(form.username.data, form.password.data, request.remote_addr or "")
        except operations.LoginLocked as exc:
            db.session.commit()
            form.form_errors.append(exc.message)
            status = 429
        except operations.LoginFailed as exc:
            db.session.commit()  # the failed attempt is kept: that is what throttles
            form.form_errors.append(exc.message)
            status = 401
        else:
            db.session.commit()
            start_session(user)
            return redirect(safe_next(request.args.get("next"), url_for("main.index")))
    elif request.method == "POST":
        status = 422
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout():
    """Log out everywhere: every session and API token of the user ends, not only this browser's."""
    operations.log_out(current_user)
    db.session.commit()
    end_session()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/profile", methods=["GET", "POST"])
def profile():
    form = PasswordForm()
    if form.validate_on_submit():
        if not operations.check_password(current_user, form.current.data):
            form.current.errors = [_("This is not your current password.")]
        else:
            try:
                operations.update_user(current_user, current_user, password=form.password.data)
            except DomainError as exc:
                db.session.rollback()
                apply_errors(form, exc)
            else:
                db.session.commit()
                # the other sessions and the API tokens ended; this one goes on
                renew_session(current_user._get_current_object())
                flash(_("Password changed."), "success")
                return redirect(url_for("auth.profile"))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/profile.html", form=form, email_form=EmailForm(obj=current_user)), status


@bp.route("/profile/email", methods=["POST"])
def email():
    """Where reminders are e-mailed (when the union has configured SMTP)."""
    email_form = EmailForm()
    if email_form.validate_on_submit():
        try:
            operations.update_user(current_user, current_user, email=email_form.email.data or "")
        except DomainError as exc:
            db.session.rollback()
            apply_errors(email_form, exc)
        else:
            db.session.commit()
            flash(_("E-mail address saved."), "success")
            return redirect(url_for("auth.profile"))
    return render_template("auth/profile.html", form=PasswordForm(formdata=None), email_form=email_form), 422
