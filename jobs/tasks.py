"""Thin job functions: open an app context, call an operation, commit once, return the counts."""


def generate_stipends(app) -> dict:
    from assist.extensions import db
    from assist.stipends.operations import generate_due

    with app.app_context():
        results = generate_due()
        db.session.commit()
        return {
            "months": len(results),
            "created": sum(r.created for r in results),
            "existing": sum(r.existing for r in results),
        }


def send_reminders(app) -> dict:
    from assist.extensions import db
    from assist.inbox.operations import send_reminders as remind

    with app.app_context():
        counts = remind()
        db.session.commit()
        return counts


def exit_candidates(app) -> dict:
    from assist.assessments.operations import flag_exit_candidates
    from assist.extensions import db

    with app.app_context():
        n = flag_exit_candidates()
        db.session.commit()
        return {"flagged": n}


def database_statistics(app) -> dict:
    from assist.auth.operations import prune_login_records
    from assist.extensions import db
    from assist.maintenance import refresh_statistics

    with app.app_context():
        pruned = prune_login_records()  # old login attempts and expired tokens, before the statistics
        db.session.commit()
        return {"ran": refresh_statistics(), **pruned}


# posts and agreements (issue 3, demo/CLI/jobs part)


def claim_expiry(app) -> dict:
    from assist.extensions import db
    from assist.posts.operations import expire_claims

    with app.app_context():
        n = expire_claims()
        db.session.commit()
        return {"expired": n}


def agreement_advance(app) -> dict:
    from assist.agreements.operations import advance
    from assist.extensions import db

    with app.app_context():
        counts = advance()
        db.session.commit()
        return counts


# identification (issue 5)
def delete_import_originals(app) -> dict:
    """Import originals hold full ID numbers: kept only for the retention period after the import finished."""
    from assist.extensions import db
    from assist.identification.operations import delete_old_originals

    with app.app_context():
        n = delete_old_originals()
        db.session.commit()
        return {"deleted": n}


def worker_imports(app) -> dict:
    """Queued imports, and running ones whose worker is gone, are worked to the end (each batch commits itself)."""
    from assist.identification.operations import pending_imports, run_import

    with app.app_context():
        done = [i for i in pending_imports() if run_import(i) is not None]
        return {"imports": len(done)}
