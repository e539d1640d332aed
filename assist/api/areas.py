"""The area tree."""

from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint

from assist.api.schemas import AreaSchema
from assist.areas import operations
from assist.extensions import db
from assist.permissions import scoped_areas

blp = Blueprint("api_areas", __name__, description="Areas (city → town → community)")


def _out(area):
    return {"code": area.code, "name": area.name, "parent_code": area.parent.code if area.parent else None}


@blp.route("/areas")
class Areas(MethodView):
    @blp.response(200, AreaSchema(many=True))
    def get(self):
        """The areas in the caller's scope (all of them for an admin)."""
        return [_out(a) for a in scoped_areas(current_user)]

    @blp.arguments(AreaSchema)
    @blp.response(201, AreaSchema)
    def post(self, body):
        """Add an area (admin)."""
        area = operations.create_area(current_user, body["code"], body["name"], body.get("parent_code"))
        db.session.commit()
        return _out(area)
