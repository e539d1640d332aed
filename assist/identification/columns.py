"""The columns of a worker file: the standard template, how headers are recognised, and checking each row.

A row's problems are kept as codes with parameters (not sentences), so the rejects report and the pages show them in
the reader's language whenever they are read.
"""

import re
from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import partial
from operator import mul

from flask_babel import lazy_gettext as _l

from assist import checks, crypto
from assist.db_types import local_today
from assist.enums import Health, IdentityStatus, WorkAbility
from assist.identification import screening
from assist.identification.reader import MAX_CELL
from assist.idnumber import CHECK_CHARS, WEIGHTS


@dataclass(frozen=True)
class Column:
    field: str
    #: the template's Chinese header and the English name also accepted
    zh: str
    en: str
    label: object
    required: bool = False
    #: in the Contract's standard template (the others are optional extras screening can use)
    standard: bool = True


COLUMNS = (
    Column("name", "姓名", "name", _l("Name"), required=True),
    Column("id_number", "身份证号", "id_number", _l("ID number"), required=True),
    Column("phone", "联系电话", "phone", _l("Phone")),
    Column("area_code", "区域代码", "area_code", _l("Area code"), required=True),
    Column("employer", "工作单位", "employer", _l("Employer")),
    Column("household_size", "家庭人口", "household_size", _l("Household size")),
    Column("monthly_income_yuan", "家庭月收入（元）", "monthly_income_yuan", _l("Household income per month (yuan)")),
    Column("health", "健康状况", "health", _l("Health")),
    Column("work_ability", "劳动能力", "work_ability", _l("Work ability")),
    Column("source", "数据来源", "source", _l("Data source")),
    Column("medical_yuan", "年医疗支出（元）", "medical_yuan", _l("Medical spending per year (yuan)"), standard=False),
    Column("accident_on", "意外日期", "accident_on", _l("Date of accident"), standard=False),
    Column("employment", "就业状况", "employment", _l("Employment status"), standard=False),
    Column("dependants", "抚养人数", "dependants", _l("Dependants"), standard=False),
)
BY_FIELD = {c.field: c for c in COLUMNS}
REQUIRED = tuple(c.field for c in COLUMNS if c.required)

HEALTH = {
    "健康": Health.HEALTHY,
    "良好": Health.HEALTHY,
    "慢性病": Health.CHRONIC,
    "大病": Health.SERIOUS_ILLNESS,
    "重病": Health.SERIOUS_ILLNESS,
    "重大疾病": Health.SERIOUS_ILLNESS,
    "残疾": Health.DISABLED,
    **{h.value: h for h in Health},
}
WORK_ABILITY = {
    "具备": WorkAbility.FULL,
    "完全": WorkAbility.FULL,
    "正常": WorkAbility.FULL,
    "部分丧失": WorkAbility.PARTIAL,
    "丧失": WorkAbility.NONE,
    "完全丧失": WorkAbility.NONE,
    **{w.value: w for w in WorkAbility},
}
EMPLOYMENT = {
    "在岗": IdentityStatus.EMPLOYED,
    "在职": IdentityStatus.EMPLOYED,
    "下岗": IdentityStatus.LAID_OFF,
    "失业": IdentityStatus.UNEMPLOYED,
    "退休": IdentityStatus.RETIRED,
    "病休": IdentityStatus.SICK_LEAVE,
    "内退": IdentityStatus.EARLY_RETIRED,
    "农民工": IdentityStatus.MIGRANT,
    **{s.value: s for s in IdentityStatus},
}

