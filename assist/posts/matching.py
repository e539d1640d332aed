"""Bulk matching (批量匹配): open posts assigned to approved sponsors' remaining pledges, for the admin to review and send
as offers (匹配邀约) that each sponsor accepts (→ claimed) or declines.

The problem: every candidate pair (post p, sponsor s) has an integer priority w = colour points + waiting points +
an area bonus when p lies in one of s's preferred areas. Choose pairs x ∈ {0, 1} maximising Σ w·x such that each post
is chosen at most once, each sponsor gets at most its remaining posts, and the monthly amounts it gets add up to at
most its remaining budget. That is a generalised assignment problem (budgets make it a multiple knapsack, beyond a
plain assignment or flow), solved as a MILP by HiGHS (``scipy.optimize.milp``) on a sparse matrix of candidate pairs.

Candidate pruning keeps the MILP small at scale. When all feasible pairs number at most ``FULL_EDGES`` every one is a
candidate. Otherwise each post keeps, in the order of its priority:
- up to ``PREFERRED_CANDIDATES`` of the sponsors preferring its area, taken in turn from that area's list (sorted by
  spare places), so that the posts of one area spread over all the sponsors preferring it;
- ``OTHER_CANDIDATES`` sponsors taken in turn from a list of every spare place (sponsors in round-robin, a sponsor
  appearing once per place it has left), so each sponsor is reachable from a share of posts in proportion to its room;
- the pair the greedy baseline chose, so the optimum over the candidates is never below the greedy baseline.
Pairs whose amount exceeds the sponsor's whole remaining budget are never candidates.

The greedy baseline takes posts in priority order, each to the feasible sponsor giving the highest pair priority (the
one with the most budget left among equals). The proposal is the MILP's answer when it is at least as good; if the
MILP fails or runs out of time without a solution, the greedy result stands, and the run says so.
"""

from __future__ import annotations

import bisect
import heapq
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import aliased

from assist import audit
from assist.areas.models import Area
from assist.db_types import utcnow
from assist.enums import MatchRunStatus, OfferStatus, PostStatus, SponsorStatus
from assist.errors import Conflict, NotFound
from assist.extensions import db
from assist.families.models import Family, Member
from assist.i18n import yuan
from assist.posts.models import MatchRun, Offer, Post
from assist.posts.operations import _reason, carried, claim_post, sponsor_of
from assist.settings.operations import get_settings
from assist.sponsors.models import Sponsor, sponsor_areas

# the weights: one step of colour outweighs the longest waiting plus the area bonus (365 + 300 < 1000), so a redder
# post always has the higher priority; waiting then ranks posts of one colour, and the bonus steers the sponsor
#: colour rank (0 red, 1 yellow, 2 green, 3 not assessed) → points
COLOUR_POINTS = {0: 4000, 1: 3000, 2: 2000, 3: 1000}
WAIT_POINTS_PER_DAY = 1
WAIT_CAP_DAYS = 365
#: a post in one of the sponsor's preferred areas (or below one)
AREA_BONUS = 300

# the solver
PREFERRED_CANDIDATES = 2
OTHER_CANDIDATES = 1
#: up to this many feasible pairs, all are candidates (no pruning)
FULL_EDGES = 20_000
#: up to this many candidate pairs the MILP is solved to a proven optimum; above, to within MIP_GAP
EXACT_EDGES = 5_000
MIP_GAP = 1e-4
#: above this many candidate pairs the MILP is not tried: HiGHS's presolve and root LP on this generalised assignment
#: overrun the time limit by far (measured: 60 s and more at 10,000 posts × 1,000 sponsors), so the greedy result
#: stands and the run says so
MAX_MILP_EDGES = 10_000
TIME_LIMIT_SECONDS = 3.0

