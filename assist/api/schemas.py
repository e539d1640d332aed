"""Marshmallow schemas of the JSON API; strings are bounded so nothing oversized reaches the database."""

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from assist import checks
from assist.enums import (
    ArchiveType,
    AssessmentKind,
    Colour,
    HardshipCategory,
    Health,
    Housing,
    IdentityStatus,
    ProfileType,
    Relation,
    Schooling,
    WorkAbility,
)

MAX_FEN = 2_000_000_000


def _shows_something(value: str) -> None:
    if not checks.visible(value):
        raise ValidationError(str(_l("This field is required.")))


def _no_bad_chars(value: str) -> None:
    if "\x00" in value or any("\ud800" <= c <= "\udfff" for c in value):
        raise ValidationError("Contains a NUL character or an unpaired surrogate.")


def _nothing_invisible(value: str) -> None:
    if problem := checks.invisible_error(checks.visible(value)):
        raise ValidationError(problem)


class Text(fields.String):
    """A bounded string without NUL characters or lone surrogates, nor invisible characters inside it (see
    assist.checks; ``invisible=True`` lets them through, for a password); with ``min_length`` it must show something."""

    def __init__(self, max_length: int, min_length: int = 0, invisible: bool = False, **kwargs):
        validators = [validate.Length(min=min_length, max=max_length), _no_bad_chars]
        if not invisible:
            validators.append(_nothing_invisible)
        if min_length and not invisible:
            validators.append(_shows_something)
        super().__init__(validate=validators, **kwargs)
        self.metadata.setdefault("maxLength", max_length)


def Enum(enum_cls, **kwargs):
    return fields.String(validate=validate.OneOf([m.value for m in enum_cls]), **kwargs)


def Fen(**kwargs):
    return fields.Integer(strict=True, validate=validate.Range(0, MAX_FEN), **kwargs)


Month = lambda **kw: fields.String(validate=validate.Regexp(r"^(19|20)[0-9]{2}-(0[1-9]|1[0-2])\Z"), **kw)  # noqa: E731
SafeDate = lambda **kw: fields.Date(validate=validate.Range(min=__import__("datetime").date(1900, 1, 1)), **kw)  # noqa: E731


class ErrorBody(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    fields = fields.Dict(keys=fields.String(), values=fields.String())


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBody, required=True)


class HealthSchema(Schema):
    status = fields.String()


class TokenRequest(Schema):
    username = Text(60, required=True)
    password = Text(256, required=True, invisible=True)


class TokenSchema(Schema):
    token = fields.String()
    #: when the token stops working (it ends sooner at logout, a password change, deactivation or DELETE /tokens)
    expires_at = fields.DateTime()


class AreaSchema(Schema):
    code = Text(20, required=True)
    name = Text(60, required=True)
    parent_code = Text(20, allow_none=True, load_default=None)


class MemberIn(Schema):
    relation = Enum(Relation, required=True)
    name = Text(40, min_length=1, required=True)
    id_number = Text(22, required=True)
    birth_date = SafeDate(allow_none=True)
    health = Enum(Health, load_default="healthy")
    disability_grade = fields.Integer(strict=True, allow_none=True, validate=validate.Range(1, 4))
    illness = Text(100, load_default="")
    work_ability = Enum(WorkAbility, load_default="full")
    schooling = Enum(Schooling, load_default="none")


class MemberOut(Schema):
    id = fields.Integer()
    relation = fields.String()
    name = fields.String()
    id_number = fields.String(metadata={"description": "masked unless ?reveal=1"})
    birth_year = fields.Integer()
    age = fields.Integer(metadata={"description": "the age reached this year"})
    birth_date = fields.Date(
        allow_none=True,
        metadata={"description": "only with ?reveal=1: the mask and the birth date together are the full number"},
    )
    health = fields.String()
    disability_grade = fields.Integer(allow_none=True)
    illness = fields.String()
    work_ability = fields.String()
    schooling = fields.String()


