"""The area tree: adding areas and reading a subtree."""

import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from assist import audit, checks
from assist.areas.models import Area
from assist.errors import Conflict, ValidationFailed
from assist.extensions import db

CODE = re.compile(r"^[0-9A-Za-z]{2,20}\Z")


def create_area(actor, code: str, name: str, parent_code: str | None = None) -> Area:
    """Add an area under ``parent_code`` (or a root when none)."""
    errors: dict[str, str] = {}
    code = (code or "").strip() if isinstance(code, str) else ""
    name = checks.visible(name) if isinstance(name, str) else ""
    if not CODE.match(code):
        errors["code"] = str(_l("A code is 2–20 letters or digits."))
    if not name or len(name) > 60:
        errors["name"] = str(_l("A name has 1–60 characters."))
    elif problem := checks.invisible_error(name):
        errors["name"] = problem
    parent = None
    if parent_code:
        parent = db.session.scalar(select(Area).where(Area.code == str(parent_code)[:20]))
        if parent is None:
            errors["parent_code"] = str(_l("No area has this code."))
    if errors:
        raise ValidationFailed(str(_l("Please correct the marked fields.")), errors)
    if db.session.scalar(select(Area.id).where(Area.code == code)):
        raise Conflict(
            str(_l("An area with the code %(code)s exists.", code=code)), {"code": str(_l("This code is taken."))}
        )
    area = Area(code=code, name=name, parent=parent, depth=(parent.depth + 1) if parent else 0)
    db.session.add(area)
    db.session.flush()
    area.path = f"{parent.path if parent else '/'}{area.id}/"
    db.session.flush()
    audit.record(
        actor, "create", "area", area.id, after={"code": code, "name": name, "parent_code": parent_code}, summary=name
    )
    return area


def all_areas() -> list[Area]:
    return list(db.session.scalars(select(Area).order_by(Area.path)))