SOLVER_LABELS = {
    "highs": _l("HiGHS MILP (optimal)"),
    "highs-limit": _l("HiGHS MILP (best found within the time limit)"),
    "greedy": _l("Greedy (the MILP found nothing better)"),
    "greedy-fallback": _l("Greedy fallback (the MILP failed or ran out of time)"),
    "none": _l("Nothing to match"),
}


def solver_label(code: str) -> str:
    return str(SOLVER_LABELS.get(code, code))


# the pure problem -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostItem:
    id: int
    area_id: int
    amount_fen: int
    colour_rank: int = 3
    days_waiting: int = 0

    @property
    def colour_points(self) -> int:
        return COLOUR_POINTS.get(self.colour_rank, 0)

    @property
    def wait_points(self) -> int:
        return min(max(self.days_waiting, 0), WAIT_CAP_DAYS) * WAIT_POINTS_PER_DAY

    @property
    def points(self) -> int:
        return self.colour_points + self.wait_points


@dataclass(frozen=True)
class SponsorItem:
    id: int
    posts: int  # places left in its pledge
    budget_fen: int  # monthly budget left in its pledge
    #: area ids where its posts earn the bonus: its preferred areas and everything under them
    preferred: frozenset[int] = frozenset()


def pair_points(post: PostItem, sponsor: SponsorItem) -> int:
    return post.points + (AREA_BONUS if post.area_id in sponsor.preferred else 0)


@dataclass
class Solution:
    #: (post index, sponsor index)
    pairs: list[tuple[int, int]]
    objective: int
    greedy_pairs: list[tuple[int, int]]
    greedy_objective: int
    solver: str
    edges: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


def objective(posts: list[PostItem], sponsors: list[SponsorItem], pairs) -> int:
    return sum(pair_points(posts[p], sponsors[s]) for p, s in pairs)


def feasible(posts: list[PostItem], sponsors: list[SponsorItem], pairs) -> bool:
    """Each post at most once; each sponsor within its places and its budget."""
    seen: set[int] = set()
    count: dict[int, int] = defaultdict(int)
    spent: dict[int, int] = defaultdict(int)
    for p, s in pairs:
        if p in seen:
            return False
        seen.add(p)
        count[s] += 1
        spent[s] += posts[p].amount_fen
    return all(count[s] <= sponsors[s].posts and spent[s] <= sponsors[s].budget_fen for s in count)


def _priority_order(posts: list[PostItem]) -> list[int]:
    return sorted(range(len(posts)), key=lambda i: (-posts[i].points, posts[i].id))


def _preferred_by_area(sponsors: list[SponsorItem]) -> dict[int, list[int]]:
    """area id → indices of the sponsors preferring it, most spare places (then budget) first."""
    by_area: dict[int, list[int]] = defaultdict(list)
    for si, s in enumerate(sponsors):
        for area_id in s.preferred:
            by_area[area_id].append(si)
    for members in by_area.values():
        members.sort(key=lambda si: (-sponsors[si].posts, -sponsors[si].budget_fen, si))
    return by_area


def greedy(posts: list[PostItem], sponsors: list[SponsorItem]) -> list[tuple[int, int]]:
    """Posts in priority order, each to the feasible sponsor with the best pair priority (most budget among equals)."""
    places = [s.posts for s in sponsors]
    budget = [s.budget_fen for s in sponsors]
    preferred = _preferred_by_area(sponsors)
    heaps: dict[int, list[tuple[int, int]]] = {}
    everyone = [(-budget[si], si) for si in range(len(sponsors)) if places[si] > 0]
    heapq.heapify(everyone)

    def richest(heap: list[tuple[int, int]], amount: int) -> int | None:
        # budgets only fall, so a stale entry overstates its sponsor: refresh it and look again
        while heap:
            neg, si = heap[0]
            if places[si] <= 0:
                heapq.heappop(heap)
            elif -neg != budget[si]:
                heapq.heapreplace(heap, (-budget[si], si))
            else:
                return si if budget[si] >= amount else None
        return None

    pairs = []
    for pi in _priority_order(posts):
        post = posts[pi]
        heap = heaps.get(post.area_id)
        if heap is None:
            heap = heaps[post.area_id] = [(-budget[si], si) for si in preferred.get(post.area_id, ())]
            heapq.heapify(heap)
        si = richest(heap, post.amount_fen)
        if si is None:
            si = richest(everyone, post.amount_fen)
        if si is None:
            continue
        pairs.append((pi, si))
        places[si] -= 1
        budget[si] -= post.amount_fen
    return pairs


