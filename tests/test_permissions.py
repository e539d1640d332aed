"""The permission matrix: every route, every role, the exact status code.

A new route fails here until it has a rule in ``assist.permissions.RULES`` and a row in ``EXPECTED``.

Roles: ``anon`` (no session, no token), ``admin``, ``cw_in`` (cw_a, whose area holds family_a), ``cw_out`` (cw_b,
a caseworker of another town: family_a's records answer 404 as if they did not exist), ``sponsor`` (speaks for the
organisation that claimed family_a's post and holds its agreement), ``provider``, ``sponsor_out`` (another approved
sponsor: the first sponsor's records answer it 404). The records are those of ``factories.build_market``.
Pages are called with a logged-in session and a valid CSRF token; the API with a bearer token from POST /api/v1/tokens.
POSTs carry an empty (or, where the empty one is valid, harmless) body, so an allowed caller gets its validation
answer and nothing else gets that far.
"""

from datetime import timedelta

import pytest
from flask import url_for
from sqlalchemy import select

from assist import permissions
from assist.assessments.models import Assessment
from assist.db_types import local_today
from assist.enums import Relation
from assist.extensions import db
from tests import factories
from tests.conftest import PASSWORD, csrf_token, own_request_contexts

ROLES = ("anon", "admin", "cw_in", "cw_out", "sponsor", "provider", "sponsor_out")
USERNAMES = {
    "admin": "admin",
    "cw_in": "cw_a",
    "cw_out": "cw_b",
    "sponsor": "sponsor",
    "provider": "provider",
    "sponsor_out": "sponsor_b",
}
METHODS_SKIPPED = {"HEAD", "OPTIONS"}
ENDPOINTS_SKIPPED = {"static"}


def row(anon, admin, cw_in, cw_out, sponsor, provider, sponsor_out=None) -> dict[str, int]:
    """The expected answers; ``sponsor_out`` gets the sponsor's unless told otherwise."""
    sponsor_out = sponsor if sponsor_out is None else sponsor_out
    return dict(zip(ROLES, (anon, admin, cw_in, cw_out, sponsor, provider, sponsor_out), strict=True))


def everyone(code: int) -> dict[str, int]:
    return row(code, code, code, code, code, code, code)


# pages: anon is sent to the login page
LOGGED_IN = row(302, 200, 200, 200, 200, 200)
STAFF = row(302, 200, 200, 200, 403, 403)
STAFF_422 = row(302, 422, 422, 422, 403, 403)
RECORD = row(302, 200, 200, 404, 403, 403)
RECORD_302 = row(302, 302, 302, 404, 403, 403)
RECORD_422 = row(302, 422, 422, 404, 403, 403)
ADMIN = row(302, 200, 403, 403, 403, 403)
ADMIN_422 = row(302, 422, 403, 403, 403, 403)
# API: anon gets 401 in the error shape
API_STAFF = row(401, 200, 200, 200, 403, 403)
API_STAFF_422 = row(401, 422, 422, 422, 403, 403)
API_RECORD = row(401, 200, 200, 404, 403, 403)
API_RECORD_201 = row(401, 201, 201, 404, 403, 403)