#: the problems a row can have: code → message with %(name)s parameters
MESSAGES = {
    "required": _l("This field is required."),
    "too_long": _l("Too long: %(n)s characters (at most %(max)s)."),
    "formula": _l("This cell holds a formula; enter the value itself."),
    "control": _l("Remove the control characters."),
    "invisible": _l("Remove the invisible characters (zero-width spaces, direction marks)."),
    "id_number_cell": _l(
        "The ID number is stored as a number, so Excel has kept only 15 digits; format the column as text and enter it again."
    ),
    "id_scientific": _l(
        "Excel has turned the ID number into scientific notation (like 3.30482E+17) and lost digits; format the column as text and enter it again."
    ),
    "id_digits_lost": _l(
        "The ID number ends in zeros where Excel drops digits, and its check character fails; enter it again as text."
    ),
    "id_15": _l("15 digits: an old-form ID number, or digits lost by Excel; enter the 18-character number."),
    "id_length": _l("An ID number has 18 characters; this one has %(n)s."),
    "id_chars": _l("An ID number is 17 digits followed by a digit or X."),
    "id_region": _l("The ID number's region code is not valid."),
    "id_birth_date": _l("The birth date inside the ID number is not a real date."),
    "id_birth_implausible": _l("The birth date inside the ID number is not plausible."),
    "id_check": _l("The ID number's check character is wrong; please check for a typing error."),
    "duplicate": _l("The same ID number is already on row %(row)s of this file."),
    "area_unknown": _l("Unknown area code %(code)s."),
    "area_outside": _l("Area %(code)s is outside your areas."),
    "amount": _l("Enter an amount in yuan with at most two decimals, from 0 to 20,000,000."),
    "integer": _l("Enter a whole number from %(lo)s to %(hi)s."),
    "date": _l("Enter a date like 2025-03-01, from 1900 and not in the future."),
    "choice": _l("Use one of: %(values)s."),
    "phone": _l("Enter a phone number of digits (5–20 characters)."),
}
CHOICE_HINTS = {
    "health": "健康, 慢性病, 大病, 残疾",
    "work_ability": "具备, 部分丧失, 丧失",
    "employment": "在岗, 下岗, 失业, 退休, 病休, 内退, 农民工",
}


def problem_text(problem: dict) -> str:
    """A stored problem as a sentence in the reader's language."""
    message = MESSAGES.get(problem.get("code"), problem.get("code", ""))
    return str(message) % problem.get("params", {}) if problem.get("params") else str(message)


# --- recognising headers --------------------------------------------------------------------------------------------

_SPACES = re.compile(r"\s+")
_TRAILING_NAME = re.compile(r"^(.+?)\((\w+)\)\Z")


def _normalise(header: str) -> str:
    return _SPACES.sub("", str(header)).replace("（", "(").replace("）", ")").lower()


def _aliases(column: Column) -> set[str]:
    zh = _normalise(column.zh)
    return {zh, zh.split("(")[0], column.en.lower(), f"{zh}({column.en.lower()})"}


ALIASES = {alias: c.field for c in COLUMNS for alias in _aliases(c)}


def standard_mapping(headers: list[str]) -> dict[str, int]:
    """Field → column index for the headers the standard template names (in Chinese or English)."""
    mapping: dict[str, int] = {}
    for index, header in enumerate(headers):
        key = _normalise(header)
        field = ALIASES.get(key)
        if field is None and (m := _TRAILING_NAME.match(key)):
            field = ALIASES.get(m.group(1)) or ALIASES.get(m.group(2))
        if field and field not in mapping:
            mapping[field] = index
    return mapping


def mapping_from_saved(headers: list[str], saved: dict[str, str]) -> dict[str, int]:
    """Field → column index from a saved mapping (field → header text), for the headers this file has."""
    where = {}
    for index, header in enumerate(headers):
        where.setdefault(_normalise(header), index)
    return {field: where[_normalise(h)] for field, h in saved.items() if field in BY_FIELD and _normalise(h) in where}


def is_complete(mapping: dict[str, int]) -> bool:
    return all(f in mapping for f in REQUIRED)


# --- checking a row ---------------------------------------------------------------------------------------------------

_SCIENTIFIC = re.compile(r"^[0-9](\.[0-9]+)?E[+]?[0-9]+\Z")
_DIGITS = re.compile(r"^[0-9]+\Z")
_DECIMAL_FORM = re.compile(r"^[0-9]+\.0+\Z")
_PHONE = re.compile(r"^[0-9+\-() ]{5,20}\Z")
_DATE = re.compile(r"^([0-9]{4})[-/.年]([0-9]{1,2})[-/.月]([0-9]{1,2})日?\Z")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_FEN = 2_000_000_000


class RowProblem(Exception):
    def __init__(self, problem: str, **params):
        super().__init__(problem)
        self.code = problem
        self.params = params