def candidate_edges(
    posts: list[PostItem], sponsors: list[SponsorItem], greedy_pairs: list[tuple[int, int]]
) -> list[tuple[int, int]]:
    """The pairs the MILP may choose (see the module's docstring for the pruning)."""
    useful = [si for si, s in enumerate(sponsors) if s.posts > 0 and s.budget_fen > 0]
    if not useful:
        return []
    amounts = sorted(p.amount_fen for p in posts)
    budgets = sorted(sponsors[si].budget_fen for si in useful)
    # feasible pairs counted without listing them: for each sponsor, the posts not dearer than its budget
    total = sum(bisect.bisect_right(amounts, b) for b in budgets)
    if total <= FULL_EDGES:
        return [(pi, si) for pi, p in enumerate(posts) for si in useful if p.amount_fen <= sponsors[si].budget_fen]

    useful_set = set(useful)
    preferred = {
        area: [si for si in members if si in useful_set] for area, members in _preferred_by_area(sponsors).items()
    }
    # every spare place once, sponsors in round-robin (richest first in each round)
    by_budget = sorted(useful, key=lambda si: (-sponsors[si].budget_fen, si))
    slots = [si for r in range(max(sponsors[si].posts for si in useful)) for si in by_budget if sponsors[si].posts > r]
    chosen_by_greedy = dict(greedy_pairs)
    turn: dict[int, int] = defaultdict(int)
    edges: list[tuple[int, int]] = []
    for rank, pi in enumerate(_priority_order(posts)):
        post = posts[pi]
        chosen: set[int] = set()
        members = preferred.get(post.area_id, [])
        if members:
            start = turn[post.area_id] * PREFERRED_CANDIDATES
            turn[post.area_id] += 1
            for j in range(min(PREFERRED_CANDIDATES, len(members))):
                si = members[(start + j) % len(members)]
                if sponsors[si].budget_fen >= post.amount_fen:
                    chosen.add(si)
        taken = 0
        for j in range(3 * OTHER_CANDIDATES):
            if taken == OTHER_CANDIDATES:
                break
            si = slots[(rank * OTHER_CANDIDATES + j) % len(slots)]
            if si not in chosen and sponsors[si].budget_fen >= post.amount_fen:
                chosen.add(si)
                taken += 1
        if pi in chosen_by_greedy:
            chosen.add(chosen_by_greedy[pi])
        edges.extend((pi, si) for si in sorted(chosen))
    return edges


def _milp(posts, sponsors, edges, time_limit: float, gap: float):
    """Solve over ``edges`` with HiGHS; returns (pairs or None, status word)."""
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import csr_array

    n, n_posts, n_sponsors = len(edges), len(posts), len(sponsors)
    ep = np.fromiter((p for p, _ in edges), dtype=np.int64, count=n)
    es = np.fromiter((s for _, s in edges), dtype=np.int64, count=n)
    amounts = np.fromiter((p.amount_fen for p in posts), dtype=np.float64, count=n_posts)
    weights = np.fromiter((pair_points(posts[p], sponsors[s]) for p, s in edges), dtype=np.float64, count=n)
    columns = np.arange(n)
    matrix = csr_array(
        (
            np.concatenate([np.ones(n), np.ones(n), amounts[ep]]),
            (np.concatenate([ep, n_posts + es, n_posts + n_sponsors + es]), np.concatenate([columns] * 3)),
        ),
        shape=(n_posts + 2 * n_sponsors, n),
    )
    upper = np.concatenate(
        [
            np.ones(n_posts),
            np.fromiter((s.posts for s in sponsors), dtype=np.float64, count=n_sponsors),
            np.fromiter((s.budget_fen for s in sponsors), dtype=np.float64, count=n_sponsors),
        ]
    )
    result = milp(
        -weights,
        constraints=LinearConstraint(matrix, -np.inf, upper),
        integrality=np.ones(n),
        bounds=Bounds(0, 1),
        options={"time_limit": time_limit, "mip_rel_gap": gap, "presolve": True},
    )
    if result.x is None or result.status not in (0, 1):
        return None, result.message
    picked = np.flatnonzero(result.x > 0.5)
    return [edges[i] for i in picked], "optimal" if result.status == 0 else "time limit"