#: (endpoint, method) → role → status code
EXPECTED: dict[tuple[str, str], dict[str, int]] = {
    # main and auth
    ("main.index", "GET"): LOGGED_IN,
    # reports (issue 4): the certificate answers 404 while the sponsor has paid nothing that year
    ("reports.monthly", "GET"): STAFF,
    ("reports.monthly_xlsx", "GET"): STAFF,
    ("reports.monthly_csv", "GET"): STAFF,
    ("reports.monthly_pdf", "GET"): STAFF,
    ("reports.statement", "GET"): row(302, 200, 403, 403, 200, 403, 404),
    ("reports.certificate", "GET"): row(302, 404, 403, 403, 404, 403, 404),
    ("reports.certificates", "GET"): ADMIN,
    ("main.set_locale", "GET"): everyone(302),
    ("main.healthz", "GET"): everyone(200),
    ("auth.login", "GET"): row(200, 302, 302, 302, 302, 302),
    ("auth.login", "POST"): row(422, 302, 302, 302, 302, 302),
    ("auth.logout", "POST"): everyone(302),
    ("auth.profile", "GET"): LOGGED_IN,
    ("auth.email", "POST"): row(302, 302, 302, 302, 302, 302),  # an empty address is valid: saved
    ("inbox.index", "GET"): LOGGED_IN,
    ("inbox.open_notification", "POST"): row(302, 404, 404, 404, 404, 404),
    ("inbox.read_all", "POST"): row(302, 302, 302, 302, 302, 302),
    ("auth.profile", "POST"): row(302, 422, 422, 422, 422, 422),
    # families
    ("families.index", "GET"): STAFF,
    ("families.new", "GET"): STAFF,
    ("families.new", "POST"): STAFF_422,
    ("families.view", "GET"): RECORD,
    ("families.edit", "GET"): RECORD,
    ("families.edit", "POST"): RECORD_422,
    ("families.add_member", "GET"): RECORD,
    ("families.add_member", "POST"): RECORD_422,
    ("families.edit_member", "GET"): RECORD,
    ("families.edit_member", "POST"): RECORD_422,
    ("families.remove_member", "POST"): RECORD_302,  # the head cannot be removed: a message and back to the file
    ("families.reveal_id", "POST"): RECORD,
    ("families.incomes", "POST"): RECORD_422,
    ("families.consent", "GET"): RECORD,
    ("families.consent", "POST"): RECORD_422,
    ("families.close", "POST"): RECORD_422,
    ("families.confirm_exit", "POST"): RECORD_302,  # not an exit candidate: a message and back to the file
    ("families.return_to_hardship", "POST"): RECORD_422,
    ("assessments.new", "GET"): RECORD,
    ("assessments.new", "POST"): RECORD_422,
    ("assessments.view", "GET"): RECORD,
    # issue 3 web pages: sponsors, posts, agreements, the sponsor portal
    ("sponsors.register", "GET"): everyone(200),
    ("sponsors.register", "POST"): everyone(422),
    ("sponsors.registered", "GET"): everyone(200),
    ("sponsors.index", "GET"): ADMIN,
    ("sponsors.view", "GET"): ADMIN,
    ("sponsors.approve", "POST"): row(302, 302, 403, 403, 403, 403),  # already approved: a message, no change
    ("sponsors.reject", "POST"): ADMIN_422,
    ("sponsors.suspend", "POST"): ADMIN_422,
    ("sponsors.approve_change", "POST"): row(302, 302, 403, 403, 403, 403),  # no change pending: a message
    ("sponsors.reject_change", "POST"): ADMIN_422,
    ("sponsors.edit", "GET"): row(302, 200, 403, 403, 200, 403, 404),
    ("sponsors.edit", "POST"): row(302, 422, 403, 403, 422, 403, 404),
    ("sponsors.add_user", "POST"): row(302, 422, 403, 403, 422, 403, 404),
    ("sponsors.mine", "GET"): row(302, 403, 403, 403, 302, 403),
    ("posts.index", "GET"): STAFF,
    ("posts.new", "GET"): RECORD,
    ("posts.new", "POST"): RECORD_422,
    ("posts.view", "GET"): RECORD,
    ("posts.edit", "GET"): RECORD,
    ("posts.edit", "POST"): RECORD_422,
    ("posts.publish", "POST"): RECORD_302,  # a claimed post cannot be published: a message, no change
    ("posts.unpublish", "POST"): RECORD_302,
    ("posts.cancel", "POST"): RECORD_422,
    ("posts.release", "POST"): RECORD_422,
    ("posts.suspend", "POST"): RECORD_422,
    ("posts.resume", "POST"): RECORD_422,
    ("agreements.index", "GET"): STAFF,
    ("agreements.new", "GET"): RECORD,
    ("agreements.new", "POST"): RECORD_422,
    ("agreements.view", "GET"): RECORD,
    ("agreements.edit", "GET"): RECORD,
    ("agreements.edit", "POST"): RECORD_422,
    ("agreements.sign", "POST"): RECORD_422,
    ("agreements.scan", "GET"): row(302, 404, 404, 404, 403, 403),  # a draft has no scan yet
    ("agreements.pdf", "GET"): row(302, 200, 200, 404, 200, 403, 404),
    ("agreements.renew", "POST"): RECORD_302,  # a draft cannot be renewed: a message, no change
    ("agreements.terminate", "POST"): RECORD_422,
    ("agreements.cancel", "POST"): RECORD_302,  # cancels the draft: done last
    ("agreements.paper", "GET"): RECORD,
    ("agreements.paper", "POST"): RECORD_422,
    ("portal.market", "GET"): row(302, 403, 403, 403, 200, 403),
    ("portal.market_post", "GET"): row(302, 403, 403, 403, 200, 403),
    ("portal.claim", "POST"): row(302, 403, 403, 403, 302, 403),  # claims the open post: done last
    ("portal.claims", "GET"): row(302, 403, 403, 403, 200, 403),
    ("portal.withdraw", "POST"): row(302, 403, 403, 403, 302, 403, 404),  # withdraws the claim: done last
    ("portal.agreements", "GET"): row(302, 403, 403, 403, 200, 403),
    ("portal.agreement", "GET"): row(302, 403, 403, 403, 200, 403, 404),
    # administration
    ("admin.users", "GET"): ADMIN,
    ("admin.new_user", "GET"): ADMIN,
    ("admin.new_user", "POST"): ADMIN_422,
    ("admin.edit_user", "GET"): ADMIN,
    ("admin.edit_user", "POST"): ADMIN_422,
    ("admin.areas", "GET"): ADMIN,
    ("admin.areas", "POST"): ADMIN_422,
    ("admin.settings", "GET"): ADMIN,
    ("admin.settings", "POST"): ADMIN_422,
    ("admin.jobs", "GET"): ADMIN,
    ("admin.run_job", "POST"): row(302, 302, 403, 403, 403, 403),  # requested, back to the jobs page
    # stipends: batches and payments (issue 4) — the record is the sponsor's, in cw_a's area, its batch approved
    ("stipends.index", "GET"): row(302, 200, 200, 200, 200, 403),  # others see an empty list
    ("stipends.pay", "POST"): row(302, 422, 403, 403, 422, 403, 404),
    ("stipends.pay_bulk", "POST"): row(302, 422, 403, 403, 422, 403),  # nothing selected
    ("stipends.fail", "POST"): row(302, 422, 403, 403, 422, 403, 404),
    ("stipends.reissue", "POST"): row(302, 302, 403, 403, 302, 403, 404),  # not failed: a message and back
    ("stipends.adjust", "GET"): ADMIN,
    ("stipends.adjust", "POST"): ADMIN_422,
    ("stipends.batches", "GET"): ADMIN,
    ("stipends.generate", "POST"): ADMIN_422,
    ("stipends.batch", "GET"): ADMIN,
    ("stipends.approve", "POST"): row(302, 302, 403, 403, 403, 403),  # already approved: a message and back
    ("stipends.bank_import", "GET"): ADMIN,
    ("stipends.bank_import", "POST"): ADMIN_422,
    ("stipends.bank_sample", "GET"): ADMIN,
    ("audit.index", "GET"): ADMIN,
    # bulk matching (the matrix's run is sent already: send and discard answer with a message) and offers (the
    # sponsor's offer is of a post claimed meanwhile: accepting it is refused with a message)
    ("matching.index", "GET"): ADMIN,
    ("matching.propose", "POST"): row(302, 302, 403, 403, 403, 403),
    ("matching.run", "GET"): ADMIN,
    ("matching.send", "POST"): row(302, 302, 403, 403, 403, 403),
    ("matching.discard", "POST"): row(302, 302, 403, 403, 403, 403),
    ("matching.offers", "GET"): row(302, 403, 403, 403, 200, 403),
    ("matching.accept", "POST"): row(302, 403, 403, 403, 302, 403, sponsor_out=404),
    ("matching.decline", "POST"): row(302, 403, 403, 403, 422, 403, sponsor_out=404),
    # JSON API
    ("api-docs.openapi_json", "GET"): everyone(200),
    ("api_main.Health", "GET"): everyone(200),
    ("api_main.Tokens", "POST"): everyone(422),
    ("api_main.Tokens", "DELETE"): row(401, 204, 204, 204, 204, 204),
    ("api_areas.Areas", "GET"): API_STAFF,
    ("api_areas.Areas", "POST"): row(401, 422, 403, 403, 403, 403),
    ("api_families.Families", "GET"): API_STAFF,
    ("api_families.Families", "POST"): API_STAFF_422,
    ("api_families.FamilyById", "GET"): API_RECORD,
    ("api_families.FamilyById", "PATCH"): API_RECORD,
    ("api_families.Members", "POST"): API_RECORD_201,
    ("api_families.Incomes", "GET"): API_RECORD,
    ("api_families.Incomes", "POST"): API_RECORD_201,
    ("api_families.Assessments", "GET"): API_RECORD,
    ("api_families.Assessments", "POST"): API_RECORD_201,
    ("api_families.ColourHistory", "GET"): API_RECORD,
    # issue 3, the API part: sponsors, posts, the market and claims, agreements
    ("api_sponsors.Sponsors", "GET"): row(401, 200, 403, 403, 200, 403),
    ("api_sponsors.Sponsors", "POST"): everyone(422),  # public registration: the empty body is incomplete
    ("api_sponsors.SponsorById", "GET"): row(401, 200, 403, 403, 200, 403, 404),
    ("api_sponsors.ApproveSponsor", "POST"): row(401, 409, 403, 403, 403, 403),  # already approved
    ("api_sponsors.RejectSponsor", "POST"): row(401, 422, 403, 403, 403, 403),  # no reason given
    ("api_posts.Posts", "GET"): row(401, 200, 200, 200, 200, 403),
    ("api_posts.Posts", "POST"): API_STAFF_422,
    ("api_posts.PostById", "GET"): row(401, 200, 200, 404, 200, 403, 404),
    ("api_posts.PublishPost", "POST"): row(401, 409, 409, 404, 403, 403),  # it is claimed already
    ("api_posts.ClaimPost", "POST"): row(401, 403, 403, 403, 200, 403),  # the open post in town B
    ("api_posts.WithdrawClaim", "POST"): row(401, 403, 403, 403, 200, 403),  # the open post it claimed above
    ("api_posts.Market", "GET"): row(401, 403, 403, 403, 200, 403),
    ("api_agreements.Agreements", "POST"): API_STAFF_422,
    ("api_agreements.AgreementById", "GET"): row(401, 200, 200, 404, 200, 403, 404),
    ("api_agreements.AgreementPdf", "GET"): row(401, 200, 200, 404, 200, 403, 404),
    ("api_agreements.SignAgreement", "POST"): row(401, 200, 200, 404, 403, 403),
    ("api_agreements.TerminateAgreement", "POST"): row(401, 200, 200, 404, 403, 403),  # signed just before
    # identification (issue 5)
    ("identification.imports", "GET"): STAFF,
    ("identification.upload", "GET"): STAFF,
    ("identification.upload", "POST"): STAFF_422,
    ("identification.import_view", "GET"): RECORD,
    ("identification.mapping", "GET"): RECORD_302,  # already mapped: back to the import
    ("identification.mapping", "POST"): RECORD_302,
    ("identification.rejects", "GET"): RECORD,
    ("identification.original", "GET"): RECORD,
    ("identification.template", "GET"): STAFF,
    ("identification.candidates", "GET"): STAFF,
    ("identification.candidate", "GET"): RECORD,
    ("identification.assign", "POST"): RECORD_302,
    ("identification.visit", "POST"): RECORD_422,
    ("identification.dismiss", "POST"): RECORD_422,
    ("identification.file_family", "GET"): RECORD,
    ("identification.file_family", "POST"): RECORD_422,
    ("identification.apply_changes", "POST"): RECORD_302,  # not on a family file: a message and back
    ("api_identification.Imports", "GET"): API_STAFF,
    ("api_identification.Imports", "POST"): API_STAFF_422,
    ("api_identification.ImportById", "GET"): API_RECORD,
    ("api_identification.Candidates", "GET"): API_STAFF,
    # stipends: batches and payments (issue 4)
    ("api_stipends.Stipends", "GET"): row(401, 422, 422, 422, 422, 403),  # ?month= is required
    ("api_stipends.BatchApprove", "POST"): row(401, 409, 403, 403, 403, 403),  # already approved
    ("api_stipends.Payment", "POST"): row(401, 200, 403, 403, 200, 403, 404),
    # reports (issue 4): no month given: 422
    ("api_reports.MonthlyReport", "GET"): row(401, 422, 403, 403, 403, 403),
}

