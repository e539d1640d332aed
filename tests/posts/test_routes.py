"""Post pages through the client: create from a member, publish, history, cancel and release with reasons, scope."""

from sqlalchemy import select

from assist.enums import PostStatus
from assist.extensions import db
from assist.families.operations import update_member
from assist.posts.models import Post
from tests import factories
from tests.conftest import csrf_token


def _spouse(world):
    spouse = next(m for m in world.family_a.members if m.relation.value != "self")
    update_member(world.cw_a, spouse, {"work_ability": "partial"})
    db.session.commit()
    return spouse


def _terms(**kw) -> dict:
    return {
        "title": "居家手工编织",
        "duties": "每月完成手工编织品",
        "hours_per_month": "30",
        "monthly_amount_fen": "600",
        "term_months": "12",
        **kw,
    }


def test_a_caseworker_sets_up_publishes_and_cancels_a_post(client, auth, world):
    spouse = _spouse(world)
    family = world.family_a
    auth.login("cw_a")
    page = client.get(f"/families/{family.id}").get_data(as_text=True)
    new_url = f"/posts/new/{family.id}/{spouse.id}"
    assert new_url in page  # the link beside the eligible member
    form = client.get(new_url).get_data(as_text=True)
    assert 'value="500.00"' in form and 'value="12"' in form  # defaults from the settings

    token = csrf_token(client, new_url)
    bad = client.post(new_url, data={"csrf_token": token, **_terms(monthly_amount_fen="5000")})
    assert bad.status_code == 422 and "error-monthly_amount_fen" in bad.get_data(as_text=True)
    assert db.session.scalar(select(Post)) is None

    created = client.post(new_url, data={"csrf_token": token, **_terms()})
    assert created.status_code == 302
    post = db.session.scalar(select(Post))
    assert (post.status, post.monthly_amount_fen, post.member_id) == (PostStatus.DRAFT, 60_000, spouse.id)

    client.post(f"/posts/{post.id}/publish", data={"csrf_token": token})
    db.session.refresh(post)
    assert post.status == PostStatus.OPEN

    refused = client.post(f"/posts/{post.id}/cancel", data={"csrf_token": token, "cancel-reason": ""})
    assert refused.status_code == 422 and 'id="cancel-reason"' in refused.get_data(as_text=True)
    db.session.refresh(post)
    assert post.status == PostStatus.OPEN
    client.post(f"/posts/{post.id}/cancel", data={"csrf_token": token, "cancel-reason": "本人已就业"})
    db.session.refresh(post)
    assert post.status == PostStatus.ENDED

    history = client.get(f"/posts/{post.id}").get_data(as_text=True).split('id="post-history"')[1]
    for text in ("已创建", "已发布", "已作废", "本人已就业", "cw_a"):
        assert text in history, text


def test_edit_is_refused_once_claimed_and_release_needs_a_reason(client, auth, world):
    market = factories.build_market(world)
    post = market.claimed_post
    auth.login("cw_a")
    token = csrf_token(client, f"/posts/{post.id}")
    answer = client.post(f"/posts/{post.id}/edit", data={"csrf_token": token, **_terms()})
    assert answer.status_code == 422 and "草稿" in answer.get_data(as_text=True)
    db.session.refresh(post)
    assert post.title == "社区电话巡访员"

    bad = client.post(f"/posts/{post.id}/release", data={"csrf_token": token})
    assert bad.status_code == 422
    client.post(f"/posts/{post.id}/release", data={"csrf_token": token, "release-reason": "联系不上爱心单位"})
    db.session.refresh(post)
    assert post.status == PostStatus.OPEN and post.sponsor_id is None


def test_posts_outside_the_scope_are_not_found_and_not_listed(client, auth, world):
    market = factories.build_market(world)
    auth.login("cw_b")
    assert client.get(f"/posts/{market.claimed_post.id}").status_code == 404
    assert client.get(f"/posts/{market.claimed_post.id}/edit").status_code == 404
    listing = client.get("/posts/").get_data(as_text=True)
    assert "手工编织" in listing and "社区电话巡访员" not in listing
    assert "手工编织" not in client.get("/posts/?status=claimed").get_data(as_text=True)
    assert "手工编织" in client.get("/posts/?status=open&sort=amount&colour=junk").get_data(as_text=True)
