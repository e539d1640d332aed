"""Every authorisation rule in one place: which role may call which endpoint, and which records are in a user's scope.

An endpoint without a rule here is refused (403) and fails the permission-matrix test, so a new route cannot slip out
unguarded. Records outside a user's scope answer 404, exactly like records that do not exist.
"""

from flask import abort, g
from flask_login import current_user
from sqlalchemy import or_

from assist.areas.models import Area
from assist.enums import Role
from assist.extensions import db

PUBLIC = "public"
A, C, S, P = Role.ADMIN, Role.CASEWORKER, Role.SPONSOR, Role.PROVIDER
STAFF = frozenset({A, C})
EVERYONE = frozenset({A, C, S, P})
ADMIN = frozenset({A})

#: endpoint → PUBLIC, a set of roles, or {method: roles}
RULES: dict[str, object] = {
    "static": PUBLIC,
    "main.set_locale": PUBLIC,
    "main.healthz": PUBLIC,
    "auth.login": PUBLIC,
    "auth.logout": EVERYONE,
    "main.index": EVERYONE,
    # reports (issue 4): the monthly report for staff (scoped), statements and certificates for the admin and the
    # sponsor itself (get_sponsor_or_404), the list of certificates for the admin
    "reports.monthly": STAFF,
    "reports.monthly_xlsx": STAFF,
    "reports.monthly_csv": STAFF,
    "reports.monthly_pdf": STAFF,
    "reports.statement": frozenset({A, S}),
    "reports.certificate": frozenset({A, S}),
    "reports.certificates": ADMIN,
    "auth.profile": EVERYONE,
    "auth.email": EVERYONE,
    "inbox.index": EVERYONE,
    "inbox.open_notification": EVERYONE,
    "inbox.read_all": EVERYONE,
    # families (一户一档)
    "families.index": STAFF,
    "families.new": STAFF,
    "families.view": STAFF,
    "families.edit": STAFF,
    "families.add_member": STAFF,
    "families.edit_member": STAFF,
    "families.remove_member": STAFF,
    "families.reveal_id": STAFF,
    "families.incomes": STAFF,
    "families.consent": STAFF,
    "families.close": STAFF,
    "families.confirm_exit": STAFF,
    "families.return_to_hardship": STAFF,
    "assessments.new": STAFF,
    "assessments.view": STAFF,
    # issue 3 web pages: sponsors (爱心单位), posts (虚拟岗位), agreements (帮扶协议), the sponsor portal
    "sponsors.register": PUBLIC,
    "sponsors.registered": PUBLIC,
    "sponsors.index": ADMIN,
    "sponsors.view": ADMIN,
    "sponsors.approve": ADMIN,
    "sponsors.reject": ADMIN,
    "sponsors.suspend": ADMIN,
    "sponsors.approve_change": ADMIN,
    "sponsors.reject_change": ADMIN,
    "sponsors.edit": frozenset({A, S}),
    "sponsors.add_user": frozenset({A, S}),
    "sponsors.mine": frozenset({S}),
    "posts.index": STAFF,
    "posts.new": STAFF,
    "posts.view": STAFF,
    "posts.edit": STAFF,
    "posts.publish": STAFF,
    "posts.unpublish": STAFF,
    "posts.cancel": STAFF,
    "posts.release": STAFF,
    "posts.suspend": STAFF,
    "posts.resume": STAFF,
    "agreements.index": STAFF,
    "agreements.new": STAFF,
    "agreements.view": STAFF,
    "agreements.edit": STAFF,
    "agreements.sign": STAFF,
    "agreements.scan": STAFF,
    "agreements.pdf": frozenset({A, C, S}),
    "agreements.renew": STAFF,
    "agreements.terminate": STAFF,
    "agreements.cancel": STAFF,
    "agreements.paper": STAFF,
    "portal.market": frozenset({S}),
    "portal.market_post": frozenset({S}),
    "portal.claim": frozenset({S}),
    "portal.claims": frozenset({S}),
    "portal.withdraw": frozenset({S}),
    "portal.agreements": frozenset({S}),
    "portal.agreement": frozenset({S}),
    # administration
    "admin.users": ADMIN,
    "admin.new_user": ADMIN,
    "admin.edit_user": ADMIN,
    "admin.areas": ADMIN,
    "admin.settings": ADMIN,
    "admin.jobs": ADMIN,
    "admin.run_job": ADMIN,
    # stipends: batches and payments (issue 4) — the admin's batches and bank reconciliation; the sponsor pays its
    # own records (sponsor scope in the loaders), a caseworker reads those in its areas
    "stipends.index": frozenset({A, C, S}),
    "stipends.pay": frozenset({A, S}),
    "stipends.pay_bulk": frozenset({A, S}),
    "stipends.fail": frozenset({A, S}),
    "stipends.reissue": frozenset({A, S}),
    "stipends.adjust": ADMIN,
    "stipends.batches": ADMIN,
    "stipends.generate": ADMIN,
    "stipends.batch": ADMIN,
    "stipends.approve": ADMIN,
    "stipends.bank_import": ADMIN,
    "stipends.bank_sample": ADMIN,
    "audit.index": ADMIN,
    # bulk matching (批量匹配) and the sponsors' offers (匹配邀约)
    "matching.index": ADMIN,
    "matching.propose": ADMIN,
    "matching.run": ADMIN,
    "matching.send": ADMIN,
    "matching.discard": ADMIN,
    "matching.offers": frozenset({S}),
    "matching.accept": frozenset({S}),
    "matching.decline": frozenset({S}),
    # JSON API
    "api-docs.openapi_json": PUBLIC,
    "api_main.Health": PUBLIC,
    "api_main.Tokens": {"POST": PUBLIC, "DELETE": EVERYONE},
    "api_areas.Areas": {"GET": STAFF, "POST": ADMIN},
    "api_families.Families": STAFF,
    "api_families.FamilyById": STAFF,
    "api_families.Members": STAFF,
    "api_families.Incomes": STAFF,
    "api_families.Assessments": STAFF,
    "api_families.ColourHistory": STAFF,
    # issue 3, the API part: sponsors, posts, the market and claims, agreements
    "api_sponsors.Sponsors": {"GET": frozenset({A, S}), "POST": PUBLIC},
    "api_sponsors.SponsorById": frozenset({A, S}),
    "api_sponsors.ApproveSponsor": ADMIN,
    "api_sponsors.RejectSponsor": ADMIN,
    "api_posts.Posts": {"GET": frozenset({A, C, S}), "POST": STAFF},
    "api_posts.PostById": frozenset({A, C, S}),
    "api_posts.PublishPost": STAFF,
    "api_posts.ClaimPost": frozenset({S}),
    "api_posts.WithdrawClaim": frozenset({S}),
    "api_posts.Market": frozenset({S}),
    "api_agreements.Agreements": STAFF,
    "api_agreements.AgreementById": frozenset({A, C, S}),
    "api_agreements.AgreementPdf": frozenset({A, C, S}),
    "api_agreements.SignAgreement": STAFF,
    "api_agreements.TerminateAgreement": STAFF,
    # stipends: batches and payments (issue 4)
    "api_stipends.Stipends": frozenset({A, C, S}),
    "api_stipends.BatchApprove": ADMIN,
    "api_stipends.Payment": frozenset({A, S}),
    # reports (issue 4)
    "api_reports.MonthlyReport": ADMIN,
}