def solve(
    posts: list[PostItem],
    sponsors: list[SponsorItem],
    time_limit: float = TIME_LIMIT_SECONDS,
    gap: float | None = None,
) -> Solution:
    """The proposal for ``posts`` and ``sponsors`` (pure: no database), with the greedy baseline beside it."""
    started = time.perf_counter()
    baseline = greedy(posts, sponsors)
    baseline_objective = objective(posts, sponsors, baseline)
    edges = candidate_edges(posts, sponsors, baseline)
    if not edges:
        return Solution([], 0, [], 0, "none", 0, time.perf_counter() - started)
    gap = (0.0 if len(edges) <= EXACT_EDGES else MIP_GAP) if gap is None else gap
    notes: list[str] = []
    if len(edges) > MAX_MILP_EDGES:
        pairs, status = None, f"{len(edges)} candidate pairs, over {MAX_MILP_EDGES}"
    else:
        try:
            pairs, status = _milp(posts, sponsors, edges, time_limit, gap)
        except (ValueError, RuntimeError, MemoryError) as exc:  # the solver could not run: the baseline stands
            pairs, status = None, str(exc)
    if pairs is not None and not feasible(posts, sponsors, pairs):
        pairs, status = None, "infeasible answer"
    if pairs is None:
        notes.append(f"MILP: {status}")
        solver, pairs = "greedy-fallback", baseline
    elif objective(posts, sponsors, pairs) < baseline_objective:
        solver, pairs = "greedy", baseline
    else:
        solver = "highs" if status == "optimal" else "highs-limit"
    return Solution(
        pairs=sorted(pairs),
        objective=objective(posts, sponsors, pairs),
        greedy_pairs=baseline,
        greedy_objective=baseline_objective,
        solver=solver,
        edges=len(edges),
        seconds=time.perf_counter() - started,
        notes=notes,
    )


# from the database ----------------------------------------------------------------------------------------------------


def _areas() -> dict[int, tuple[str, str]]:
    """area id → (path, name)."""
    return {i: (path, name) for i, path, name in db.session.execute(select(Area.id, Area.path, Area.name))}


def matchable_posts(now: datetime) -> list[PostItem]:
    """Open posts that no sponsor holds an offer for."""
    sent = select(Offer.post_id).where(Offer.status == OfferStatus.SENT)
    rows = db.session.execute(
        select(Post.id, Post.area_id, Post.monthly_amount_fen, Post.colour_rank, Post.published_at)
        .where(Post.status == PostStatus.OPEN, Post.id.not_in(sent))
        .order_by(Post.id)
    )
    return [
        PostItem(i, area, amount, rank, max((now - published).days, 0) if published else 0)
        for i, area, amount, rank, published in rows
    ]


