"""Reminders reach the right people once, the inbox shows them with an unread count, e-mail goes out when set up."""

import logging
from datetime import date, timedelta

from sqlalchemy import func, select, update

from assist.agreements import operations as agreements
from assist.enums import BatchStatus
from assist.extensions import db
from assist.families.models import Family
from assist.inbox import operations as inbox
from assist.inbox.models import Notification
from assist.stipends.models import StipendBatch
from assist.stipends.operations import generate_month
from tests import factories
from tests.conftest import csrf_token

TODAY = date(2026, 11, 24)


def _notes(user):
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id)))


def test_review_digest_goes_to_the_caseworkers_of_the_area_once_a_day(world):
    db.session.execute(update(Family).where(Family.id == world.family_a.id).values(next_review_on=date(2026, 11, 1)))
    db.session.execute(update(Family).where(Family.id == world.family_b.id).values(next_review_on=date(2027, 1, 1)))
    assert inbox.remind_reviews(TODAY) == 2  # cw_a (town A) and cw_city (the whole city)
    assert inbox.remind_reviews(TODAY) == 0  # same day: nobody twice
    (note,) = _notes(world.cw_a)
    assert note.params == {"due": 1, "overdue": 1, "on": "2026-11-24"}
    assert _notes(world.cw_b) == [] and _notes(world.admin) == []
    title, body = inbox.render(note)
    assert "1" in title


def test_agreement_ending_reaches_caseworkers_and_the_sponsor(world):
    market = factories.build_market(world)
    agreement = market.agreement
    signed_on = agreement.start_on - timedelta(days=11)
    agreements.sign_agreement(world.cw_a, agreement, signed_on, today=signed_on + timedelta(days=4))
    month_before = agreement.end_on - timedelta(days=29)
    # cw_a, cw_city and both logins of the sponsor (its registration user and world.sponsor)
    assert inbox.remind_agreements_ending(month_before) == 4
    assert inbox.remind_agreements_ending(month_before + timedelta(days=1)) == 0
    assert inbox.remind_agreements_ending(agreement.end_on - timedelta(days=60)) == 0  # not yet
    assert len(_notes(world.sponsor)) == 1 and _notes(market.other_user) == []
    agreements.renew_agreement(world.cw_a, agreement)
    db.session.execute(Notification.__table__.delete())
    assert inbox.remind_agreements_ending(month_before) == 0  # renewed: nothing to remind


def test_unpaid_stipends_past_the_due_day_remind_the_sponsor_weekly(world):
    market = factories.build_market(world)
    agreements.enter_paper_agreement(
        world.cw_b,
        market.open_post,
        market.other_org,
        {"start_on": date(2026, 1, 1), "end_on": date(2026, 12, 31), "signed_on": date(2025, 12, 20)},
        today=TODAY,
    )
    generate_month("2026-09", today=TODAY)
    assert inbox.remind_unpaid(TODAY) == 0  # the batch is still a draft
    db.session.execute(update(StipendBatch).values(status=BatchStatus.APPROVED))
    assert inbox.remind_unpaid(date(2026, 10, 15)) == 0  # due on 15 October: not past yet
    assert inbox.remind_unpaid(date(2026, 10, 16)) == 2  # the sponsor's user and the admin
    assert inbox.remind_unpaid(date(2026, 10, 17)) == 0  # same week
    (note,) = _notes(market.other_user)
    assert note.params == {"records": 1, "amount_fen": 50_000}


def test_inbox_page_badge_and_open(client, auth, world):
    db.session.execute(update(Family).where(Family.id == world.family_a.id).values(next_review_on=date(2026, 11, 1)))
    inbox.remind_reviews(TODAY)
    (note,) = _notes(world.cw_a)
    db.session.commit()
    auth.login("cw_a")
    page = client.get("/inbox/").get_data(as_text=True)
    assert "badge rounded-pill" in page and "1 户家庭待复核" in page
    other = client.post(f"/inbox/{note.id + 1000}/open", data={"csrf_token": csrf_token(client, "/inbox/")})
    assert other.status_code == 404
    response = client.post(f"/inbox/{note.id}/open", data={"csrf_token": csrf_token(client, "/inbox/")})
    assert response.status_code == 302 and response.headers["Location"] == "/families/?overdue=1"
    assert "badge rounded-pill" not in client.get("/inbox/").get_data(as_text=True)
    auth.logout()
    auth.login("cw_city")
    (city_note,) = _notes(world.cw_city)
    assert (
        client.post(f"/inbox/{city_note.id}/open", data={"csrf_token": csrf_token(client, "/inbox/")}).status_code
        == 302
    )
    assert client.post(f"/inbox/{note.id}/open", data={"csrf_token": csrf_token(client, "/inbox/")}).status_code == 404


def test_email_goes_to_the_log_in_development_once(app, world, caplog):
    world.cw_a.email = "cw_a@example.org"
    db.session.execute(update(Family).where(Family.id == world.family_a.id).values(next_review_on=date(2026, 11, 1)))
    inbox.remind_reviews(TODAY)
    app.config["ENV_NAME"] = "development"
    try:
        with caplog.at_level(logging.INFO, logger="assist.mail"):
            assert inbox.send_email() == 1
            assert inbox.send_email() == 0
    finally:
        app.config["ENV_NAME"] = "test"
    assert "mail to cw_a@example.org" in caplog.text and "/families/?overdue=1" in caplog.text
    assert db.session.scalar(select(func.count()).where(Notification.emailed_at.is_not(None))) == 1


def test_email_through_smtp_when_configured(app, world):
    """A real SMTP conversation with a local server (aiosmtpd is not needed: a tiny socket server records it)."""
    import socket
    import threading

    received = []
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]

    def serve():
        conn, _ = server.accept()
        f = conn.makefile("rwb")

        def say(line):
            f.write(line.encode() + b"\r\n")
            f.flush()

        say("220 test")
        data = False
        while True:
            line = f.readline()
            if not line:
                break
            text = line.decode().rstrip("\r\n")
            if data:
                if text == ".":
                    data = False
                    say("250 ok")
                else:
                    received.append(text)
                continue
            verb = text.split(" ")[0].upper()
            if verb in ("EHLO", "HELO"):
                say("250 test")
            elif verb == "DATA":
                data = True
                say("354 go")
            elif verb == "QUIT":
                say("221 bye")
                break
            else:
                say("250 ok")
        conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    world.cw_a.email = "cw_a@example.org"
    db.session.execute(update(Family).where(Family.id == world.family_a.id).values(next_review_on=date(2026, 11, 1)))
    inbox.remind_reviews(TODAY)
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_STARTTLS=False)
    try:
        assert inbox.send_email() == 1
    finally:
        app.config.update(SMTP_HOST="")
    thread.join(5)
    server.close()
    message = "\n".join(received)
    assert "To: cw_a@example.org" in message and "Subject:" in message


def test_profile_email(client, auth, world):
    auth.login("cw_a")
    token = csrf_token(client, "/profile")
    bad = client.post("/profile/email", data={"csrf_token": token, "email": "not an address"})
    assert bad.status_code == 422 and "电子邮箱" in bad.get_data(as_text=True)
    good = client.post("/profile/email", data={"csrf_token": token, "email": "cw_a@example.org"})
    assert good.status_code == 302
    db.session.refresh(world.cw_a)
    assert world.cw_a.email == "cw_a@example.org"
