"""The monthly report as XLSX, CSV and PDF, a sponsor's statement and its thank-you certificate (爱心证书) as PDF.

The documents are the union's own papers and are always in Chinese, like the agreement PDF. Money is integer fen
throughout and turned into yuan only when written (exact Decimals, never floats).
"""

from __future__ import annotations

import csv
from decimal import Decimal
from io import BytesIO, StringIO
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from assist.agreements.pdf import _font, cn_date, rmb_upper
from assist.db_types import SHANGHAI
from assist.reports.operations import Line, MonthlyReport, StatementLine, YearFigures
from assist.settings.operations import get_settings

TITLE = "虚拟岗位帮扶待遇月度发放报表"
COLOUR_NAMES = {"red": "红色", "yellow": "黄色", "green": "绿色", None: "未评估"}
STATUS_NAMES = {"unpaid": "未支付", "paid": "已支付", "failed": "支付失败"}
#: (sheet / section title, first column's heading, lines of the report)
SECTIONS = (
    ("按爱心单位", "爱心单位", "by_sponsor"),
    ("按区域（镇街）", "区域", "by_area"),
    ("按家庭颜色", "家庭颜色", "by_colour"),
)
HEADINGS = ("记录数", "应发金额（元）", "已付金额（元）", "未付金额（元）")
#: the supplementary records (补发) a batch pays: late months of earlier batches already approved
SUPPLEMENTARY_TITLE = "补发记录（以前月份）"
SUPPLEMENTARY_HEADINGS = ("支付编码", "所属月份", "爱心单位", "协议编号", "金额（元）", "状态")
#: characters that make a spreadsheet treat a cell as a formula (or smuggle one in after a tab or line break)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def yuan(fen: int) -> Decimal:
    return Decimal(fen) / 100


def yuan_text(fen: int) -> str:
    return f"{yuan(fen):,.2f}"


def _name(line: Line, attr: str) -> str:
    if attr == "by_colour":
        return COLOUR_NAMES.get(line.key, str(line.key))
    return line.name


def _sections(report: MonthlyReport):
    """(title, first heading, [(name, records, amount, paid, unpaid)], totals) of each breakdown."""
    totals = report.totals
    for title, first, attr in SECTIONS:
        lines = getattr(report, attr)
        rows = [(_name(line, attr), line.records, line.amount_fen, line.paid_fen, line.unpaid_fen) for line in lines]
        total = ("合计", totals["records"], totals["amount_fen"], totals["paid_fen"], totals["unpaid_fen"])
        yield title, first, rows, total


def _supplementary_rows(report: MonthlyReport) -> list[tuple]:
    """(payment code, month worked, sponsor, agreement, amount fen, status) of each supplementary record (补发)."""
    return [
        (
            x.payment_code,
            f"补发 {x.month}",
            x.sponsor_name,
            x.agreement_number,
            x.amount_fen,
            STATUS_NAMES[x.status.value],
        )
        for x in report.supplementary
    ]


def _generated(report: MonthlyReport) -> str:
    return report.generated_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def _heading(report: MonthlyReport) -> str:
    if report.sponsor is not None:
        return f"{report.sponsor.name} 帮扶待遇对账单"
    return TITLE


# XLSX -----------------------------------------------------------------------------------------------------------------


def to_xlsx(report: MonthlyReport) -> bytes:
    """A workbook with a sheet per breakdown: styled header (frozen), amounts in yuan with a number format, totals."""
    book = Workbook()
    book.remove(book.active)
    header_font = Font(bold=True, color="FFFFFF")
    header_fill = PatternFill("solid", fgColor="B02A37")
    total_font = Font(bold=True)
    rule = Border(top=Side(style="thin"))
    for title, first, rows, total in _sections(report):
        sheet = book.create_sheet(title)
        sheet.append([first, *HEADINGS])
        for cell in sheet[1]:
            cell.font, cell.fill = header_font, header_fill
            cell.alignment = Alignment(horizontal="center")
        for name, records, *money in rows:
            sheet.append([_cell_text(name), records, *(yuan(fen) for fen in money)])
        sheet.append([total[0], total[1], *(yuan(fen) for fen in total[2:])])
        for cell in sheet[sheet.max_row]:
            cell.font, cell.border = total_font, rule
        for row in sheet.iter_rows(min_row=2, min_col=2, max_col=2):
            row[0].number_format = "#,##0"
        for row in sheet.iter_rows(min_row=2, min_col=3, max_col=5):
            for cell in row:
                cell.number_format = "#,##0.00"
        sheet.freeze_panes = "A2"
        sheet.column_dimensions["A"].width = 34
        for column in "BCDE":
            sheet.column_dimensions[column].width = 16
    if report.supplementary:
        sheet = book.create_sheet("补发")
        sheet.append(list(SUPPLEMENTARY_HEADINGS))
        for cell in sheet[1]:
            cell.font, cell.fill = header_font, header_fill
        for code, month, sponsor, number, fen, status in _supplementary_rows(report):
            sheet.append([code, month, _cell_text(sponsor), _cell_text(number), yuan(fen), status])
            sheet.cell(sheet.max_row, 5).number_format = "#,##0.00"
        sheet.freeze_panes = "A2"
        sheet.column_dimensions["C"].width = 34
        for column in "ABDEF":
            sheet.column_dimensions[column].width = 16
    info = book.create_sheet("说明")
    for key, value in (
        ("报表", _heading(report)),
        ("月份", report.month),
        ("生成时间", _generated(report)),
        ("单位", get_settings()["union_name"]),
    ):
        info.append([key, value])
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _cell_text(value: str) -> str:
    """openpyxl stores a string starting with = as a formula; keep text text."""
    return "'" + value if value.startswith(FORMULA_START) else value