class FamilyFields(Schema):
    phone = Text(20)
    address = Text(200)
    area_code = Text(20)
    hardship_category = Enum(HardshipCategory)
    archive_type = Enum(ArchiveType)
    employer = Text(100)
    employer_union = Text(100)
    identity_status = Enum(IdentityStatus)
    accident_on = SafeDate(allow_none=True)
    accident_note = Text(200)
    single_parent = fields.Boolean()
    debt_fen = Fen()
    housing = Enum(Housing)
    notes = Text(2000)
    consent_on = SafeDate(allow_none=True)
    consent_scope = Text(200)


class FamilyIn(FamilyFields):
    head_name = Text(40, min_length=1, required=True)
    head_id_number = Text(22, required=True)
    head_health = Enum(Health)
    head_disability_grade = fields.Integer(strict=True, allow_none=True, validate=validate.Range(1, 4))
    head_work_ability = Enum(WorkAbility)
    area_code = Text(20, required=True)
    hardship_category = Enum(HardshipCategory, required=True)
    members = fields.List(fields.Nested(MemberIn), validate=validate.Length(max=30), load_default=list)


class FamilyPatch(FamilyFields):
    @validates_schema
    def _changes_something(self, data, **kwargs):
        if not data:
            raise ValidationError(str(_l("Nothing to change: send at least one field.")), "_schema")


class FamilyOut(Schema):
    id = fields.Integer()
    head_name = fields.String()
    head_id_number = fields.String()
    phone = fields.String()
    address = fields.String()
    area_code = fields.String()
    status = fields.String()
    hardship_category = fields.String()
    archive_type = fields.String()
    identity_status = fields.String()
    employer = fields.String()
    employer_union = fields.String()
    accident_on = fields.Date(allow_none=True)
    single_parent = fields.Boolean()
    debt_fen = fields.Integer()
    housing = fields.String()
    consent_on = fields.Date(allow_none=True)
    consent_scope = fields.String()
    colour = fields.String(allow_none=True, validate=validate.OneOf([c.value for c in Colour]))
    score = fields.Integer(allow_none=True)
    primary_type = fields.String(allow_none=True)
    next_review_on = fields.Date(allow_none=True)
    exit_flagged_on = fields.Date(allow_none=True)
    members = fields.List(fields.Nested(MemberOut))


class FamilySummary(Schema):
    id = fields.Integer()
    head_name = fields.String()
    area_code = fields.String()
    status = fields.String()
    hardship_category = fields.String()
    colour = fields.String(allow_none=True)
    score = fields.Integer(allow_none=True)
    primary_type = fields.String(allow_none=True)
    next_review_on = fields.Date(allow_none=True)


class FamilyPage(Schema):
    items = fields.List(fields.Nested(FamilySummary))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


class FamilyListArgs(Schema):
    colour = Enum(Colour)
    area_code = Text(20)
    category = Enum(HardshipCategory)
    overdue = fields.Boolean()
    q = Text(40)
    sort = fields.String(validate=validate.OneOf(["review", "score", "name", "newest"]), load_default="review")
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))
    per_page = fields.Integer(load_default=25, validate=validate.Range(1, 100))


class RevealArgs(Schema):
    reveal = fields.Boolean(load_default=False)


class IncomeIn(Schema):
    month = Month(required=True)
    amount_fen = Fen(required=True)
    medical_fen = Fen(load_default=0)
    education_fen = Fen(load_default=0)


class IncomeOut(Schema):
    id = fields.Integer()
    month = fields.String()
    amount_fen = fields.Integer()
    medical_fen = fields.Integer()
    education_fen = fields.Integer()


class AssessmentIn(Schema):
    kind = Enum(AssessmentKind, load_default="on_demand")
    note = Text(500, load_default="")


class FactorOut(Schema):
    name = fields.String()
    points = fields.Integer()
    detail = fields.Dict()


class AssessmentOut(Schema):
    id = fields.Integer()
    kind = fields.String()
    score = fields.Integer()
    colour = fields.String(validate=validate.OneOf([c.value for c in Colour]))
    primary_type = fields.String(validate=validate.OneOf([t.value for t in ProfileType]))
    types = fields.List(fields.String())
    factors = fields.List(fields.Nested(FactorOut))
    hard_trigger = fields.String(allow_none=True)
    assessed_at = fields.DateTime()


