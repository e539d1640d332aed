"""Health and tokens."""

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from assist.api.schemas import ErrorSchema, HealthSchema, TokenRequest, TokenSchema
from assist.auth import operations as accounts
from assist.errors import DomainError
from assist.extensions import db
from assist.security import api_error

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
        token = accounts.issue_token(user)
        db.session.commit()
        return {"token": token}
