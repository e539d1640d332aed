"""Twenty sponsors claim one post at the same moment, against a live server: exactly one wins, nineteen hear 409.

The app is served by werkzeug's threaded server on the test database (the SQLite file, or PostgreSQL when
DATABASE_URL says so), so each claim runs in its own thread, request context, session and database connection, as in
production. The connections are opened first and the requests released together by a barrier.
"""

import http.client
import json
import threading

from sqlalchemy import func, select
from werkzeug.serving import make_server

from assist.audit.models import AuditEntry
from assist.enums import PostStatus
from assist.extensions import db
from assist.posts.models import Post, PostEvent
from tests import factories
from tests.api.test_api import token_for

CLAIMANTS = 20


def _race(app, claims: list[tuple[str, int]]) -> dict[str, tuple[int, dict]]:
    """Serve the app and send every (token, post id) claim at the same moment; the answers by token (+ post id)."""
    db.session.commit()
    db.session.close()  # hold no transaction (on SQLite: no lock) while the server works
    server = make_server("127.0.0.1", 0, app, threaded=True)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    barrier = threading.Barrier(len(claims))
    answers: dict[str, tuple[int, dict]] = {}
    keys = {
        claim: claim[0] if len({t for t, _ in claims}) == len(claims) else f"{claim[0]} {claim[1]}" for claim in claims
    }

    def claim(token: str, post_id: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=60)
        try:
            connection.connect()
            barrier.wait(timeout=30)
            connection.request("POST", f"/api/v1/posts/{post_id}/claim", headers={"Authorization": token})
            response = connection.getresponse()
            answers[keys[(token, post_id)]] = (response.status, json.loads(response.read() or b"null"))
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=c) for c in claims]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=90)
    finally:
        server.shutdown()
        server.server_close()
        serving.join(timeout=10)
    return answers


def test_twenty_simultaneous_claims_have_exactly_one_winner(app, client, world):
    market = factories.build_market(world)
    post_id = market.open_post.id
    sponsors = [
        factories.sponsor(f"并发认领{i:02d}有限公司", username=f"racer{i:02d}", admin=world.admin)
        for i in range(CLAIMANTS)
    ]
    db.session.commit()
    tokens = [token_for(client, f"racer{i:02d}")["Authorization"] for i in range(CLAIMANTS)]
    sponsor_of_token = {token: s.id for token, s in zip(tokens, sponsors, strict=True)}
    db.session.commit()
    answers = _race(app, [(token, post_id) for token in tokens])

    assert len(answers) == CLAIMANTS, "a claim got no answer"
    statuses = sorted(status for status, _ in answers.values())
    assert statuses == [200] + [409] * (CLAIMANTS - 1), answers
    (winner,) = [token for token, (status, _) in answers.items() if status == 200]
    won = answers[winner][1]
    assert won["id"] == post_id and won["status"] == "claimed" and won["claim_expires_at"]
    for token, (status, body) in answers.items():
        if token == winner:
            continue
        assert set(body) == {"error"}, body
        assert body["error"]["code"] == "conflict" and body["error"]["fields"] == {"status": "claimed"}, body
        assert body["error"]["message"], body

    post = db.session.get(Post, post_id)
    assert post.status == PostStatus.CLAIMED and post.sponsor_id == sponsor_of_token[winner]
    events = db.session.scalars(select(PostEvent).where(PostEvent.post_id == post_id, PostEvent.action == "claim"))
    assert [e.sponsor_id for e in events] == [sponsor_of_token[winner]]
    audited = db.session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action == "claim", AuditEntry.entity_type == "post", AuditEntry.entity_id == str(post_id))
    )
    assert audited == 1


def test_simultaneous_claims_by_one_sponsor_stay_within_its_pledge(app, client, world):
    """One sponsor with room for a single post claims six posts at the same moment: one claim wins, five hear 409
    (the pledge is full), and the sponsor holds exactly one post."""
    sponsor_id = factories.sponsor("并发认领承诺有限公司", username="pledger", pledge_posts=1, admin=world.admin).id
    post_ids = [factories.open_post(world).id for _ in range(6)]
    db.session.commit()
    token = token_for(client, "pledger")["Authorization"]
    answers = _race(app, [(token, post_id) for post_id in post_ids])

    assert len(answers) == len(post_ids), "a claim got no answer"
    assert sorted(status for status, _ in answers.values()) == [200] + [409] * 5, answers
    for status, body in answers.values():
        if status == 409:
            assert body["error"]["fields"] == {"pledge": "posts"}, body
    held = db.session.scalars(select(Post).where(Post.sponsor_id == sponsor_id)).all()
    assert [p.status for p in held] == [PostStatus.CLAIMED]
    events = db.session.scalar(
        select(func.count())
        .select_from(PostEvent)
        .where(PostEvent.action == "claim", PostEvent.sponsor_id == sponsor_id)
    )
    assert events == 1