def matchable_sponsors(areas: dict[int, tuple[str, str]]) -> list[SponsorItem]:
    """Approved sponsors with places and budget left in their pledges, with their preferred subtrees expanded."""
    held = carried()
    rows = db.session.execute(
        select(Sponsor.id, Sponsor.pledge_posts, Sponsor.pledge_budget_fen)
        .where(Sponsor.status == SponsorStatus.APPROVED)
        .order_by(Sponsor.id)
    ).all()
    chosen: dict[int, list[int]] = defaultdict(list)
    for sponsor_id, area_id in db.session.execute(select(sponsor_areas.c.sponsor_id, sponsor_areas.c.area_id)):
        chosen[sponsor_id].append(area_id)
    # an area lies under a preferred area when that area's id is on its path ("/1/4/17/")
    ancestors = {area_id: {int(x) for x in path.strip("/").split("/") if x} for area_id, (path, _) in areas.items()}
    items = []
    for sponsor_id, pledge_posts, pledge_budget in rows:
        n, spent = held.get(sponsor_id, (0, 0))
        places, budget = pledge_posts - n, pledge_budget - spent
        if places <= 0 or budget <= 0:
            continue
        roots = set(chosen.get(sponsor_id, ()))
        preferred = frozenset(a for a, up in ancestors.items() if up & roots) if roots else frozenset()
        items.append(SponsorItem(sponsor_id, places, budget, preferred))
    return items


def reasons_for(post: PostItem, sponsor: SponsorItem, load: tuple[int, int], area_name: str) -> list[dict]:
    """Why this sponsor for this post: each part of the priority, and the pledge it fits in."""
    colour = {0: "red", 1: "yellow", 2: "green"}.get(post.colour_rank)
    parts = [
        {"code": "colour", "points": post.colour_points, "params": {"colour": colour}},
        {
            "code": "waiting",
            "points": post.wait_points,
            "params": {"days": post.days_waiting, "cap": WAIT_CAP_DAYS},
        },
    ]
    if post.area_id in sponsor.preferred:
        parts.append({"code": "preferred_area", "points": AREA_BONUS, "params": {"area": area_name}})
    places, spent = load
    parts.append(
        {
            "code": "budget",
            "points": 0,
            "params": {
                "amount_fen": post.amount_fen,
                "remaining_fen": sponsor.budget_fen,
                "left_fen": sponsor.budget_fen - spent,
            },
        }
    )
    parts.append({"code": "places", "points": 0, "params": {"remaining": sponsor.posts, "proposed": places}})
    return parts


def explain(reason: dict) -> str:
    """One reason as a sentence in the reader's language (its points are shown beside it)."""
    code, params = reason.get("code"), reason.get("params") or {}
    if code == "colour":
        return str(
            {"red": _l("Red family"), "yellow": _l("Yellow family"), "green": _l("Green family")}.get(
                params.get("colour"), _l("Family not yet assessed")
            )
        )
    if code == "waiting":
        days, cap = params.get("days", 0), params.get("cap", WAIT_CAP_DAYS)
        if days > cap:
            return _("Waiting %(days)s days (counted as %(cap)s)", days=days, cap=cap)
        return _("Waiting %(days)s days", days=days)
    if code == "preferred_area":
        return _("In a preferred area (%(area)s)", area=params.get("area", ""))
    if code == "budget":
        return _(
            "%(amount)s yuan a month, within the remaining budget: %(left)s yuan a month left after this proposal",
            amount=yuan(params.get("amount_fen")),
            left=yuan(params.get("left_fen")),
        )
    if code == "places":
        return _(
            "%(remaining)s place(s) left in the pledge, %(proposed)s proposed",
            remaining=params.get("remaining", 0),
            proposed=params.get("proposed", 0),
        )
    return str(code)


# operations -----------------------------------------------------------------------------------------------------------


