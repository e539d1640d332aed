"""The three-party agreement as a Chinese PDF (reportlab's CID font STSong-Light: no font files needed).

The member's name and contact appear only on a staff copy or once the agreement is signed: before signing a sponsor
must not learn who the family is (SPEC: "Who uses it").
"""

from datetime import date
from io import BytesIO
from xml.sax.saxutils import escape

from flask import has_request_context
from flask_login import current_user
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from assist.agreements.models import Agreement
from assist.agreements.operations import parties, sponsor_may_see_member
from assist.enums import Role

FONT = "STSong-Light"
_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_UNITS = ("", "拾", "佰", "仟")
_GROUPS = ("", "万", "亿")


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def rmb_upper(fen: int) -> str:
    """An amount in fen as the capital numerals of Chinese contracts: 50000 → 伍佰元整, 123456 → 壹仟贰佰叁拾肆元伍角陆分."""
    if fen < 0:
        return "负" + rmb_upper(-fen)
    yuan, rest = divmod(fen, 100)
    jiao, cents = divmod(rest, 10)
    text = _integer_upper(yuan) + "元" if yuan else ""
    if not jiao and not cents:
        return (text or "零元") + "整"
    if jiao:
        text += _DIGITS[jiao] + "角"
    elif yuan:
        text += "零"
    if cents:
        text += _DIGITS[cents] + "分"
    return text


def _integer_upper(n: int) -> str:
    groups = []
    while n:
        n, group = divmod(n, 10_000)
        groups.append(group)
    out = ""
    need_zero = False
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            need_zero = bool(out)
            continue
        if need_zero or (out and group < 1000):
            out += "零"
        out += _group_upper(group) + _GROUPS[index]
        need_zero = False
    return out


def _group_upper(group: int) -> str:
    out, zero = "", False
    for position in range(3, -1, -1):
        digit = group // 10**position % 10
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += _DIGITS[digit] + _UNITS[position]
    return out


def cn_date(day: date | None) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else "____年__月__日"


def _yuan(fen: int) -> str:
    return f"{fen / 100:,.2f}"


def _staff_view() -> bool:
    return (
        has_request_context() and current_user.is_authenticated and current_user.role in (Role.ADMIN, Role.CASEWORKER)
    )


def render_agreement(agreement: Agreement, staff: bool | None = None) -> bytes:
    """The agreement as PDF bytes: parties, post, term, monthly amount (figures and capitals), clauses, signatures."""
    font = _font()
    staff = _staff_view() if staff is None else staff
    show_member = staff or sponsor_may_see_member(agreement)
    named = parties(agreement)  # as signed: a later change of a name or code does not reach a signed agreement
    union = named.c_name
    sponsor, family, post = agreement.sponsor, agreement.family, agreement.post

    base = ParagraphStyle("base", fontName=font, fontSize=10.5, leading=17, wordWrap="CJK")
    title = ParagraphStyle("title", parent=base, fontSize=18, leading=26, alignment=TA_CENTER, spaceAfter=4)
    small = ParagraphStyle(
        "small", parent=base, fontSize=9, leading=13, alignment=TA_CENTER, textColor=colors.HexColor("#555555")
    )
    heading = ParagraphStyle("heading", parent=base, fontSize=11.5, leading=20, spaceBefore=6)

    def p(text: str, style=base) -> Paragraph:
        return Paragraph(text, style)

    def e(value) -> str:
        return escape(str(value or ""))

    member_name = e(named.b_name) if show_member else "（协议签订时由工会填写）"
    member_phone = e(family.phone) if show_member else "（签订后提供）"
    amount = agreement.monthly_amount_fen
    story = [
        p("困难职工虚拟岗位帮扶协议", title),
        p(f"协议编号：{e(agreement.number)}" + ("　（据纸质协议录入）" if agreement.from_paper else ""), small),
        Spacer(1, 5 * mm),
    ]
    rows = [
        [p("<b>甲方（爱心单位）</b>"), p(e(named.a_name))],
        [p("统一社会信用代码"), p(e(named.a_credit_code))],
        [p("联系人 / 电话"), p(f"{e(sponsor.contact_name)}　{e(sponsor.phone)}")],
        [p("<b>乙方（帮扶对象）</b>"), p(member_name)],
        [p("联系电话"), p(member_phone)],
        [p("所在区域"), p(e(agreement.post.area.name))],
        [p("<b>丙方（工会）</b>"), p(e(union))],
    ]
    table = Table(rows, colWidths=(42 * mm, 128 * mm))
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#999999")),
                ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f2f2f2")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    story += [table, Spacer(1, 4 * mm)]
    story.append(
        p(
            "为帮助困难职工家庭中部分或完全丧失劳动能力的成员获得与其能力相适应的劳动机会和稳定收入，"
            "根据工会虚拟岗位帮扶工作的有关规定，甲、乙、丙三方本着自愿、平等、诚信的原则，订立本协议。"
        )
    )
    clauses = [
        (
            "第一条　岗位",
            f"甲方为乙方设立虚拟岗位“{e(post.title)}”。岗位职责：{e(agreement.duties) or '由三方另行商定'}。"
            f"乙方在其能力范围内每月工作约 {agreement.hours_per_month} 小时。",
        ),
        ("第二条　期限", f"本协议期限自 {cn_date(agreement.start_on)} 起至 {cn_date(agreement.end_on)} 止。"),
        (
            "第三条　岗位待遇",
            f"甲方每月向乙方支付岗位待遇人民币 {_yuan(amount)} 元（大写：{rmb_upper(amount)}），"
            "按月计发，不足整月的按实际天数折算；由甲方于次月通过银行转账支付，丙方负责核对与督促。",
        ),
        (
            "第四条　甲方责任",
            "按时足额支付岗位待遇；尊重乙方人格与隐私，不得泄露乙方及其家庭信息；岗位内容须与乙方身体状况相适应。",
        ),
        ("第五条　乙方责任", "在身体条件允许的范围内认真履行岗位职责；家庭状况发生重大变化时及时告知丙方。"),
        ("第六条　丙方责任", "负责岗位设立、三方协调和履约监督，定期走访乙方，记录岗位履行和待遇发放情况。"),
        (
            "第七条　变更、暂停与终止",
            "乙方因住院等原因暂时不能履职的，经丙方确认可暂停岗位，暂停期间不计发待遇；"
            "乙方家庭脱困或一方要求提前终止的，经三方协商一致并书面确认后终止。"
            "协议期满前三十日内，三方可协商续签。",
        ),
        ("第八条　其他", "本协议一式三份，甲、乙、丙三方各执一份，自三方签字（盖章）之日起生效。"),
    ]
    for head, body in clauses:
        story += [p(head, heading), p(body)]
    if agreement.terminated_on:
        story += [
            p("终止记录", heading),
            p(f"本协议于 {cn_date(agreement.terminated_on)} 提前终止。原因：{e(agreement.termination_reason)}"),
        ]
    story.append(Spacer(1, 8 * mm))
    signed = cn_date(agreement.signed_on)
    signatures = Table(
        [
            [p("甲方（盖章）："), p("乙方（签字）："), p("丙方（盖章）：")],
            [p("代表签字："), p(""), p("代表签字：")],
            [p(f"日期：{signed}"), p(f"日期：{signed}"), p(f"日期：{signed}")],
        ],
        colWidths=(57 * mm, 57 * mm, 57 * mm),
        rowHeights=(16 * mm, 14 * mm, 10 * mm),
    )
    signatures.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story.append(signatures)

    buffer = BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=f"帮扶协议 {agreement.number}",
        author=union,
    )
    doc.build(story)
    return buffer.getvalue()