def _as_text(value) -> str:
    """A cell as stripped text (numbers without a spurious .0); one leading apostrophe (a text marker) dropped."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime | date):
        return value.isoformat()[:10]
    text = str(value).strip()
    if text[:1] == "'" and text[1:2] in ("=", "+", "-", "@"):
        text = text[1:]
    if len(text) > MAX_CELL:
        raise RowProblem("too_long", n=len(text), max=MAX_CELL)
    return text


_CHECK_OFFSET = 48 * sum(WEIGHTS)


def _check_char(first17: str) -> str:
    """GB 11643's check character, from the digits' code points (the same sum as idnumber.check_char, faster)."""
    return CHECK_CHARS[(sum(map(mul, first17.encode(), WEIGHTS)) - _CHECK_OFFSET) % 11]


def parse_id(value, today: date | None = None) -> tuple[str, date, bool]:
    """The normalised ID number, birth date and sex; RowProblem names what is wrong (Excel damage first)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise RowProblem("id_number_cell")
    text = _text(value).replace(" ", "").upper() if value is not None else ""
    if not text:
        raise RowProblem("required")
    if text.startswith("="):
        raise RowProblem("formula")
    if _SCIENTIFIC.match(text):
        raise RowProblem("id_scientific")
    if _DECIMAL_FORM.match(text):
        raise RowProblem("id_number_cell")
    if len(text) == 15 and _DIGITS.match(text):
        raise RowProblem("id_15")
    if len(text) != 18:
        raise RowProblem("id_length", n=len(text))
    first17 = text[:17]
    if not (first17.isascii() and first17.isdigit()) or not (text[17].isdigit() or text[17] == "X"):
        raise RowProblem("id_chars")
    if text[0] == "0":
        raise RowProblem("id_region")
    try:
        born = date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        raise RowProblem("id_birth_date") from None
    if born.year < 1900 or born > (today or local_today()):
        raise RowProblem("id_birth_implausible")
    if _check_char(first17) != text[17]:
        raise RowProblem("id_digits_lost" if text.endswith("000") else "id_check")
    return text, born, int(text[16]) % 2 == 1


def parse_fen(value) -> int | None:
    """Decimal yuan (at most two decimals) as integer fen; blank is None."""
    if isinstance(value, bool):
        raise RowProblem("amount")
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, float):
        amount = Decimal(repr(value))
    else:
        text = _text(value).replace(",", "").replace("，", "").removesuffix("元").strip()
        if not text:
            return None
        if text.isascii() and text.isdigit():
            # whole yuan, the usual figure: what Decimal would give, without it
            if int(text) * 100 > MAX_FEN:
                raise RowProblem("amount")
            return int(text) * 100
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise RowProblem("amount") from None
    if not amount.is_finite() or amount < 0 or amount * 100 > MAX_FEN or amount != amount.quantize(Decimal("0.01")):
        raise RowProblem("amount")
    return int(amount * 100)


def parse_int(value, lo: int, hi: int) -> int | None:
    if isinstance(value, bool):
        raise RowProblem("integer", lo=lo, hi=hi)
    text = _text(value)
    if not text:
        return None
    if not _DIGITS.match(text) or len(text) > 6 or not lo <= int(text) <= hi:
        raise RowProblem("integer", lo=lo, hi=hi)
    return int(text)


def parse_date(value, today: date) -> date | None:
    if isinstance(value, datetime):
        day = value.date()
    elif isinstance(value, date):
        day = value
    else:
        text = _as_text(value)
        if not text:
            return None
        m = _DATE.match(text) or (re.match(r"^([0-9]{4})([0-9]{2})([0-9]{2})\Z", text))
        if not m:
            raise RowProblem("date")
        try:
            day = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            raise RowProblem("date") from None
    if day.year < 1900 or day > today:
        raise RowProblem("date")
    return day


#: the fields in the order check_row reads them
FIELD_ORDER = tuple(c.field for c in COLUMNS)
_VALUES = {
    "health": {k: v.value for k, v in HEALTH.items()},
    "work_ability": {k: v.value for k, v in WORK_ABILITY.items()},
    "employment": {k: v.value for k, v in EMPLOYMENT.items()},
}
#: distinct cell texts remembered per column with what they gave (areas, sources, choices and amounts repeat a lot)
CACHE_SIZE = 4096