class ColourChangeOut(Schema):
    from_ = fields.String(data_key="from", attribute="from_colour", allow_none=True)
    to = fields.String(attribute="to_colour")
    reason = fields.String()
    at = fields.DateTime()
    by = fields.String(allow_none=True)


# sponsors, posts, the market and agreements (issue 3: the API part) ---------------------------------------------------

from assist.enums import PostStatus, SponsorStatus  # noqa: E402


def Page(**kw):
    return fields.Integer(load_default=1, validate=validate.Range(1, 100_000), **kw)


def PerPage(**kw):
    return fields.Integer(load_default=25, validate=validate.Range(1, 100), **kw)


class SponsorIn(Schema):
    name = Text(100, required=True)
    credit_code = Text(30, required=True, metadata={"description": "统一社会信用代码, 18 characters (GB 32100)"})
    contact_name = Text(40, required=True)
    phone = Text(20, required=True)
    email = Text(120, load_default="")
    address = Text(200, load_default="")
    areas = fields.List(
        Text(20), validate=validate.Length(max=50), load_default=list, metadata={"description": "area codes"}
    )
    pledge_posts = fields.Integer(strict=True, load_default=1, validate=validate.Range(0, 1000))
    pledge_budget_fen = Fen(load_default=0)
    username = Text(60, required=True, load_only=True, metadata={"description": "the sponsor's first user"})
    password = Text(256, required=True, load_only=True, invisible=True)


class SponsorChangeOut(Schema):
    name = fields.String()
    credit_code = fields.String()
    requested_at = fields.DateTime()


class SponsorOut(Schema):
    id = fields.Integer()
    name = fields.String()
    credit_code = fields.String()
    contact_name = fields.String()
    phone = fields.String()
    email = fields.String()
    address = fields.String()
    areas = fields.List(fields.String(), metadata={"description": "preferred area codes"})
    pledge_posts = fields.Integer()
    pledge_budget_fen = fields.Integer()
    remaining_posts = fields.Integer(metadata={"description": "pledged posts not yet claimed or carried"})
    remaining_budget_fen = fields.Integer()
    status = fields.String(validate=validate.OneOf([s.value for s in SponsorStatus]))
    status_reason = fields.String()
    decided_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    pending_change = fields.Nested(
        SponsorChangeOut,
        allow_none=True,
        metadata={"description": "a new name or credit code awaiting the union's approval (the above stay in force)"},
    )


class SponsorListArgs(Schema):
    status = Enum(SponsorStatus)
    page = Page()
    per_page = PerPage()


class SponsorPage(Schema):
    items = fields.List(fields.Nested(SponsorOut))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


class ApproveIn(Schema):
    pass


class ReasonIn(Schema):
    reason = Text(200, required=True)


class PostIn(Schema):
    member_id = fields.Integer(strict=True, required=True, validate=validate.Range(1, 2**31 - 1))
    title = Text(100, required=True)
    duties = Text(2000)
    hours_per_month = fields.Integer(strict=True, validate=validate.Range(1, 200))
    monthly_amount_fen = Fen()
    term_months = fields.Integer(strict=True, validate=validate.Range(1, 60))


class PostEventOut(Schema):
    action = fields.String()
    from_status = fields.String(allow_none=True)
    to_status = fields.String()
    effective_on = fields.Date(allow_none=True)
    note = fields.String()
    by = fields.String()
    at = fields.DateTime()


class PostOut(Schema):
    id = fields.Integer()
    status = fields.String(validate=validate.OneOf([s.value for s in PostStatus]))
    title = fields.String()
    duties = fields.String()
    hours_per_month = fields.Integer()
    monthly_amount_fen = fields.Integer()
    term_months = fields.Integer()
    area_code = fields.String()
    area = fields.String()
    published_at = fields.DateTime(allow_none=True)
    claimed_at = fields.DateTime(allow_none=True)
    claim_expires_at = fields.DateTime(allow_none=True)
    ended_on = fields.Date(allow_none=True)
    sponsor_id = fields.Integer(allow_none=True)
    sponsor_name = fields.String(allow_none=True)
    # staff only (a sponsor's answer leaves these out)
    family_id = fields.Integer(metadata={"description": "staff only"})
    member_id = fields.Integer(metadata={"description": "staff only"})
    member_name = fields.String(metadata={"description": "staff only"})
    colour = fields.String(allow_none=True)
    created_at = fields.DateTime()
    allowed_actions = fields.List(fields.String(), metadata={"description": "staff only"})
    events = fields.List(fields.Nested(PostEventOut), metadata={"description": "staff only: the post's history"})


