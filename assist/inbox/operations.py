"""Reminders (提醒): who is told what, once per subject and occasion; the inbox; e-mail when SMTP is configured.

The daily job writes notifications set-based with a unique (user, key): running it twice tells nobody twice. Messages
are stored as a kind and its figures and written in the reader's language when shown (or e-mailed).
"""

import logging
import smtplib
from datetime import date
from email.message import EmailMessage

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from assist.agreements.operations import agreements_ending
from assist.areas.models import Area
from assist.auth.models import User, user_areas
from assist.bulk import dialect_insert
from assist.db_types import local_today, utcnow
from assist.enums import BatchStatus, FamilyStatus, Role, StipendStatus
from assist.extensions import db
from assist.families.models import Family
from assist.inbox.models import Notification
from assist.settings.operations import get_settings
from assist.stipends.models import StipendBatch, StipendRecord

log = logging.getLogger("assist.mail")
PAGE_SIZE = 30


def _insert(rows: list[dict]) -> int:
    """Write notifications that do not exist yet; the number written."""
    if not rows:
        return 0
    now = utcnow()
    stmt = (
        dialect_insert(Notification)
        .on_conflict_do_nothing(index_elements=["user_id", "key"])
        .returning(Notification.id)
    )
    return len(db.session.execute(stmt, [{"created_at": now, "link": "", **row} for row in rows]).all())


def _caseworkers_by_area() -> dict[int, set[int]]:
    """area id → caseworkers whose own areas contain it (an area's caseworkers and those of its ancestors)."""
    owners: dict[int, set[int]] = {}
    assigned = db.session.execute(
        select(user_areas.c.user_id, Area.path)
        .join(Area, Area.id == user_areas.c.area_id)
        .join(User, User.id == user_areas.c.user_id)
        .where(User.role == Role.CASEWORKER, User.active)
    ).all()
    if not assigned:
        return owners
    for area_id, path in db.session.execute(select(Area.id, Area.path)):
        for user_id, prefix in assigned:
            if path.startswith(prefix):
                owners.setdefault(area_id, set()).add(user_id)
    return owners


def remind_reviews(today: date | None = None) -> int:
    """Each caseworker with families due or overdue for review gets one digest a day."""
    today = today or local_today()
    due = db.session.execute(
        select(Family.area_id, func.count(), func.sum(func.cast(Family.next_review_on < today, db.Integer)))
        .where(Family.status == FamilyStatus.ACTIVE, Family.next_review_on <= today)
        .group_by(Family.area_id)
    ).all()
    owners = _caseworkers_by_area()
    totals: dict[int, list[int]] = {}
    for area_id, n, overdue in due:
        for user_id in owners.get(area_id, ()):
            entry = totals.setdefault(user_id, [0, 0])
            entry[0] += n
            entry[1] += int(overdue or 0)
    rows = [
        {
            "user_id": user_id,
            "kind": "review_due",
            "key": f"review_due:{today.isoformat()}",
            "params": {"due": n, "overdue": overdue, "on": today.isoformat()},
            "link": "/families/?overdue=1",
        }
        for user_id, (n, overdue) in sorted(totals.items())
    ]
    return _insert(rows)


def remind_agreements_ending(today: date | None = None, within_days: int = 30) -> int:
    """Agreements ending within 30 days and not renewed: the area's caseworkers and the sponsor's users, once each."""
    today = today or local_today()
    ending = db.session.scalars(agreements_ending(within_days, today)).all()
    if not ending:
        return 0
    owners = _caseworkers_by_area()
    sponsor_users: dict[int, list[int]] = {}
    for user_id, sponsor_id in db.session.execute(
        select(User.id, User.sponsor_id).where(
            User.role == Role.SPONSOR, User.active, User.sponsor_id.in_({a.sponsor_id for a in ending})
        )
    ):
        sponsor_users.setdefault(sponsor_id, []).append(user_id)
    rows = []
    for agreement in ending:
        params = {
            "number": agreement.number,
            "last_day": agreement.last_day.isoformat(),
            "days": (agreement.last_day - today).days,
        }
        key = f"agreement_ending:{agreement.id}:{agreement.last_day.isoformat()}"
        for user_id in sorted(owners.get(agreement.area_id, set()) | set(sponsor_users.get(agreement.sponsor_id, []))):
            rows.append(
                {
                    "user_id": user_id,
                    "kind": "agreement_ending",
                    "key": key,
                    "params": params,
                    "link": f"/agreements/{agreement.id}",
                }
            )
    return _insert(rows)


def payment_due_on(month: str) -> date:
    """The day a month's stipends fall due: the due day (a setting) of the month after."""
    year, number = int(month[:4]), int(month[5:])
    year, number = (year + 1, 1) if number == 12 else (year, number + 1)
    return date(year, number, int(get_settings().get("payment_due_day", 15)))


