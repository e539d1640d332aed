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
    db.session.close()  # hold no transaction (on SQLite: no lock) while the server works

    server = make_server("127.0.0.1", 0, app, threaded=True)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    barrier = threading.Barrier(CLAIMANTS)
    answers: dict[str, tuple[int, dict]] = {}

    def claim(token: str) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=60)
        try:
            connection.connect()
            barrier.wait(timeout=30)
            connection.request("POST", f"/api/v1/posts/{post_id}/claim", headers={"Authorization": token})
            response = connection.getresponse()
            answers[token] = (response.status, json.loads(response.read() or b"null"))
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(token,)) for token in tokens]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=90)
    finally:
        server.shutdown()
        server.server_close()
        serving.join(timeout=10)

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
