"""Reconciling stipend payments with a bank statement (银行流水) exported as CSV.

The format: a header row, then one transfer per row, with the columns

    date (交易日期), amount (金额, yuan with up to two decimals), reference (摘要), payer (对方户名)

in any order; the Chinese headers that banks' exports use are accepted (see ``HEADERS``), and the file may be UTF-8
(with or without a BOM) or GB18030 (GBK), as Chinese banks export. A line finds its stipend records by the payment code
in its reference (``ST`` and the record's number, which the sponsor page asks sponsors to put in the transfer memo), or
else by the reference the sponsor confirmed (one shared reference of a bulk confirmation matches its whole group). The
amount must equal the records' total, and the payer must be the records' sponsor: a line whose payer is missing or
names anyone else (a memo naming another sponsor's record) goes to review, whatever its reference says. Matched unpaid
records are marked paid (on the line's date), matched paid ones reconciled; everything else is reported with the
reason, and nothing about it changes.
"""

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update

from assist import audit
from assist.db_types import utcnow
from assist.enums import BatchStatus, StipendStatus
from assist.errors import DomainError, ValidationFailed
from assist.extensions import db
from assist.sponsors.models import Sponsor
from assist.stipends import payments
from assist.stipends.models import StipendBatch, StipendRecord

MAX_BYTES = 5 * 1024 * 1024
MAX_LINES = 20_000
#: column → the header names accepted for it (compared without spaces, case-insensitively)
HEADERS = {
    "date": ("date", "交易日期", "日期", "记账日期", "交易时间"),
    "amount": ("amount", "amount_yuan", "金额", "交易金额", "收入金额", "贷方金额", "发生额"),
    "reference": ("reference", "摘要", "附言", "用途", "备注", "交易附言"),
    "payer": ("payer", "payer_name", "对方户名", "付款人", "对方账户名称", "付款人名称"),
}
CODE = re.compile(r"ST(\d{1,9})", re.IGNORECASE)
SAMPLE = (
    "交易日期,金额,摘要,对方户名\r\n"
    "2026-11-10,500.00,ST1 十月待遇,平湖爱心科技有限公司\r\n"
    "2026-11-10,1000.00,HZB20261110-0001,平湖爱心科技有限公司\r\n"
)


@dataclass
class Line:
    number: int  # the row in the file, the header being row 1
    on: date
    amount_fen: int
    reference: str
    payer: str


@dataclass
class Problem:
    number: int
    reference: str
    amount_fen: int | None
    reason: str
    #: bad_row | unknown | payer | amount | duplicate | not_payable
    code: str = "not_payable"


@dataclass
class Result:
    lines: int = 0
    paid: list[tuple[Line, list[StipendRecord]]] = field(default_factory=list)
    reconciled: list[tuple[Line, list[StipendRecord]]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def decode(data: bytes) -> str:
    """UTF-8 (a BOM is dropped) or else GB18030, the superset of GBK/GB2312 that Chinese banks export in."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="replace")


def _date(text: str) -> date | None:
    text = text.strip()[:10]
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _fen(text: str) -> int | None:
    text = text.strip().replace(",", "").replace("，", "").replace("¥", "").replace("￥", "")
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    if not value.is_finite() or value <= 0 or value > 100_000_000 or value != value.quantize(Decimal("0.01")):
        return None
    return int(value * 100)


def parse(data: bytes) -> tuple[list[Line], list[Problem]]:
    """The statement's lines, and the rows that are not transfers (with the reason); ValidationFailed when the file
    is not a statement at all."""
    if len(data) > MAX_BYTES:
        raise _bad(_l("The file is larger than 5 MB."))
    text = decode(data).replace("\x00", "")
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error:
        raise _bad(_l("The file is not a CSV file.")) from None
    if not rows:
        raise _bad(_l("The file is empty."))
    header = [re.sub(r"\s+", "", cell).lower() for cell in rows[0]]
    columns = {}
    for name, accepted in HEADERS.items():
        columns[name] = next((i for i, cell in enumerate(header) if cell in accepted), None)
    missing = [name for name in ("date", "amount", "reference") if columns[name] is None]
    if missing:
        raise _bad(_l("The header row needs the columns 交易日期 (date), 金额 (amount) and 摘要 (reference)."))
    if len(rows) - 1 > MAX_LINES:
        raise _bad(_l("At most 20,000 lines at once."))
    lines, problems = [], []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue

        def cell(name, row=row):
            i = columns[name]
            return row[i] if i is not None and i < len(row) else ""

        reference = cell("reference").strip()[:200]
        on, amount = _date(cell("date")), _fen(cell("amount"))
        if on is None:
            problems.append(Problem(number, reference, amount, str(_l("The date is not a date.")), "bad_row"))
        elif amount is None:
            problems.append(
                Problem(number, reference, None, str(_l("The amount is not an amount in yuan above 0.")), "bad_row")
            )
        else:
            lines.append(Line(number, on, amount, reference, cell("payer").strip()[:100]))
    return lines, problems


def _bad(message) -> ValidationFailed:
    return ValidationFailed(str(message), {"file": str(message)})


def _records_for(line: Line) -> list[StipendRecord] | None:
    codes = {int(c) for c in CODE.findall(line.reference)}
    if codes:
        found = list(db.session.scalars(select(StipendRecord).where(StipendRecord.id.in_(codes))))
        return found if len(found) == len(codes) else None
    if not line.reference:
        return None
    return (
        list(
            db.session.scalars(
                select(StipendRecord).where(
                    or_(
                        StipendRecord.reference == line.reference,
                        StipendRecord.reference.startswith(line.reference + "-", autoescape=True),
                    ),
                    StipendRecord.status == StipendStatus.PAID,
                )
            )
        )
        or None
    )


def same_party(payer: str, name: str) -> bool:
    """A statement's payer names this sponsor: equal once widths (（）/()), spaces and case are made alike."""

    def plain(text: str) -> str:
        return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or "")).casefold()

    return bool(plain(payer)) and plain(payer) == plain(name)