@dataclass
class RowContext:
    """What checking a row needs besides the row: the mapping, areas in reach, settings, and the ID numbers seen."""

    headers: list[str]
    mapping: dict[str, int]
    #: area code → id, and the ids the importing user may import into (None: all)
    areas: dict[str, int]
    scope: frozenset[int] | None
    rules: dict
    line_fen: int
    today: date
    #: blind index → the row it was first seen on
    seen: dict[str, int]
    #: the keys of the ID numbers' encryption and blind index (None: the app's, read when a batch is checked)
    field_key: str | None = None
    index_key: str | None = None
    #: the checked rows carry dates as ISO text, as SQLite stores them (so the writer converts nothing)
    dates_as_text: bool = False

    def __post_init__(self):
        #: the column index of each field in FIELD_ORDER (None: not in this file)
        self.indexes = tuple(self.mapping.get(f) for f in FIELD_ORDER)
        self.encrypt_many = partial(crypto.encrypt_many, key=self.field_key)
        self.blind_indexes = partial(crypto.blind_indexes, key=self.index_key)
        #: how each field is read, in the order its problems are listed: (column index, field, column, reading, cache)
        self.plan = tuple(
            (self.mapping.get(field), field, key, read, None if field in ("id_number", "phone") else {})
            for field, key, read in _readings(self)
        )

    def __getstate__(self) -> dict:
        # the fields only (sent to a checking process): the plan's readers are closures, made again on arrival
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.__post_init__()


def _readings(ctx: RowContext) -> tuple:
    """(field, imported_persons column, cell → value or the RowProblem), in the order a row's problems are listed."""
    today, areas, scope = ctx.today, ctx.areas, ctx.scope

    def name(value):
        text = _short_text(value, 40) if value is not None else ""
        if not text.isprintable():  # (fast: names are printable) a zero-width or direction character, see checks
            text = checks.visible(text)
            if text and checks.invisible_error(text):
                raise RowProblem("invisible")
        if not text:
            raise RowProblem("required")
        return text

    def area(value):
        code = _short_text(value, 20) if value is not None else ""
        if not code:
            raise RowProblem("required")
        area_id = areas.get(code)
        if area_id is None:
            raise RowProblem("area_unknown", code=code)
        if scope is not None and area_id not in scope:
            raise RowProblem("area_outside", code=code)
        return area_id

    def phone(value):
        text = _short_text(value, 20) if value is not None else ""
        if text and not _PHONE.match(text):
            raise RowProblem("phone")
        return text

    def short(limit):
        return lambda value: _short_text(value, limit) if value is not None else ""

    def parsed(parse, *args):
        return lambda value: parse(value, *args) if value is not None else None

    def choice(field, default):
        return lambda value: _choice(value, field, default)

    return (
        ("name", "name", name),
        ("id_number", None, lambda value: parse_id(value, today)),
        ("area_code", "area_id", area),
        ("phone", "phone", phone),
        ("employer", "employer", short(100)),
        ("source", "row_source", short(40)),
        ("household_size", "household_size", parsed(parse_int, 1, 30)),
        ("monthly_income_yuan", "income_fen", parsed(parse_fen)),
        ("medical_yuan", "medical_fen", parsed(parse_fen)),
        ("dependants", "dependants", parsed(parse_int, 0, 30)),
        ("accident_on", "accident_on", parsed(parse_date, today)),
        ("health", "health", choice("health", "healthy")),
        ("work_ability", "work_ability", choice("work_ability", "full")),
        ("employment", "identity_status", choice("employment", None)),
    )


def _text(value) -> str:
    """The fast path of _as_text for the usual case, a string cell."""
    if value.__class__ is str:
        text = value.strip()
        if len(text) > MAX_CELL or text[:1] == "'":
            return _as_text(value)
        return text
    return _as_text(value)


def _problem(problems: list, ctx: RowContext, number: int, field: str, exc: RowProblem) -> None:
    index = ctx.mapping.get(field)
    column = ctx.headers[index] if index is not None and index < len(ctx.headers) else ""
    problems.append({"row": number, "column": column, "field": field, "code": exc.code, "params": exc.params})


def _short_text(value, limit: int) -> str:
    text = _text(value)
    if not text:
        return text
    if text[0] == "=":
        raise RowProblem("formula")
    if len(text) > limit:
        raise RowProblem("too_long", n=len(text), max=limit)
    if _CONTROL.search(text):
        raise RowProblem("control")
    return text


def _choice(value, field: str, default):
    text = _text(value) if value is not None else ""
    if not text:
        return default
    table = _VALUES[field]
    found = table.get(text) or table.get(text.lower())
    if found is None:
        raise RowProblem("choice", values=CHOICE_HINTS[field])
    return found


def check_row(number: int, cells: list, ctx: RowContext) -> tuple[dict | None, list[dict]]:
    """A good row as the imported_persons columns (ID number encrypted), or None and the row's problems."""
    persons, rejects = check_rows([(number, cells)], ctx)
    return (persons[0], []) if persons else (None, rejects[0][2])