# CSV ------------------------------------------------------------------------------------------------------------------


def neutralise(value) -> str:
    """A cell a spreadsheet will not run: text starting = + - @ (or a tab or carriage return) gets a leading '."""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def to_csv(report: MonthlyReport) -> bytes:
    """UTF-8 with a BOM (so Excel reads the Chinese), the three breakdowns one after another with their totals."""
    out = StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralise(_heading(report)), report.month])
    writer.writerow(["生成时间", _generated(report)])
    for title, first, rows, total in _sections(report):
        writer.writerow([])
        writer.writerow([title])
        writer.writerow([first, *HEADINGS])
        for name, records, *money in [*rows, total]:
            writer.writerow([neutralise(name), records, *(f"{yuan(fen):.2f}" for fen in money)])
    if report.supplementary:
        writer.writerow([])
        writer.writerow([SUPPLEMENTARY_TITLE])
        writer.writerow(SUPPLEMENTARY_HEADINGS)
        for code, month, sponsor, number, fen, status in _supplementary_rows(report):
            writer.writerow([code, month, neutralise(sponsor), neutralise(number), f"{yuan(fen):.2f}", status])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# PDF ------------------------------------------------------------------------------------------------------------------


def _styles():
    font = _font()
    base = ParagraphStyle("base", fontName=font, fontSize=9.5, leading=14, wordWrap="CJK")
    return {
        "base": base,
        "title": ParagraphStyle("title", parent=base, fontSize=16, leading=24, alignment=TA_CENTER),
        "small": ParagraphStyle(
            "small", parent=base, fontSize=9, leading=13, alignment=TA_CENTER, textColor=colors.HexColor("#555555")
        ),
        "heading": ParagraphStyle("heading", parent=base, fontSize=11.5, leading=18, spaceBefore=8, spaceAfter=3),
    }


def _table(rows: list[list], widths, total: bool = True) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1)
    style = [
        ("FONTNAME", (0, 0), (-1, -1), _font()),
        ("FONTSIZE", (0, 0), (-1, -1), 9),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#999999")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f2dede")),
        ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]
    if total:
        style.append(("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#f2f2f2")))
    table.setStyle(TableStyle(style))
    return table


def _document(buffer, title: str, pagesize=A4, margin=18 * mm) -> SimpleDocTemplate:
    return SimpleDocTemplate(
        buffer,
        pagesize=pagesize,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=margin,
        title=title,
        author=get_settings()["union_name"],
    )


def to_pdf(report: MonthlyReport) -> bytes:
    """The report in Chinese: title, month, generated time, and each breakdown as a table with its totals row."""
    s = _styles()
    union = escape(get_settings()["union_name"])
    story = [
        Paragraph(f"{union}<br/>{escape(_heading(report))}", s["title"]),
        Paragraph(f"月份：{report.month}　　生成时间：{_generated(report)}", s["small"]),
        Spacer(1, 4 * mm),
    ]
    widths = (62 * mm, 20 * mm, 30 * mm, 30 * mm, 30 * mm)
    for title, first, rows, total in _sections(report):
        story.append(Paragraph(title, s["heading"]))
        body = [
            [Paragraph(escape(str(name)), s["base"]), records, *map(yuan_text, money)] for name, records, *money in rows
        ]
        name, records, *money = total
        story.append(_table([[first, *HEADINGS], *body, [name, records, *map(yuan_text, money)]], widths))
    if report.supplementary:
        story.append(Paragraph(SUPPLEMENTARY_TITLE, s["heading"]))
        body = [
            [
                code,
                month,
                Paragraph(escape(sponsor), s["base"]),
                Paragraph(escape(number), s["base"]),
                yuan_text(fen),
                st,
            ]
            for code, month, sponsor, number, fen, st in _supplementary_rows(report)
        ]
        widths = (22 * mm, 26 * mm, 56 * mm, 30 * mm, 22 * mm, 18 * mm)
        story.append(_table([list(SUPPLEMENTARY_HEADINGS), *body], widths, total=False))
    if report.empty:
        story.append(Paragraph("本月没有帮扶待遇记录。", s["base"]))
    buffer = BytesIO()
    _document(buffer, f"{_heading(report)} {report.month}").build(story)
    return buffer.getvalue()


