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


# identification (issue 5)
def worker_imports(app) -> dict:
    """Queued imports, and running ones whose worker is gone, are worked to the end (each batch commits itself)."""
    from assist.identification.operations import pending_imports, run_import

    with app.app_context():
        done = [i for i in pending_imports() if run_import(i) is not None]
        return {"imports": len(done)}