#: page POSTs whose empty body would be valid get one invalid field instead, so the allowed answer is the form's
PAGE_BODIES: dict[str, dict[str, str]] = {
    "families.edit": {"phone": "not a phone"},
    "families.edit_member": {"id_number": "123"},
    "families.consent": {"consent_on": "not a date"},
    "assessments.new": {"kind": "no-such-kind"},
}
#: API record routes get a valid body, so that only the scope check can refuse cw_out (the body is parsed first)
API_BODIES = {
    "api_families.Members": lambda: {
        "relation": "child",
        "name": "张小明",
        "id_number": factories.id_number(),
        "birth_date": "1980-05-17",
    },
    "api_families.Incomes": lambda: {"month": "2025-01", "amount_fen": 150_000},
    "api_families.Assessments": lambda: {"kind": "on_demand", "note": "matrix"},
    "api_families.FamilyById": lambda: {"notes": "矩阵测试"},  # a PATCH must change something (else 422)
    # issue 3, the API part
    "api_agreements.SignAgreement": lambda: {"signed_on": (local_today() - timedelta(days=1)).isoformat()},
    # inside the market agreement, which starts on the first of next month and runs twelve months
    "api_agreements.TerminateAgreement": lambda: {
        "end_date": (factories.next_month() + timedelta(days=200)).isoformat(),
        "reason": "矩阵测试",
    },
    "api_stipends.Payment": lambda: {"paid_on": "2026-10-10", "reference": "HZB-MATRIX-1"},
}
#: route argument → key of the matrix's ids, where an endpoint needs a different record than the default
ID_OVERRIDES: dict[str, dict[str, str]] = {
    # issue 3, the API part
    "api_posts.ClaimPost": {"post_id": "open_post_id"},
    "api_posts.WithdrawClaim": {"post_id": "open_post_id"},
    # issue 3 web pages: the market shows and claims the open post
    "portal.market_post": {"post_id": "open_post_id"},
    "portal.claim": {"post_id": "open_post_id"},
}
#: done last, in this order: they end the session or change what later requests would see
LAST = (
    "families.remove_member",
    "families.confirm_exit",
    # issue 3 web pages: these change the market's records, still before the session ends
    "agreements.cancel",
    "portal.withdraw",
    "portal.claim",
    # issue 3, the API part: the sponsor's claim of the open post (made through the API before) goes back
    "api_posts.WithdrawClaim",
    # issue 10: DELETE revokes the API token, and logout ends every session and token of the user
    "api_main.Tokens",
    "auth.login",
    "auth.logout",
)