def rule_for(endpoint: str | None, method: str):
    """The rule for an endpoint and method: PUBLIC, a set of roles, or None (no rule: refuse)."""
    rule = RULES.get(endpoint or "")
    if isinstance(rule, dict):
        rule = rule.get("GET" if method == "HEAD" else method)
    return rule


def allowed(user, endpoint: str | None, method: str = "GET") -> bool:
    """True when ``user`` (or an anonymous caller) may call ``endpoint`` at all (scope is checked by the loaders)."""
    rule = rule_for(endpoint, method)
    if rule is None:
        return False
    if rule == PUBLIC:
        return True
    return bool(user and user.is_authenticated and user.role in rule)


def is_public(endpoint: str | None, method: str = "GET") -> bool:
    return rule_for(endpoint, method) == PUBLIC


def area_ids_in_scope(user=None) -> frozenset[int] | None:
    """Ids of the areas whose records ``user`` may see; None means every area (admin)."""
    user = user or current_user
    if user.role == Role.ADMIN:
        return None
    cache = g.setdefault("assist_scope", {}) if _in_app() else {}
    if user.id in cache:
        return cache[user.id]
    if user.role != Role.CASEWORKER or not user.areas:
        ids: frozenset[int] = frozenset()
    else:
        prefixes = [a.path for a in user.areas]
        ids = frozenset(db.session.scalars(db.select(Area.id).where(or_(*(Area.path.startswith(p) for p in prefixes)))))
    cache[user.id] = ids
    return ids