def statement_pdf(report: MonthlyReport, lines: list[StatementLine]) -> bytes:
    """A sponsor's monthly statement (对账单): one line per agreement, totals, paid and outstanding."""
    s = _styles()
    sponsor = report.sponsor
    totals = report.totals
    union = escape(get_settings()["union_name"])
    story = [
        Paragraph(f"{union}<br/>{escape(sponsor.name)} 帮扶待遇对账单", s["title"]),
        Paragraph(
            f"月份：{report.month}　　统一社会信用代码：{escape(sponsor.credit_code)}　　生成时间：{_generated(report)}",
            s["small"],
        ),
        Spacer(1, 5 * mm),
    ]
    head = ["协议编号", "乙方", "岗位", "区域", "天数", "金额（元）", "状态", "支付日期", "转账凭证号"]
    body = [
        [
            Paragraph(
                escape(line.agreement_number)
                + (f"<br/>补发 {line.month}" if line.month and line.month != report.month else ""),
                s["base"],
            ),
            Paragraph(escape(line.member_name), s["base"]),
            Paragraph(escape(line.post_title), s["base"]),
            Paragraph(escape(line.area_name), s["base"]),
            f"{line.days}/{line.days_in_month}",
            yuan_text(line.amount_fen),
            STATUS_NAMES.get(line.status, line.status),
            line.paid_on.isoformat() if line.paid_on else "",
            Paragraph(escape(line.reference), s["base"]),
        ]
        for line in lines
    ]
    total = ["合计", f"{totals['records']} 条", "", "", "", yuan_text(totals["amount_fen"]), "", "", ""]
    widths = (24 * mm, 16 * mm, 28 * mm, 20 * mm, 12 * mm, 20 * mm, 14 * mm, 18 * mm, 22 * mm)
    story.append(_table([head, *body, total], widths))
    story += [
        Spacer(1, 5 * mm),
        Paragraph(
            f"应发合计：{yuan_text(totals['amount_fen'])} 元（{rmb_upper(totals['amount_fen'])}）；"
            f"已付：{yuan_text(totals['paid_fen'])} 元；未付：{yuan_text(totals['unpaid_fen'])} 元。",
            s["base"],
        ),
    ]
    if not lines:
        story.append(Paragraph("本月没有帮扶待遇记录。", s["base"]))
    buffer = BytesIO()
    _document(buffer, f"对账单 {sponsor.name} {report.month}").build(story)
    return buffer.getvalue()


def certificate_pdf(figures: YearFigures) -> bytes:
    """The yearly thank-you certificate (爱心证书), A4 landscape: the sponsor, the year, posts carried, yuan paid."""
    font = _font()
    union = escape(get_settings()["union_name"])
    red = colors.HexColor("#B02A37")
    title = ParagraphStyle("t", fontName=font, fontSize=40, leading=56, alignment=TA_CENTER, textColor=red)
    name = ParagraphStyle("n", fontName=font, fontSize=22, leading=34, spaceBefore=10)
    body = ParagraphStyle("b", fontName=font, fontSize=16, leading=30, firstLineIndent=32, wordWrap="CJK")
    sign = ParagraphStyle("s", parent=body, alignment=2, firstLineIndent=0)
    paid = figures.paid_fen
    story = [
        Spacer(1, 6 * mm),
        Paragraph("爱心证书", title),
        Paragraph(f"{escape(figures.sponsor.name)}：", name),
        Paragraph(
            f"贵单位在 {figures.year} 年度积极参与困难职工虚拟岗位帮扶工作，"
            f"共承担虚拟岗位 {figures.posts} 个，发放岗位待遇人民币 {yuan_text(paid)} 元（{rmb_upper(paid)}），"
            "以实际行动帮助困难职工家庭增加收入、树立信心，彰显了爱心单位的社会责任与担当。",
            body,
        ),
        Paragraph("特发此证，以资感谢！", body),
        Spacer(1, 14 * mm),
        Paragraph(union, sign),
        Paragraph(cn_date(_today()), sign),
    ]

    def frame(canvas, doc):
        width, height = doc.pagesize
        canvas.saveState()
        canvas.setStrokeColor(red)
        canvas.setLineWidth(4)
        canvas.rect(10 * mm, 10 * mm, width - 20 * mm, height - 20 * mm)
        canvas.setLineWidth(1)
        canvas.rect(14 * mm, 14 * mm, width - 28 * mm, height - 28 * mm)
        canvas.restoreState()

    buffer = BytesIO()
    doc = _document(buffer, f"爱心证书 {figures.sponsor.name} {figures.year}", landscape(A4), margin=30 * mm)
    doc.build(story, onFirstPage=frame, onLaterPages=frame)
    return buffer.getvalue()


def _today():
    from assist.db_types import local_today

    return local_today()
