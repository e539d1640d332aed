"""Thin job functions: open an app context, call an operation, commit once, return the counts."""

from datetime import date


def exit_candidates(app) -> dict:
    from assist.assessments.operations import flag_exit_candidates
    from assist.extensions import db

    with app.app_context():
        n = flag_exit_candidates()
        db.session.commit()
        return {"flagged": n}


def review_due(app) -> dict:
    from sqlalchemy import func, select

    from assist.enums import FamilyStatus
    from assist.extensions import db
    from assist.families.models import Family

    with app.app_context():
        n = db.session.scalar(
            select(func.count(Family.id)).where(
                Family.status == FamilyStatus.ACTIVE, Family.next_review_on < date.today()
            )
        )
        return {"overdue": n}


def database_statistics(app) -> dict:
    from assist.maintenance import refresh_statistics

    with app.app_context():
        return {"ran": refresh_statistics()}
