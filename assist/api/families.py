"""Families, members, incomes, assessments and colour history; the same operations as the pages."""

from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from assist import idnumber
from assist.api import schemas
from assist.assessments import operations as assessments
from assist.assessments.models import Assessment
from assist.db_types import local_today
from assist.extensions import db
from assist.families import operations
from assist.families.models import Family, Income
from assist.permissions import get_family_or_404

blp = Blueprint("api_families", __name__, description="Family files (一户一档) and their assessments")


def member_out(member, revealed: dict[int, str]) -> dict:
    # the exact birth date only beside the revealed number: beside the mask it would complete it
    plain = revealed.get(member.id)
    return {
        "id": member.id,
        "relation": member.relation.value,
        "name": member.name,
        "id_number": plain or member.id_masked,
        "birth_year": member.birth_year,
        "age": member.age_on(local_today()),
        "birth_date": idnumber.birth_date_of(plain) if plain else None,
        "health": member.health.value,
        "disability_grade": member.disability_grade,
        "illness": member.illness,
        "work_ability": member.work_ability.value,
        "schooling": member.schooling.value,
    }


def family_out(family: Family, reveal: bool = False) -> dict:
    revealed = {m.id: operations.reveal_id_number(current_user, m) for m in family.members} if reveal else {}
    head = next((m for m in family.members if m.relation.value == "self"), None)
    out = {
        c: getattr(family, c)
        for c in (
            "id",
            "head_name",
            "phone",
            "address",
            "employer",
            "employer_union",
            "accident_on",
            "single_parent",
            "debt_fen",
            "consent_on",
            "consent_scope",
            "score",
            "next_review_on",
            "exit_flagged_on",
        )
    }
    for c in ("status", "hardship_category", "archive_type", "identity_status", "housing", "colour", "primary_type"):
        value = getattr(family, c)
        out[c] = value.value if value is not None else None
    out["area_code"] = family.area.code
    out["head_id_number"] = (revealed.get(head.id, head.id_masked)) if head else None
    out["members"] = [member_out(m, revealed) for m in family.members]
    return out


def assessment_out(a: Assessment) -> dict:
    return {
        "id": a.id,
        "kind": a.kind.value,
        "score": a.score,
        "colour": a.colour.value,
        "primary_type": a.primary_type.value,
        "types": a.types,
        "factors": a.factors,
        "hard_trigger": a.hard_trigger,
        "assessed_at": a.assessed_at,
    }


@blp.route("/families")
class Families(MethodView):
    @blp.arguments(schemas.FamilyListArgs, location="query")
    @blp.response(200, schemas.FamilyPage)
    def get(self, args):
        """Families in the caller's areas: filter by colour, area (with its subtree), category, overdue review, or search q."""
        stmt = operations.family_query(
            current_user,
            colour=args.get("colour"),
            area_code=args.get("area_code"),
            category=args.get("category"),
            overdue=args.get("overdue", False),
            q=args.get("q"),
            sort=args["sort"],
        ).options(selectinload(Family.area))
        page = db.paginate(stmt, page=args["page"], per_page=args["per_page"], error_out=False)
        items = [
            {
                "id": f.id,
                "head_name": f.head_name,
                "area_code": f.area.code,
                "status": f.status.value,
                "hardship_category": f.hardship_category.value,
                "colour": f.colour.value if f.colour else None,
                "score": f.score,
                "primary_type": f.primary_type.value if f.primary_type else None,
                "next_review_on": f.next_review_on,
            }
            for f in page.items
        ]
        return {"items": items, "page": page.page, "per_page": page.per_page, "total": page.total}

    @blp.arguments(schemas.FamilyIn)
    @blp.response(201, schemas.FamilyOut)
    def post(self, body):
        """Open a family file with its head and members; it is assessed at once (the answer has its colour and score)."""
        family = operations.create_family(current_user, body)
        db.session.commit()
        return family_out(family)


@blp.route("/families/<int:family_id>")
class FamilyById(MethodView):
    @blp.arguments(schemas.RevealArgs, location="query")
    @blp.response(200, schemas.FamilyOut)
    def get(self, args, family_id):
        """One family file; ID numbers are masked unless ?reveal=1 (each reveal is in the audit log)."""
        family = get_family_or_404(family_id)
        out = family_out(family, reveal=args["reveal"])
        db.session.commit()
        return out

    @blp.arguments(schemas.FamilyPatch)
    @blp.response(200, schemas.FamilyOut)
    def patch(self, body, family_id):
        """Change the family's own fields."""
        family = get_family_or_404(family_id)
        operations.update_family(current_user, family, body)
        db.session.commit()
        return family_out(family)


@blp.route("/families/<int:family_id>/members")
class Members(MethodView):
    @blp.arguments(schemas.MemberIn)
    @blp.response(201, schemas.MemberOut)
    def post(self, body, family_id):
        """Add a member."""
        family = get_family_or_404(family_id)
        member = operations.add_member(current_user, family, body)
        db.session.commit()
        return member_out(member, {})


@blp.route("/families/<int:family_id>/incomes")
class Incomes(MethodView):
    @blp.response(200, schemas.IncomeOut(many=True))
    def get(self, family_id):
        """The family's monthly income records, newest first."""
        family = get_family_or_404(family_id)
        return list(
            db.session.scalars(select(Income).where(Income.family_id == family.id).order_by(Income.month.desc()))
        )

    @blp.arguments(schemas.IncomeIn)
    @blp.response(201, schemas.IncomeOut)
    @blp.alt_response(
        200, schema=schemas.IncomeOut, description="The month was already recorded and has been corrected"
    )
    def post(self, body, family_id):
        """Record a month's income (and medical and education spending); a recorded month is corrected."""
        family = get_family_or_404(family_id)
        row, created = operations.record_income(
            current_user, family, body["month"], body["amount_fen"], body["medical_fen"], body["education_fen"]
        )
        db.session.commit()
        return row, 201 if created else 200


@blp.route("/families/<int:family_id>/assessments")
class Assessments(MethodView):
    @blp.response(200, schemas.AssessmentOut(many=True))
    def get(self, family_id):
        """The family's assessments, newest first."""
        family = get_family_or_404(family_id)
        rows = db.session.scalars(
            select(Assessment)
            .where(Assessment.family_id == family.id)
            .order_by(Assessment.assessed_at.desc(), Assessment.id.desc())
        )
        return [assessment_out(a) for a in rows]

    @blp.arguments(schemas.AssessmentIn)
    @blp.response(201, schemas.AssessmentOut)
    def post(self, body, family_id):
        """Assess the family now: score, colour, five-type profile and each factor's points."""
        family = get_family_or_404(family_id)
        assessment = assessments.assess_family(current_user, family, body["kind"], body["note"])
        db.session.commit()
        return assessment_out(assessment)


@blp.route("/families/<int:family_id>/colour-history")
class ColourHistory(MethodView):
    @blp.response(200, schemas.ColourChangeOut(many=True))
    def get(self, family_id):
        """Every colour change: from, to, reason, when and by whom, newest first."""
        family = get_family_or_404(family_id)
        return [
            {
                "from_colour": c.from_colour.value if c.from_colour else None,
                "to_colour": c.to_colour.value,
                "reason": c.reason,
                "at": c.at,
                "by": c.by.username if c.by else None,
            }
            for c in assessments.colour_history(family)
        ]