def check_rows(rows: list[tuple[int, list]], ctx: RowContext) -> tuple[list[dict], list[tuple[int, list, list]]]:
    """The good rows as imported_persons columns (ID numbers encrypted, screened) and the rejected rows as
    (row number, cells, problems), both in file order: :func:`prepare_rows`, then :func:`settle_rows`."""
    return settle_rows(rows, prepare_rows(rows, ctx), ctx)


def prepare_rows(rows: list[tuple[int, list]], ctx: RowContext) -> list[tuple[dict, list[dict], str | None]]:
    """What each row gives by itself, whatever the rest of the file holds: its columns (ID number encrypted, the
    person screened), its problems, and its ID number's blind index. Rows of different batches can be prepared at the
    same time, in different processes; only :func:`settle_rows` goes in file order.

    The rows are checked one by one, then their ID numbers indexed and encrypted together: a batch at a time costs a
    fraction of a value at a time.
    """
    checked = [_check_cells(number, cells, ctx) for number, cells in rows]
    indexes = iter(ctx.blind_indexes([parsed[0] for _out, _problems, parsed in checked if parsed is not None]))
    prepared = [(out, problems, next(indexes) if parsed is not None else None) for out, problems, parsed in checked]
    good = [(prep[0], parsed) for prep, (_out, problems, parsed) in zip(prepared, checked, strict=True) if not problems]
    ciphers = ctx.encrypt_many([parsed[0] for _out, parsed in good])
    rules, line_fen, today = ctx.rules, ctx.line_fen, ctx.today
    for (out, (value, born, male)), cipher in zip(good, ciphers, strict=True):
        out.update(id_cipher=cipher, id_masked=value[:6] + "********" + value[14:], birth_year=born.year, male=male)
        if out["household_size"] is None:
            out["household_size"] = 1
        facts = screening.Facts(
            out["household_size"],
            out["income_fen"],
            out["health"],
            out["medical_fen"],
            out["work_ability"],
            out["accident_on"],
            out["identity_status"],
            out["dependants"],
        )
        out["score"], out["reasons"] = screening.screen(facts, rules, line_fen, today)
    return prepared


def settle_rows(
    rows: list[tuple[int, list]], prepared: list[tuple[dict, list[dict], str | None]], ctx: RowContext
) -> tuple[list[dict], list[tuple[int, list, list]]]:
    """The prepared rows in file order: an ID number seen on an earlier good row of the file (``ctx.seen``, which
    this extends) is a duplicate; the good rows as imported_persons columns, the others as (row number, cells,
    problems)."""
    seen = ctx.seen
    persons: list[dict] = []
    rejects: list[tuple[int, list, list]] = []
    for (number, cells), (out, problems, index) in zip(rows, prepared, strict=True):
        if index is not None:
            first = seen.get(index)
            if first is not None:
                _problem(problems, ctx, number, "id_number", RowProblem("duplicate", row=first))
            elif not problems:
                seen[index] = number
        if problems:
            rejects.append((number, cells, problems))
        else:
            out["id_index"] = index
            persons.append(out)
    return persons, rejects


def _check_cells(number: int, cells: list, ctx: RowContext) -> tuple[dict, list[dict], tuple | None]:
    """A row's fields as columns, its problems, and its parsed ID number (value, birth date, male) if it has one.

    Written for speed (it runs for every row of a 100,000-row file): one pass over the fields; a text cell seen
    before in the same column gives what it gave then, without being read again.
    """
    width = len(cells)
    problems: list[dict] = []
    out: dict = {"row_number": number}
    parsed = None
    for index, field, key, read, cache in ctx.plan:
        value = cells[index] if index is not None and index < width else None
        if cache is not None and value.__class__ is str:
            result = cache.get(value, _UNSEEN)
            if result is _UNSEEN:
                result = _read(read, value)
                if len(cache) < CACHE_SIZE:
                    cache[value] = result
        else:
            result = _read(read, value)
        if result.__class__ is RowProblem:
            _problem(problems, ctx, number, field, result)
        elif key is None:
            parsed = result
        else:
            out[key] = result
    return out, problems, parsed


_UNSEEN = object()


def _read(read, value):
    """The field's value from its cell, or the RowProblem saying what is wrong with it."""
    try:
        return read(value)
    except RowProblem as exc:
        exc.__traceback__ = None  # kept in a cache: no frames held
        return exc
