"""Deterministic worker files in the standard template: the samples under docs/samples/, and data for tests and the
benchmark. The same seed always gives the same bytes."""

import csv
import io
import random
from datetime import date

from assist import idnumber
from assist.identification.columns import COLUMNS

HEADERS = [c.zh for c in COLUMNS]
STANDARD_HEADERS = [c.zh for c in COLUMNS if c.standard]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国文辉鹏志宏林梅琴云飞俊斌雪燕婷浩宇"
EMPLOYERS = ["平湖某服装厂", "乍浦港务公司", "嘉兴某电子有限公司", "平湖某箱包厂", "新埭某机械厂", "某物流公司", ""]
SOURCES = ["民政低保边缘户", "医保大病名单", "企业工会花名册"]
#: community codes of the demo city (assist.demo)
DEMO_AREAS = ("330482001001", "330482001002", "330482002001", "330482101001", "330482102001")


def worker_rows(n: int, seed: int = 2026, areas=DEMO_AREAS, first_sequence: int = 0, extras: bool = True) -> list[list]:
    """``n`` good rows (every ID number different), about one in four a likely candidate."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        born = date(1960 + rng.randrange(40), 1 + rng.randrange(12), 1 + rng.randrange(28))
        seq = first_sequence + i
        region = f"3304{(seq // 1000) % 100:02d}"
        id_number = idnumber.make(region if region[4:] != "00" else "330482", born, seq % 1000)
        size = rng.choice((1, 2, 3, 3, 4, 5))
        poor = rng.random() < 0.25
        income = rng.randrange(300, 1100) * size if poor else rng.randrange(1500, 6000) * size
        health = (
            rng.choice(("大病", "残疾", "慢性病"))
            if poor and rng.random() < 0.5
            else rng.choice(("健康", "健康", "慢性病"))
        )
        ability = rng.choice(("丧失", "部分丧失")) if poor and rng.random() < 0.4 else "具备"
        row = [
            rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2)))),
            id_number,
            f"13{rng.randrange(10**9):09d}",
            rng.choice(areas),
            rng.choice(EMPLOYERS),
            str(size),
            f"{income}.{rng.choice(('00', '50'))}",
            health,
            ability,
            rng.choice(SOURCES),
        ]
        if extras:
            row += [
                str(rng.randrange(20_000, 80_000)) if health in ("大病", "残疾") else "",
                rng.choice(("2025-01-15", "2024-06-30")) if poor and rng.random() < 0.1 else "",
                rng.choice(("失业", "下岗")) if poor and rng.random() < 0.3 else rng.choice(("在岗", "")),
                str(rng.randrange(0, 3)) if poor else "",
            ]
        out.append(row)
    return out


def with_bad_rows(rows: list[list]) -> tuple[list[list], dict[int, str]]:
    """The rows with a few spoilt, and where: spreadsheet row number → the field that is wrong."""
    rows = [list(r) for r in rows]
    spoilt = {}

    def spoil(i: int, column: int, value, field: str) -> None:
        if i < len(rows):
            rows[i][column] = value
            spoilt[i + 2] = field

    spoil(1, 1, rows[1][1][:17] + ("0" if rows[1][1][17] != "0" else "1"), "id_number")  # check character
    spoil(3, 1, "3.30482E+17", "id_number")  # Excel's scientific notation
    spoil(5, 1, rows[5][1][:15] + "000" if len(rows) > 5 else "", "id_number")  # digits lost
    spoil(7, 6, "一千二", "monthly_income_yuan")
    spoil(9, 3, "999999", "area_code")
    spoil(11, 0, '=HYPERLINK("http://example.com","点我")', "name")
    if len(rows) > 13:
        rows[13][1] = rows[0][1]  # the same person twice
        spoilt[15] = "id_number"
    return rows, spoilt


def to_csv(rows: list[list], encoding: str = "utf-8", headers=None) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers or HEADERS[: len(rows[0])] if rows else headers or HEADERS)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def to_xlsx(rows: list[list], headers=None) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("职工名单")
    sheet.append(headers or HEADERS[: len(rows[0])] if rows else headers or HEADERS)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return _fixed_timestamps(buffer.getvalue())


def _fixed_timestamps(xlsx: bytes) -> bytes:
    """The same workbook bytes on every run: zip entries dated 1980 and no creation time in docProps."""
    import re
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(xlsx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"<dcterms:(created|modified)[^>]*>[^<]*</dcterms:\1>", b"", data)
            target.writestr(zipfile.ZipInfo(info.filename, (1980, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)
    return out.getvalue()


#: the files under docs/samples/, for the demo city: (name, bytes)
def sample_files() -> list[tuple[str, bytes]]:
    clean = worker_rows(200, seed=1)
    dirty, _spoilt = with_bad_rows(worker_rows(60, seed=2, first_sequence=300))
    chinese = worker_rows(60, seed=3, first_sequence=600, extras=False)
    return [
        ("workers-clean.xlsx", to_xlsx(clean)),
        ("workers-with-errors.csv", to_csv(dirty)),
        ("workers-gb18030.csv", to_csv(chinese, encoding="gb18030", headers=STANDARD_HEADERS)),
    ]


def write_samples(directory) -> list:
    """Write the sample files (the same bytes every time) and return their paths."""
    from pathlib import Path

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, content in sample_files():
        (directory / name).write_bytes(content)
        paths.append(directory / name)
    return paths
