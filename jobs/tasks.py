"""Thin job functions: open an app context, call an operation, commit once, return the counts."""


def exit_candidates(app) -> dict:
    from assist.assessments.operations import flag_exit_candidates
    from assist.extensions import db

    with app.app_context():
        n = flag_exit_candidates()
        db.session.commit()
        return {"flagged": n}


def database_statistics(app) -> dict:
    from assist.maintenance import refresh_statistics

    with app.app_context():
        return {"ran": refresh_statistics()}