def _rules(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ENDPOINTS_SKIPPED:
            continue
        for method in sorted(rule.methods - METHODS_SKIPPED):
            yield rule, method


def _order(item):
    rule, method = item
    last = LAST.index(rule.endpoint) if rule.endpoint in LAST else -1
    return (last, method != "GET", rule.endpoint, method)


def _url(app, rule, ids: dict) -> str:
    overrides = ID_OVERRIDES.get(rule.endpoint, {})
    with app.test_request_context():
        return url_for(rule.endpoint, **{name: ids[overrides.get(name, name)] for name in rule.arguments})


def test_every_route_has_a_rule_and_a_matrix_row(app):
    routes = {(rule.endpoint, method) for rule, method in _rules(app)}
    assert routes == set(EXPECTED), "add the route to EXPECTED (and RULES)"
    for endpoint, method in routes:
        assert permissions.rule_for(endpoint, method) is not None, f"{endpoint} {method} has no rule"
    assert set(permissions.RULES) - ENDPOINTS_SKIPPED == {e for e, _ in EXPECTED}, "a rule without a route"


def test_every_row_names_every_role():
    for key, codes in EXPECTED.items():
        assert tuple(codes) == ROLES, key


@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(app, world, role):
    market = factories.build_market(world)
    family = world.family_a
    head = next(m for m in family.members if m.relation == Relation.SELF)
    latest = db.session.scalar(
        select(Assessment).where(Assessment.family_id == family.id).order_by(Assessment.id.desc()).limit(1)
    )
    ids = {
        "family_id": family.id,
        "member_id": head.id,
        "assessment_id": latest.id,
        "user_id": world.cw_a.id,
        "code": "zh",
        "job_id": "database-statistics",
        "notification_id": 10**6,  # nobody's: a message of someone else answers 404 too
        # family_a's post, claimed by the sponsor's organisation, and its draft agreement
        "post_id": market.claimed_post.id,
        "agreement_id": market.agreement.id,
        "sponsor_id": market.org.id,
        # an open post in town B (the market's)
        "open_post_id": market.open_post.id,
        # bulk matching: a sent offer to the sponsor's organisation, and its run
        "offer_id": (offer := factories.sent_offer(market)).id,
        "run_id": offer.run_id,
        # stipends (issue 4): a record of the sponsor's agreement in an approved batch
        "stipend_id": factories.stipend(market.agreement, "2026-09").id,
        "month": "2026-09",
    }
    # identification (issue 5)
    from tests.identification.helpers import matrix_ids

    ids.update(matrix_ids(world))

    urls = {(rule.endpoint, method): _url(app, rule, ids) for rule, method in _rules(app)}
    with own_request_contexts():
        wrong = _walk(app, role, urls)
    assert not wrong, f"{role}:\n" + "\n".join(wrong)


def _walk(app, role: str, urls: dict) -> list[str]:
    """Call every route as ``role``; the answers that differ from EXPECTED."""
    pages = app.test_client()
    api = app.test_client()  # no session: the bearer token alone authenticates
    headers = {}
    if role == "anon":
        token = csrf_token(pages, "/login")
    else:
        response = pages.post(
            "/login",
            data={"username": USERNAMES[role], "password": PASSWORD, "csrf_token": csrf_token(pages, "/login")},
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        token = csrf_token(pages, "/profile")
        answer = api.post("/api/v1/tokens", json={"username": USERNAMES[role], "password": PASSWORD})
        assert answer.status_code == 201, answer.get_json()
        headers = {"Authorization": f"Bearer {answer.get_json()['token']}"}

    wrong = []
    for rule, method in sorted(_rules(app), key=_order):
        url = urls[(rule.endpoint, method)]
        if rule.rule.startswith("/api/"):
            body = API_BODIES.get(rule.endpoint, dict)() if method in ("POST", "PATCH") else None
            response = api.open(url, method=method, json=body, headers=headers)
            if response.status_code >= 400:
                error = (response.get_json(silent=True) or {}).get("error") or {}
                assert {"code", "message", "fields"} <= set(error), (url, method, response.get_data(as_text=True))
        elif method == "GET":
            response = pages.get(url)
        else:
            response = pages.open(url, method=method, data={"csrf_token": token, **PAGE_BODIES.get(rule.endpoint, {})})
        if response.status_code == 302 and role == "anon" and rule.endpoint not in ("main.set_locale",):
            assert response.headers["Location"].startswith("/login"), (url, response.headers["Location"])
        expected = EXPECTED[(rule.endpoint, method)][role]
        if response.status_code != expected:
            wrong.append(f"{method} {url} ({rule.endpoint}): expected {expected}, got {response.status_code}")
    return wrong