def propose(actor, now: datetime | None = None, time_limit: float = TIME_LIMIT_SECONDS) -> MatchRun:
    """Compute a matching proposal (批量匹配方案) and store it with its offers (PROPOSED) for review."""
    started = time.perf_counter()
    now = now or utcnow()
    areas = _areas()
    posts = matchable_posts(now)
    sponsors = matchable_sponsors(areas)
    solution = solve(posts, sponsors, time_limit=time_limit)
    run = MatchRun(
        status=MatchRunStatus.PROPOSED,
        posts_considered=len(posts),
        sponsors_considered=len(sponsors),
        objective=solution.objective,
        greedy_objective=solution.greedy_objective,
        solver=solution.solver,
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(run)
    db.session.flush()
    loads: dict[int, tuple[int, int]] = defaultdict(lambda: (0, 0))
    for pi, si in solution.pairs:
        n, spent = loads[si]
        loads[si] = (n + 1, spent + posts[pi].amount_fen)
    rows = [
        {
            "run_id": run.id,
            "post_id": posts[pi].id,
            "sponsor_id": sponsors[si].id,
            "status": OfferStatus.PROPOSED,
            "points": pair_points(posts[pi], sponsors[si]),
            "reasons": reasons_for(posts[pi], sponsors[si], loads[si], areas.get(posts[pi].area_id, ("", ""))[1]),
        }
        for pi, si in solution.pairs
    ]
    if rows:
        db.session.execute(insert(Offer), rows)
    run.seconds = round(time.perf_counter() - started, 3)
    audit.record(
        actor,
        "propose",
        "match_run",
        run.id,
        after={
            "pairs": len(rows),
            "objective": run.objective,
            "greedy_objective": run.greedy_objective,
            "solver": run.solver,
            "candidate_pairs": solution.edges,
            "seconds": run.seconds,
            **({"notes": solution.notes} if solution.notes else {}),
        },
        summary=f"{len(rows)} pairs, {solution.solver}",
    )
    db.session.flush()
    return run


def _move_run(run: MatchRun, to: MatchRunStatus, **values) -> None:
    result = db.session.execute(
        update(MatchRun)
        .where(MatchRun.id == run.id, MatchRun.status == MatchRunStatus.PROPOSED)
        .values(status=to, **values)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(run)
    if result.rowcount != 1:
        raise Conflict(str(_l("This proposal has already been sent or discarded.")), {"status": run.status.value})


def send_offers(actor, run: MatchRun, now: datetime | None = None) -> int:
    """Send a proposal's offers (PROPOSED → SENT, answerable for offer_days); offers whose post has meanwhile left the
    market, has another offer out, or whose sponsor is no longer approved lapse. Returns the number sent."""
    now = now or utcnow()
    _move_run(run, MatchRunStatus.SENT, sent_at=now)
    other = aliased(Offer)
    sent = db.session.execute(
        update(Offer)
        .where(
            Offer.run_id == run.id,
            Offer.status == OfferStatus.PROPOSED,
            Offer.post_id.in_(select(Post.id).where(Post.status == PostStatus.OPEN)),
            Offer.sponsor_id.in_(select(Sponsor.id).where(Sponsor.status == SponsorStatus.APPROVED)),
            ~select(other.id).where(other.post_id == Offer.post_id, other.status == OfferStatus.SENT).exists(),
        )
        .values(status=OfferStatus.SENT, expires_at=now + timedelta(days=get_settings()["offer_days"]))
        .execution_options(synchronize_session=False)
    ).rowcount
    lapsed = db.session.execute(
        update(Offer)
        .where(Offer.run_id == run.id, Offer.status == OfferStatus.PROPOSED)
        .values(status=OfferStatus.LAPSED, responded_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    audit.record(
        actor,
        "send",
        "match_run",
        run.id,
        before={"status": "proposed"},
        after={"status": "sent", "offers_sent": sent, "offers_lapsed": lapsed},
    )
    db.session.flush()
    return sent


def discard(actor, run: MatchRun) -> MatchRun:
    """Throw a proposal away unsent."""
    _move_run(run, MatchRunStatus.DISCARDED)
    db.session.execute(
        update(Offer)
        .where(Offer.run_id == run.id, Offer.status == OfferStatus.PROPOSED)
        .values(status=OfferStatus.DISCARDED)
        .execution_options(synchronize_session=False)
    )
    audit.record(actor, "discard", "match_run", run.id, before={"status": "proposed"}, after={"status": "discarded"})
    db.session.flush()
    return run


def _answer(offer: Offer, to: OfferStatus, now: datetime, **values) -> bool:
    """Move a sent offer on; False when it was no longer sent (answered, lapsed) in the database."""
    result = db.session.execute(
        update(Offer)
        .where(Offer.id == offer.id, Offer.status == OfferStatus.SENT)
        .values(status=to, responded_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(offer)
    return result.rowcount == 1


def _no_longer_open(offer: Offer) -> Conflict:
    from assist.enums import label

    return Conflict(
        str(_l("This offer is no longer open (it is %(state)s).", state=label(offer.status))),
        {"status": offer.status.value},
    )


def accept_offer(actor, offer: Offer, now: datetime | None = None) -> Post:
    """The sponsor accepts its offer: the post is claimed for it by the same conditional update as a market claim.

    When the post went elsewhere meanwhile the offer lapses and a Conflict is raised; the caller keeps the lapse.
    """
    sponsor = sponsor_of(actor)
    if offer.sponsor_id != sponsor.id:
        raise NotFound(str(_l("No such offer.")))
    now = now or utcnow()
    if offer.status != OfferStatus.SENT:
        raise _no_longer_open(offer)
    if offer.expires_at is not None and offer.expires_at <= now:
        _answer(offer, OfferStatus.LAPSED, now)
        raise Conflict(str(_l("This offer has expired.")), {"status": OfferStatus.LAPSED.value})
    post = offer.post
    try:
        with db.session.begin_nested():
            # claim_post marks this offer accepted when it is still sent (and every other offer of the post lapsed)
            claim_post(actor, post, sponsor, now=now)
            db.session.refresh(offer)
            if offer.status != OfferStatus.ACCEPTED:
                raise _no_longer_open(offer)
    except Conflict:
        db.session.refresh(post)
        _answer(offer, OfferStatus.LAPSED, now)
        raise
    audit.record(actor, "accept", "offer", offer.id, before={"status": "sent"}, after={"status": "accepted"})
    db.session.flush()
    return post


def decline_offer(actor, offer: Offer, reason: str, now: datetime | None = None) -> Offer:
    """The sponsor declines its offer, with a reason; the post stays on the market."""
    sponsor = sponsor_of(actor)
    if offer.sponsor_id != sponsor.id:
        raise NotFound(str(_l("No such offer.")))
    reason = _reason(reason)
    if not _answer(offer, OfferStatus.DECLINED, now or utcnow(), decline_reason=reason):
        raise _no_longer_open(offer)
    audit.record(
        actor, "decline", "offer", offer.id, before={"status": "sent"}, after={"status": "declined", "note": reason}
    )
    db.session.flush()
    return offer


# what the pages show --------------------------------------------------------------------------------------------------


@dataclass
class OfferedPost:
    """A sent offer as its sponsor sees it: the market's anonymised facts of the post and why it was offered."""

    offer_id: int
    expires_at: datetime | None
    points: int
    reasons: list
    post_id: int
    area: str
    category: object
    colour: object
    primary_type: object
    family_size: int
    title: str
    duties: str
    hours_per_month: int
    monthly_amount_fen: int
    term_months: int
    days_waiting: int


def sponsor_offers(sponsor_id: int, now: datetime | None = None, limit: int = 500) -> list[OfferedPost]:
    """The sponsor's open offers, best first (columns only: nothing personal is selected)."""
    now = now or utcnow()
    rows = db.session.execute(
        select(
            Offer.id,
            Offer.expires_at,
            Offer.points,
            Offer.reasons,
            Post.id.label("post_id"),
            Post.area_id,
            Post.family_id,
            Post.title,
            Post.duties,
            Post.hours_per_month,
            Post.monthly_amount_fen,
            Post.term_months,
            Post.published_at,
            Family.hardship_category,
            Family.primary_type,
            Family.colour,
        )
        .join(Post, Post.id == Offer.post_id)
        .join(Family, Family.id == Post.family_id)
        .where(Offer.sponsor_id == sponsor_id, Offer.status == OfferStatus.SENT, Offer.expires_at > now)
        .order_by(Offer.points.desc(), Offer.id)
        .limit(limit)
    ).all()
    families = {r.family_id for r in rows}
    sizes = dict(
        db.session.execute(
            select(Member.family_id, func.count())
            .where(Member.family_id.in_(families), Member.is_current)
            .group_by(Member.family_id)
        ).all()
    )
    names = dict(db.session.execute(select(Area.id, Area.name).where(Area.id.in_({r.area_id for r in rows}))).all())
    return [
        OfferedPost(
            offer_id=r.id,
            expires_at=r.expires_at,
            points=r.points,
            reasons=r.reasons or [],
            post_id=r.post_id,
            area=names.get(r.area_id, ""),
            category=r.hardship_category,
            colour=r.colour,
            primary_type=r.primary_type,
            family_size=sizes.get(r.family_id, 0),
            title=r.title,
            duties=r.duties,
            hours_per_month=r.hours_per_month,
            monthly_amount_fen=r.monthly_amount_fen,
            term_months=r.term_months,
            days_waiting=max((now - r.published_at).days, 0) if r.published_at else 0,
        )
        for r in rows
    ]


@dataclass
class SponsorLoad:
    sponsor_id: int
    name: str
    proposed: int
    proposed_fen: int
    carried: int
    carried_fen: int
    pledge_posts: int
    pledge_budget_fen: int


def run_totals(run: MatchRun) -> dict[str, int]:
    """Offers of a run by state, and their monthly amounts in total."""
    rows = db.session.execute(
        select(Offer.status, func.count(), func.coalesce(func.sum(Post.monthly_amount_fen), 0))
        .join(Post, Post.id == Offer.post_id)
        .where(Offer.run_id == run.id)
        .group_by(Offer.status)
    ).all()
    totals = {status.value if hasattr(status, "value") else status: int(n) for status, n, _ in rows}
    totals["pairs"] = sum(int(n) for _, n, _ in rows)
    totals["amount_fen"] = sum(int(fen) for _, _, fen in rows)
    totals["sponsors"] = db.session.scalar(
        select(func.count(func.distinct(Offer.sponsor_id))).where(Offer.run_id == run.id)
    )
    return totals


def sponsor_loads(run: MatchRun, page: int = 1, per_page: int = 50) -> list[SponsorLoad]:
    """Per sponsor of a run: what the run gives it beside what it carries and what it pledged (most proposed first)."""
    rows = db.session.execute(
        select(
            Sponsor.id,
            Sponsor.name,
            Sponsor.pledge_posts,
            Sponsor.pledge_budget_fen,
            func.count(Offer.id).label("n"),
            func.coalesce(func.sum(Post.monthly_amount_fen), 0).label("fen"),
        )
        .join(Offer, Offer.sponsor_id == Sponsor.id)
        .join(Post, Post.id == Offer.post_id)
        .where(Offer.run_id == run.id)
        .group_by(Sponsor.id, Sponsor.name, Sponsor.pledge_posts, Sponsor.pledge_budget_fen)
        .order_by(func.count(Offer.id).desc(), Sponsor.id)
        .limit(per_page)
        .offset((max(page, 1) - 1) * per_page)
    ).all()
    held = carried([r.id for r in rows]) if rows else {}
    return [
        SponsorLoad(r.id, r.name, int(r.n), int(r.fen), *held.get(r.id, (0, 0)), r.pledge_posts, r.pledge_budget_fen)
        for r in rows
    ]