class PostListArgs(Schema):
    status = Enum(PostStatus)
    area_code = Text(20)
    page = Page()
    per_page = PerPage()


class PostPage(Schema):
    items = fields.List(fields.Nested(PostOut))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


class ClaimOut(Schema):
    id = fields.Integer()
    status = fields.String()
    claim_expires_at = fields.DateTime(allow_none=True)


class MarketArgs(Schema):
    area_code = Text(20)
    colour = Enum(Colour)
    category = Enum(HardshipCategory)
    max_amount_fen = fields.Integer(validate=validate.Range(0, MAX_FEN))
    within_budget = fields.Boolean(load_default=False)
    preferred_only = fields.Boolean(load_default=False)
    page = Page()
    per_page = fields.Integer(load_default=20, validate=validate.Range(1, 100))


class MarketPostOut(Schema):
    id = fields.Integer()
    area = fields.String()
    category = fields.String()
    colour = fields.String(allow_none=True)
    primary_type = fields.String(allow_none=True)
    family_size = fields.Integer()
    title = fields.String()
    duties = fields.String()
    hours_per_month = fields.Integer()
    monthly_amount_fen = fields.Integer()
    term_months = fields.Integer()
    days_waiting = fields.Integer()
    preferred = fields.Boolean(metadata={"description": "in one of the sponsor's preferred areas"})
    within_budget = fields.Boolean(metadata={"description": "within the sponsor's remaining monthly pledge"})
    claimable = fields.Boolean(
        metadata={"description": "the sponsor's pledge has room for it (a post left and within the budget left)"}
    )


class MarketPage(Schema):
    items = fields.List(fields.Nested(MarketPostOut))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()
    remaining_budget_fen = fields.Integer()
    remaining_posts = fields.Integer(metadata={"description": "pledged posts not yet claimed or carried"})


class AgreementIn(Schema):
    post_id = fields.Integer(strict=True, required=True, validate=validate.Range(1, 2**31 - 1))
    start_date = SafeDate(required=True)
    end_date = SafeDate(allow_none=True, metadata={"description": "default: the post's term from the start date"})
    monthly_amount_fen = Fen()
    hours_per_month = fields.Integer(strict=True, validate=validate.Range(1, 200))
    duties = Text(2000)


class SignIn(Schema):
    signed_on = SafeDate(required=True)


class TerminateIn(Schema):
    end_date = SafeDate(required=True, metadata={"description": "the agreement's last day"})
    reason = Text(200, required=True)


class AgreementMemberOut(Schema):
    name = fields.String()
    phone = fields.String(metadata={"description": "the family's contact number"})


class AgreementOut(Schema):
    id = fields.Integer()
    number = fields.String()
    status = fields.String()
    post_id = fields.Integer()
    post_status = fields.String()
    sponsor_id = fields.Integer()
    sponsor_name = fields.String(metadata={"description": "甲方 as signed (its name now while a draft)"})
    sponsor_credit_code = fields.String(metadata={"description": "甲方's unified social credit code as signed"})
    union_name = fields.String(metadata={"description": "丙方 as signed"})
    start_date = fields.Date()
    end_date = fields.Date()
    monthly_amount_fen = fields.Integer()
    hours_per_month = fields.Integer()
    duties = fields.String()
    signed_on = fields.Date(allow_none=True)
    terminated_on = fields.Date(allow_none=True)
    termination_reason = fields.String()
    previous_id = fields.Integer(allow_none=True)
    from_paper = fields.Boolean()
    area_code = fields.String()
    member = fields.Nested(
        AgreementMemberOut,
        allow_none=True,
        metadata={"description": "乙方: for the sponsor only once signed (name and contact, nothing more)"},
    )
    member_id = fields.Integer(metadata={"description": "staff only"})
    family_id = fields.Integer(metadata={"description": "staff only"})