def remind_unpaid(today: date | None = None) -> int:
    """Sponsors with approved stipends unpaid past their due day, and the admins: one digest a week."""
    today = today or local_today()
    months = [
        m
        for m in db.session.scalars(select(StipendBatch.month).where(StipendBatch.status == BatchStatus.APPROVED))
        if payment_due_on(m) < today
    ]
    if not months:
        return 0
    unpaid = db.session.execute(
        select(StipendRecord.sponsor_id, func.count(), func.sum(StipendRecord.amount_fen))
        .where(StipendRecord.paid_in.in_(months), StipendRecord.status != StipendStatus.PAID)
        .group_by(StipendRecord.sponsor_id)
    ).all()
    if not unpaid:
        return 0
    week = today.isocalendar()
    key = f"payment_unpaid:{week.year}-W{week.week:02d}"
    by_sponsor = {sponsor_id: (n, int(total or 0)) for sponsor_id, n, total in unpaid}
    rows = []
    for user_id, sponsor_id in db.session.execute(
        select(User.id, User.sponsor_id).where(User.role == Role.SPONSOR, User.active, User.sponsor_id.in_(by_sponsor))
    ):
        n, total = by_sponsor[sponsor_id]
        rows.append(
            {
                "user_id": user_id,
                "kind": "payment_unpaid",
                "key": key,
                "params": {"records": n, "amount_fen": total},
                "link": "/stipends/",
            }
        )
    n_all = sum(n for n, _ in by_sponsor.values())
    total_all = sum(t for _, t in by_sponsor.values())
    for (user_id,) in db.session.execute(select(User.id).where(User.role == Role.ADMIN, User.active)):
        rows.append(
            {
                "user_id": user_id,
                "kind": "payment_unpaid_all",
                "key": key,
                "params": {"records": n_all, "amount_fen": total_all, "sponsors": len(by_sponsor)},
                "link": "/stipends/",
            }
        )
    return _insert(rows)


def send_reminders(today: date | None = None) -> dict[str, int]:
    """The daily reminder job: reviews, agreements ending, unpaid stipends; then the e-mails."""
    counts = {
        "review_due": remind_reviews(today),
        "agreement_ending": remind_agreements_ending(today),
        "payment_unpaid": remind_unpaid(today),
    }
    db.session.flush()
    counts["emailed"] = send_email()
    return counts


# showing ------------------------------------------------------------------------------------------------------------


def _yuan(fen: int) -> str:
    return f"¥{fen / 100:,.2f}"


def render(notification: Notification) -> tuple[str, str]:
    """(title, body) in the current language."""
    p = notification.params or {}
    if notification.kind == "review_due":
        return (
            _("%(n)d families due for review", n=p.get("due", 0)),
            _("%(overdue)d of them are overdue. Visit and reassess them.", overdue=p.get("overdue", 0)),
        )
    if notification.kind == "agreement_ending":
        return (
            _("Agreement %(number)s ends on %(day)s", number=p.get("number", ""), day=p.get("last_day", "")),
            _("It ends in %(days)d days and has not been renewed. Renew it or prepare its end.", days=p.get("days", 0)),
        )
    if notification.kind == "payment_unpaid":
        return (
            _("%(n)d stipend payments are overdue", n=p.get("records", 0)),
            _("Together %(amount)s. Please pay them and confirm each payment.", amount=_yuan(p.get("amount_fen", 0))),
        )
    if notification.kind == "payment_unpaid_all":
        return (
            _("%(n)d stipend payments are overdue", n=p.get("records", 0)),
            _(
                "%(sponsors)d sponsors, together %(amount)s.",
                sponsors=p.get("sponsors", 0),
                amount=_yuan(p.get("amount_fen", 0)),
            ),
        )
    return notification.kind, ""


def unread_count(user) -> int:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        )
        or 0
    )


def inbox_query(user, unread_only: bool = False):
    stmt = select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    return stmt.order_by(Notification.read_at.is_not(None), Notification.created_at.desc(), Notification.id.desc())


def mark_read(user, notification_id: int | None = None) -> int:
    """Mark one of the user's notifications (or all of them) read; the number changed."""
    stmt = update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if notification_id is not None:
        stmt = stmt.where(Notification.id == notification_id)
    return db.session.execute(stmt.values(read_at=utcnow()).execution_options(synchronize_session=False)).rowcount


# e-mail -------------------------------------------------------------------------------------------------------------


def send_email(limit: int = 500) -> int:
    """E-mail unsent notifications to users with an address: through SMTP when configured, to the log in
    development, not at all otherwise. Each is sent at most once (marked as it goes)."""
    config = current_app.config
    smtp_on = bool(config.get("SMTP_HOST"))
    if not smtp_on and config.get("ENV_NAME") != "development":
        return 0
    pending = db.session.execute(
        select(Notification, User)
        .join(User, User.id == Notification.user_id)
        .where(Notification.emailed_at.is_(None), User.email != "", User.active)
        .order_by(Notification.id)
        .limit(limit)
    ).all()
    if not pending:
        return 0
    sent = 0
    connection = _smtp(config) if smtp_on else None
    try:
        for notification, user in pending:
            with force_locale(user.locale or "zh"):
                title, body = render(notification)
            message = EmailMessage()
            message["Subject"] = title
            message["From"] = config["MAIL_FROM"]
            message["To"] = user.email
            link = config["PUBLIC_URL"].rstrip("/") + notification.link if notification.link else ""
            message.set_content(f"{body}\n\n{link}".strip())
            if connection is None:
                log.info("mail to %s: %s\n%s", user.email, title, message.get_content())
            else:
                connection.send_message(message)
            notification.emailed_at = utcnow()
            sent += 1
    finally:
        if connection is not None:
            connection.quit()
    db.session.flush()
    return sent


def _smtp(config):
    connection = smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=30)
    if config.get("SMTP_STARTTLS"):
        connection.starttls()
    if config.get("SMTP_USER"):
        connection.login(config["SMTP_USER"], config["SMTP_PASSWORD"])
    return connection