def _payer_problem(line: Line, records: list[StipendRecord]) -> str | None:
    """Why the line's payer cannot have paid these records (None when it is their sponsor)."""
    if not line.payer.strip():
        return str(_l("The line does not name its payer (对方户名): check it by hand."))
    names = dict(
        db.session.execute(
            select(Sponsor.id, Sponsor.name).where(Sponsor.id.in_({r.sponsor_id for r in records}))
        ).all()
    )
    if not all(same_party(line.payer, names.get(r.sponsor_id, "")) for r in records):
        return str(_l("The payer is not the sponsor of these stipends: check the line by hand."))
    return None


def reconcile(actor, data: bytes, today: date | None = None) -> Result:
    """Match a statement's lines to stipend records (admin); see the module's docstring."""
    lines, problems = parse(data)
    result = Result(lines=len(lines) + len(problems), problems=problems)
    seen: set[int] = set()
    for line in lines:
        records = _records_for(line)
        if not records:
            result.problems.append(
                Problem(
                    line.number, line.reference, line.amount_fen, str(_l("No stipend has this reference.")), "unknown"
                )
            )
            continue
        wrong_payer = _payer_problem(line, records)
        if wrong_payer:
            result.problems.append(Problem(line.number, line.reference, line.amount_fen, wrong_payer, "payer"))
            continue
        total = sum(r.amount_fen for r in records)
        if total != line.amount_fen:
            reason = _l("The amount differs: the stipends come to %(yuan)s yuan.") % {"yuan": f"{total / 100:.2f}"}
            result.problems.append(Problem(line.number, line.reference, line.amount_fen, str(reason), "amount"))
            continue
        ids = {r.id for r in records}
        if ids & seen or all(r.reconciled_at is not None for r in records):
            result.problems.append(
                Problem(
                    line.number, line.reference, line.amount_fen, str(_l("Duplicate: already matched.")), "duplicate"
                )
            )
            continue
        problem = _apply(actor, line, records, result, today)
        if problem:
            result.problems.append(Problem(line.number, line.reference, line.amount_fen, problem))
        else:
            seen |= ids
    db.session.flush()
    return result


def _apply(actor, line: Line, records: list[StipendRecord], result: Result, today) -> str | None:
    approved = set(
        db.session.scalars(
            select(StipendBatch.month).where(
                StipendBatch.month.in_({r.paid_in for r in records}), StipendBatch.status != BatchStatus.DRAFT
            )
        )
    )
    for r in records:
        if r.status == StipendStatus.FAILED:
            return str(_l("The stipend is marked failed; reissue it first."))
        if r.paid_in not in approved:
            return str(_l("The stipend's batch has not been approved yet."))
    now = utcnow()
    paid_now = []
    for r in records:
        try:
            if r.status == StipendStatus.UNPAID:
                payments.confirm_payment(actor, r, line.on, line.reference[:60] or r.payment_code, today, True)
                paid_now.append(r)
            else:
                done = db.session.execute(
                    update(StipendRecord)
                    .where(StipendRecord.id == r.id, StipendRecord.reconciled_at.is_(None))
                    .values(reconciled_at=now)
                    .execution_options(synchronize_session=False)
                ).rowcount
                db.session.refresh(r)
                if done:
                    audit.record(
                        actor, "reconcile", "stipend_record", r.id, after={"line": line.number}, family_id=r.family_id
                    )
        except DomainError as exc:
            return exc.message
    (result.paid if paid_now else result.reconciled).append((line, records))
    return None
