"""Health and tokens."""

from flask import request
from flask.views import MethodView
from flask_babel import gettext as _
from flask_smorest import Blueprint

from assist.api.schemas import ErrorSchema, HealthSchema, TokenRequest, TokenSchema
from assist.auth import operations as accounts
from assist.errors import DomainError
from assist.extensions import db
from assist.security import api_error, bearer_token

blp = Blueprint("api_main", __name__, description="Health and authentication")


@blp.route("/health")
class Health(MethodView):
    @blp.doc(security=[])
    @blp.response(200, HealthSchema)
    def get(self):
        """Liveness: the app answers and reaches its database."""
        db.session.execute(db.select(1))
        return {"status": "ok"}


@blp.route("/tokens")
class Tokens(MethodView):
    @blp.doc(security=[])
    @blp.arguments(TokenRequest)
    @blp.response(201, TokenSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="Wrong user name or password")
    @blp.alt_response(429, schema=ErrorSchema, description="Too many failed logins; try again later")
    def post(self, body):
        """Exchange a user name and password for a bearer token (login throttling applies)."""
        try:
            user = accounts.authenticate(body["username"], body["password"], request.remote_addr or "")
        except DomainError as exc:
            db.session.commit()  # keep the failed attempt: that is what throttles
            return api_error(exc.status, exc.code, exc.message)
        token, expires_at = accounts.issue_token(user)
        db.session.commit()
        return {"token": token, "expires_at": expires_at}

    @blp.response(204)
    @blp.alt_response(400, schema=ErrorSchema, description="Called without a bearer token (a session has none)")
    @blp.alt_response(401, schema=ErrorSchema, description="The token is missing, wrong, expired or revoked")
    def delete(self):
        """Revoke the bearer token this call is made with (the API's logout); other tokens and sessions go on."""
        token = bearer_token()
        if token is None:
            return api_error(400, "bad_request", _("Send the token to revoke as Authorization: Bearer <token>."))
        accounts.revoke_token(token)
        db.session.commit()
        return None