def _in_app() -> bool:
    from flask import has_app_context

    return has_app_context()


def scope_filter(column, user=None):
    """A WHERE clause keeping rows whose area column is in the user's scope (True for admins)."""
    ids = area_ids_in_scope(user)
    if ids is None:
        return True
    return column.in_(sorted(ids)) if ids else False


def area_in_scope(area: Area, user=None) -> bool:
    ids = area_ids_in_scope(user)
    return ids is None or area.id in ids


def scoped_areas(user=None) -> list[Area]:
    """The areas a user may choose from, in code order."""
    return list(db.session.scalars(db.select(Area).where(scope_filter(Area.id, user)).order_by(Area.path)))


def get_family_or_404(family_id: int, user=None):
    """The family if it exists and lies in the user's scope; otherwise 404."""
    from assist.families.models import Family

    family = db.session.get(Family, family_id)
    if family is None or not area_in_scope(family.area, user or current_user):
        abort(404)
    return family


def get_member_or_404(family, member_id: int):
    """A member of ``family`` (already scope-checked); otherwise 404."""
    from assist.families.models import Member

    member = db.session.get(Member, member_id)
    if member is None or member.family_id != family.id:
        abort(404)
    return member


def get_post_or_404(post_id: int, user=None):
    """A post for staff in whose scope its family lies, or for the sponsor holding or carrying it; otherwise 404."""
    from assist.posts.models import Post

    user = user or current_user
    post = db.session.get(Post, post_id)
    if post is None:
        abort(404)
    if user.role == Role.SPONSOR:
        if post.sponsor_id is None or post.sponsor_id != user.sponsor_id:
            abort(404)
    elif user.role not in STAFF or not area_in_scope(post.area, user):
        abort(404)
    return post


def get_market_post_or_404(post_id: int, claiming: bool = False):
    """An open post as the market shows it (any sponsor may look; nothing personal is loaded by the caller).

    ``claiming``: any post that has been on the market, so that a claim arriving just after another sponsor's hears
    "already claimed" (409) from the claim itself rather than "not found"."""
    from assist.enums import PostStatus
    from assist.posts.models import Post

    post = db.session.get(Post, post_id)
    if post is None or (post.published_at is None if claiming else post.status != PostStatus.OPEN):
        abort(404)
    return post


def get_agreement_or_404(agreement_id: int, user=None):
    """An agreement for staff in whose scope it lies, or for its own sponsor; otherwise 404."""
    from assist.agreements.models import Agreement

    user = user or current_user
    agreement = db.session.get(Agreement, agreement_id)
    if agreement is None:
        abort(404)
    if user.role == Role.SPONSOR:
        if agreement.sponsor_id != user.sponsor_id:
            abort(404)
    elif user.role not in STAFF or not area_in_scope(db.session.get(Area, agreement.area_id), user):
        abort(404)
    return agreement


def get_sponsor_or_404(sponsor_id: int, user=None):
    """A sponsor for staff, or a sponsor user's own organisation; otherwise 404."""
    from assist.sponsors.models import Sponsor

    user = user or current_user
    sponsor = db.session.get(Sponsor, sponsor_id)
    if sponsor is None or (user.role == Role.SPONSOR and user.sponsor_id != sponsor.id) or user.role == Role.PROVIDER:
        abort(404)
    return sponsor


def sponsor_scope(user=None):
    """A WHERE clause keeping the sponsors a user may list: all for the admin, a sponsor's user its own organisation."""
    from assist.sponsors.models import Sponsor

    user = user or current_user
    if user.role == Role.ADMIN:
        return True
    if user.role == Role.SPONSOR and user.sponsor_id:
        return Sponsor.id == user.sponsor_id
    return False


def post_scope(user=None):
    """A WHERE clause keeping the posts a user may list: staff by area, a sponsor its own."""
    from assist.posts.models import Post

    user = user or current_user
    if user.role == Role.SPONSOR:
        return Post.sponsor_id == user.sponsor_id if user.sponsor_id else False
    return scope_filter(Post.area_id, user)


def agreement_scope(user=None):
    """A WHERE clause keeping the agreements a user may list: staff by area, a sponsor its own."""
    from assist.agreements.models import Agreement

    user = user or current_user
    if user.role == Role.SPONSOR:
        return Agreement.sponsor_id == user.sponsor_id if user.sponsor_id else False
    return scope_filter(Agreement.area_id, user)


def get_offer_or_404(offer_id: int, user=None):
    """A matching offer for the sponsor it was made to; otherwise 404."""
    from assist.posts.models import Offer

    user = user or current_user
    offer = db.session.get(Offer, offer_id)
    if offer is None or user.role != Role.SPONSOR or offer.sponsor_id != user.sponsor_id:
        abort(404)
    return offer


# identification (issue 5)
RULES.update(
    {
        "identification.imports": STAFF,
        "identification.upload": STAFF,
        "identification.import_view": STAFF,
        "identification.mapping": STAFF,
        "identification.rejects": STAFF,
        "identification.original": STAFF,
        "identification.template": STAFF,
        "identification.candidates": STAFF,
        "identification.candidate": STAFF,
        "identification.assign": STAFF,
        "identification.visit": STAFF,
        "identification.dismiss": STAFF,
        "identification.file_family": STAFF,
        "identification.apply_changes": STAFF,
        "api_identification.Imports": STAFF,
        "api_identification.ImportById": STAFF,
        "api_identification.Candidates": STAFF,
    }
)


def get_import_or_404(import_id: int, user=None):
    """A worker import the user may see (an admin: any; a caseworker: their own); otherwise 404."""
    from assist.identification.models import WorkerImport

    user = user or current_user
    imp = db.session.get(WorkerImport, import_id)
    if imp is None or (user.role != Role.ADMIN and imp.created_by_id != user.id):
        abort(404)
    return imp


def get_candidate_or_404(candidate_id: int, user=None):
    """A candidate in the user's areas; otherwise 404."""
    from assist.identification.models import Candidate

    candidate = db.session.get(Candidate, candidate_id)
    if candidate is None or not area_in_scope(candidate.area, user or current_user):
        abort(404)
    return candidate


# stipends (待遇发放): a sponsor sees the records it pays, staff those in their areas, a provider none
def stipend_scope(user=None):
    """A WHERE clause keeping the stipend records a user may list."""
    from assist.stipends.models import StipendRecord

    user = user or current_user
    if user.role == Role.SPONSOR:
        return StipendRecord.sponsor_id == user.sponsor_id if user.sponsor_id else False
    if user.role not in STAFF:
        return False
    return scope_filter(StipendRecord.area_id, user)


def get_stipend_or_404(stipend_id: int, user=None):
    """A stipend record its paying sponsor or staff in whose scope it lies may see; otherwise 404."""
    from assist.stipends.models import StipendRecord

    user = user or current_user
    record = db.session.get(StipendRecord, stipend_id)
    if record is None:
        abort(404)
    if user.role == Role.SPONSOR:
        if not user.sponsor_id or record.sponsor_id != user.sponsor_id:
            abort(404)
    elif user.role not in STAFF or not area_in_scope(db.session.get(Area, record.area_id), user):
        abort(404)
    return record
