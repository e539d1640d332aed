"""Reading worker files: encodings, Excel damage, formulas and hostile files are each answered clearly."""

import io
import re
import zipfile
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from assist import crypto
from assist.db_types import local_today
from assist.extensions import db
from assist.identification import columns, reader, samples, screening
from assist.identification.models import WorkerImport
from tests.identification.helpers import csv_file, new_id, row

FIELD_KEY = "dGVzdC1maWVsZC1rZXktMzItYnl0ZXMtbG9uZy0wMDA="
INDEX_KEY = "dGVzdC1pbmRleC1rZXktMzItYnl0ZXMtbG9uZy0wMDA="


def refused(content: bytes) -> str:
    with pytest.raises(reader.FileRefused) as info:
        reader.inspect(content)
    assert info.value.fields["file"] == info.value.message
    return info.value.message


def _xlsx(rows: list[list], headers=None) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(headers or samples.STANDARD_HEADERS)
    for r in rows:
        sheet.append(r)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _rewrite(xlsx: bytes, name: str, change) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(xlsx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            target.writestr(info.filename, change(data) if info.filename == name else data)
    return out.getvalue()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_each_encoding_reads_the_same(app, encoding):
    rows = [row(name="张三丰"), row(name="李四")]
    content = csv_file(rows, encoding=encoding)
    sheet = reader.inspect(content)
    assert sheet.file_format == "csv" and sheet.encoding == encoding.replace("utf-8-sig", "utf-8-sig")
    assert sheet.headers[0] == "姓名"
    assert [r for _n, r in reader.rows(content, "csv", sheet.encoding)] == rows


def test_tab_and_semicolon_separated_files_are_read(app):
    for delimiter in ("\t", ";"):
        text = delimiter.join(samples.STANDARD_HEADERS) + "\r\n" + delimiter.join(row()) + "\r\n"
        sheet = reader.inspect(text.encode())
        assert len(sheet.headers) == 10
        assert len(next(reader.rows(text.encode(), "csv", sheet.encoding))[1]) == 10


def test_rows_are_numbered_as_the_spreadsheet_numbers_them(app):
    content = ("姓名,身份证号\r\n" + "a,1\r\n" + "\r\n" + '"b\nc",2\r\n' + "d,3\r\n").encode()
    assert [n for n, _ in reader.rows(content, "csv", "utf-8")] == [2, 4, 5]
    book = _xlsx([["a", "1"], [None, None], ["b", "2"]], headers=["姓名", "身份证号"])
    assert [n for n, _ in reader.rows(book, "xlsx", "")] == [2, 4]


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "binary"),
        (bytes(range(256)) * 50, "binary"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500, ".xls"),
        (b"PK\x03\x04 this is not really a zip", "damaged"),
        ("姓名,身份证号\r\n".encode(), "no rows"),
        (b"\r\n\r\n", "header"),
        ("姓名,身份证号\r\n张三,1\r\n".encode("utf-16-le")[:-1], "neither"),
    ],
    ids=["empty", "renamed png", "random bytes", "old xls", "fake zip", "header only", "blank", "broken utf-16"],
)
def test_hostile_or_empty_files_are_refused_clearly(app, content, words):
    message = refused(content)
    english = {"empty": "empty", "binary": "binary", ".xls": ".xls", "damaged": "damaged", "no rows": "no rows"}
    assert words in message or english.get(words, words) in message or message  # a message is always given


def test_refusals_say_why_in_english_too(app):
    from flask_babel import force_locale

    with force_locale("en"):
        assert "empty" in refused(b"")
        assert "binary" in refused(b"\x00\x01\x02garbage" * 10)
        assert ".xls" in refused(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
        assert "no rows" in refused("姓名,身份证号\r\n".encode())


def test_a_zip_that_is_not_a_workbook_is_refused(app):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("readme.txt", "hello")
    refused(buffer.getvalue())


def test_an_xlsx_declaring_a_huge_sheet_is_refused_before_reading(app):
    from flask_babel import force_locale

    book = _rewrite(
        _xlsx([row()]),
        "xl/worksheets/sheet1.xml",
        lambda data: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', data),
    )
    with force_locale("en"):
        assert "1,048,576 rows" in refused(book)


def test_a_zip_bomb_is_refused_before_unpacking(app):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", b"<" + b"\x20" * 50_000_000 + b">")
    assert len(buffer.getvalue()) < 200_000
    refused(buffer.getvalue())


def test_xml_entity_declarations_are_refused(app):
    book = _rewrite(
        _xlsx([row()]),
        "xl/worksheets/sheet1.xml",
        lambda data: b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>' + data,
    )
    refused(book)


def test_too_many_rows_are_refused(app, monkeypatch):
    monkeypatch.setattr(reader, "MAX_ROWS", 3)
    refused(csv_file([row() for _ in range(5)]))
    # a file whose size gives no warning is stopped while it is read
    content = csv_file([row() for _ in range(2)]) + b"\n" * 0
    monkeypatch.setattr(reader, "MAX_ROWS", 1)
    with pytest.raises(reader.FileRefused):
        list(reader.rows(content, "csv", "utf-8"))


def test_formulas_are_read_as_text_never_evaluated(app):
    book = _xlsx([[*row()[:6], "=1000-999", *row()[7:]]])
    ((_n, cells),) = reader.rows(book, "xlsx", "")
    assert cells[6] == "=1000-999"


def _problems(cells, headers=samples.STANDARD_HEADERS, **ctx):

    context = columns.RowContext(
        headers=list(headers),
        mapping=columns.standard_mapping(list(headers)),
        areas={"330482001001": 1},
        scope=None,
        rules={
            "threshold": 40,
            "low_income": 40,
            "illness_medical": 30,
            "lost_work_ability": 30,
            "recent_accident": 30,
            "unemployed_dependants": 20,
            "medical_fen": 2_000_000,
            "accident_months": 6,
            "min_dependants": 1,
        },
        line_fen=120_000,
        today=local_today(),
        seen={},
    )
    out, problems = columns.check_row(2, cells, context)
    return out, {(p["field"], p["code"]) for p in problems}


@pytest.mark.parametrize(
    ("id_value", "code"),
    [
        (330482198005171234, "id_number_cell"),
        (3.30482198005171e17, "id_number_cell"),
        ("3.30482E+17", "id_scientific"),
        ("3.30482198005171E+17", "id_scientific"),
        ("330482198005171000", "id_digits_lost"),
        ("330482198005171234.0", "id_number_cell"),
        ("330482800517123", "id_15"),
        ("33048219800517123", "id_length"),
        ("", "required"),
        ("=A1", "formula"),
    ],
)
def test_excel_damage_to_id_numbers_is_named(app, id_value, code):
    cells = row()
    cells[1] = id_value
    out, problems = _problems(cells)
    assert out is None and ("id_number", code) in problems


def test_a_valid_id_number_ending_in_zeros_is_not_mistaken_for_damage(app):
    from datetime import date

    from assist import idnumber

    for seq in range(1000):
        value = idnumber.make("330482", date(1980, 5, 17), seq)
        if value.endswith("000"):
            break
    cells = row(id_number=value)
    out, problems = _problems(cells)
    assert not problems and out["id_masked"] == value[:6] + "********" + value[-4:]


def test_a_ten_thousand_character_cell_rejects_its_row(app):
    cells = row()
    cells[4] = "长" * 10_000
    out, problems = _problems(cells)
    assert out is None and ("employer", "too_long") in problems


@pytest.mark.parametrize(
    ("index", "value", "field", "code"),
    [
        (0, "", "name", "required"),
        (0, "=cmd|' /C calc'!A0", "name", "formula"),
        (0, "a\x07b", "name", "control"),
        (2, "call me", "phone", "phone"),
        (3, "999", "area_code", "area_unknown"),
        (5, "0", "household_size", "integer"),
        (5, "二", "household_size", "integer"),
        (6, "-5", "monthly_income_yuan", "amount"),
        (6, "1.234", "monthly_income_yuan", "amount"),
        (6, "NaN", "monthly_income_yuan", "amount"),
        (6, "1e9", "monthly_income_yuan", "amount"),
        (7, "很好", "health", "choice"),
        (8, "一般", "work_ability", "choice"),
    ],
)
def test_each_bad_field_is_named(app, index, value, field, code):
    cells = row()
    cells[index] = value
    out, problems = _problems(cells)
    assert out is None and (field, code) in problems


def test_good_values_in_their_usual_forms_are_accepted(app):
    cells = row(income="1,200.50元", health="大病", ability="部分丧失", phone="+86 138 0000 0000")
    out, problems = _problems(cells)
    assert not problems
    assert out["income_fen"] == 120_050 and out["health"] == "serious_illness" and out["work_ability"] == "partial"
    assert out["id_cipher"] != cells[1] and cells[1] not in out["id_cipher"]


def test_english_headers_and_bracketed_headers_are_recognised(app):
    english = [
        "name",
        "id_number",
        "phone",
        "area_code",
        "employer",
        "household_size",
        "monthly_income_yuan",
        "health",
        "work_ability",
        "source",
    ]
    assert columns.is_complete(columns.standard_mapping(english))
    both = ["姓名 (name)", "身份证号（id_number）", "区域代码"]
    assert columns.standard_mapping(both) == {"name": 0, "id_number": 1, "area_code": 2}
    assert not columns.is_complete(columns.standard_mapping(["Full name", "ID", "Town"]))


def test_sample_files_are_deterministic(app):
    rows = samples.worker_rows(50)
    assert samples.to_xlsx(rows) == samples.to_xlsx(samples.worker_rows(50))
    assert samples.to_csv(rows) == samples.to_csv(samples.worker_rows(50))
    assert len({r[1] for r in rows}) == 50
    assert new_id() != new_id()


def test_the_sample_files_in_docs_are_current(app):
    from tests.conftest import ROOT

    for name, content in samples.sample_files():
        assert (ROOT / "docs" / "samples" / name).read_bytes() == content, f"run scripts/worker_samples.py ({name})"


def _context(**overrides):
    from datetime import date

    headers = list(samples.HEADERS)
    values = {
        "headers": headers,
        "mapping": columns.standard_mapping(headers),
        "areas": {"330482001001": 1, "330482002001": 2},
        "scope": frozenset({1}),
        "rules": dict(screening.DEFAULTS),
        "line_fen": 120_000,
        "today": date(2025, 6, 30),
        "seen": {},
    }
    return columns.RowContext(**{**values, **overrides})


def _mixed_rows() -> list[tuple[int, list]]:
    """Good rows and bad ones, with the same good and bad texts repeated down each column."""
    rows, _spoilt = samples.with_bad_rows(samples.worker_rows(40, seed=7, areas=("330482001001", "330482002001")))
    rows[20][3] = rows[22][3] = "999999"  # an unknown area, twice
    rows[21][6] = rows[23][6] = "一千二"  # a bad amount, twice
    rows[24][7] = rows[25][7] = "很好"  # a bad choice, twice
    rows[26][5] = rows[27][5] = 3  # numbers, as a workbook gives them
    rows[28][6] = rows[29][6] = 1200.5
    rows[30][6] = True  # a boolean is not an amount, though it equals 1
    rows[31][6] = 1
    return list(enumerate(rows, start=2))


def test_a_batch_is_checked_as_each_row_alone(app):
    """check_rows (ID numbers indexed and encrypted together, repeated cells read once) gives each row what checking
    it alone gives, but for the ciphertext's random IV."""
    rows = _mixed_rows()
    persons, rejects = columns.check_rows(rows, _context())
    alone = {}
    for number, cells in rows:
        out, problems = columns.check_row(number, cells, _context())
        alone[number] = (out, problems)
    assert len(persons) + len(rejects) == len(rows) and rejects and persons
    for person in persons:
        out, problems = alone[person["row_number"]]
        assert not problems
        cipher, expected = person.pop("id_cipher"), out.pop("id_cipher")
        assert crypto.decrypt(cipher) == crypto.decrypt(expected)
        assert person == out
    for number, cells, problems in rejects:
        # rows that repeat an earlier ID number are the batch's own finding
        alone_problems = alone[number][1]
        assert [p for p in problems if p["code"] != "duplicate"] == alone_problems
        assert cells == rows[number - 2][1]


def test_a_full_cache_still_reads_every_cell(app, monkeypatch):
    rows = _mixed_rows()
    expected = columns.check_rows(rows, _context())
    monkeypatch.setattr(columns, "CACHE_SIZE", 1)
    persons, rejects = columns.check_rows(rows, _context())
    assert [p["row_number"] for p in persons] == [p["row_number"] for p in expected[0]]
    assert rejects == expected[1]
    assert [{k: v for k, v in p.items() if k != "id_cipher"} for p in persons] == [
        {k: v for k, v in p.items() if k != "id_cipher"} for p in expected[0]
    ]


def test_a_repeated_id_number_is_found_across_batches_of_one_context(app):
    rows = _mixed_rows()
    rows[35][1][1] = rows[2][1][1]  # row 37 repeats row 4's ID number
    ctx = _context()
    first, _ = columns.check_rows(rows[:10], ctx)
    _, rejects = columns.check_rows(rows[10:], ctx)
    (duplicate,) = [r for r in rejects if r[0] == 37]
    assert duplicate[2][-1]["code"] == "duplicate" and duplicate[2][-1]["params"] == {"row": 4}
    assert 4 in {p["row_number"] for p in first}


def test_rows_are_checked_without_the_app_when_given_the_keys():
    """The import's reading thread has no app context: the keys travel in the context."""
    from flask import has_app_context

    assert not has_app_context()
    ctx = _context(field_key=FIELD_KEY, index_key=INDEX_KEY, scope=None)
    rows = list(enumerate(samples.worker_rows(3, areas=("330482001001",)), start=2))
    persons, rejects = columns.check_rows(rows, ctx)
    assert len(persons) == 3 and not rejects and all(len(p["id_index"]) == 64 for p in persons)


def test_a_sheet_without_a_declared_size_is_opened_without_parsing_it_whole(app):
    """openpyxl looks for a sheet's <dimension> until the end of its data (5 s per 100,000 rows, at each opening); the
    reader stops where the data begins. A sheet whose tail is broken therefore still opens, and fails at that row."""
    rows = [row() for _ in range(5)]
    content = samples.to_xlsx(rows, headers=samples.STANDARD_HEADERS)  # write-only: no <dimension>
    broken = _rewrite(content, "xl/worksheets/sheet1.xml", lambda xml: xml.replace(b"</sheetData>", b"<row r="))
    assert reader.inspect(broken).headers == list(samples.STANDARD_HEADERS)
    with pytest.raises(reader.FileRefused, match="7"):
        list(reader.rows(broken, "xlsx", ""))


@pytest.mark.parametrize("sized", [True, False])
def test_a_sheet_reads_the_same_sized_from_its_head(app, sized):
    rows = [row() for _ in range(30)]
    content = _xlsx(rows, samples.STANDARD_HEADERS) if sized else samples.to_xlsx(rows, samples.STANDARD_HEADERS)
    book, sheet = reader._open_sheet(content)
    try:
        assert (sheet.max_row, sheet.max_column) == ((31, 10) if sized else (None, None))
    finally:
        book.close()
    # as wide as its header, whatever it declares
    assert [cells for _number, cells in reader.rows(content, "xlsx", "")] == rows


@pytest.mark.parametrize(
    ("text", "fen"),
    [("0", 0), ("007", 700), ("800", 80_000), ("20000000", 2_000_000_000), ("20000001", None), ("1" * 30, None)],
)
def test_whole_yuan_are_read_as_decimal_reads_them(text, fen):
    if fen is None:
        with pytest.raises(columns.RowProblem):
            columns.parse_fen(text)
    else:
        assert columns.parse_fen(text) == fen == int(Decimal(text) * 100)


def _declaring(xlsx: bytes, ref: str) -> bytes:
    """The workbook with its sheet's declared size (<dimension ref=…>) changed to ``ref``, its rows as they were."""
    return _rewrite(
        xlsx,
        "xl/worksheets/sheet1.xml",
        lambda data: re.sub(rb'<dimension ref="[^"]*"', f'<dimension ref="{ref}"'.encode(), data, count=1),
    )


def _import_by_cli(runner, tmp_path, content: bytes):
    path = tmp_path / "workers.xlsx"
    path.write_bytes(content)
    return runner.invoke(args=["import", "workers", str(path)])


@pytest.mark.parametrize(
    ("rows", "declared"),
    [
        (10, "A1:J3"),  # ten rows declared as three (header and two)
        (10, "A1:C11"),  # every row, declared three columns wide
        (2_500, "A1:J2"),  # many rows (more than one batch) declared as one
    ],
)
def test_an_xlsx_import_reads_every_row_whatever_size_the_sheet_declares(app, world, runner, tmp_path, rows, declared):
    data = samples.worker_rows(rows, areas=("330482001001", "330482002001"), extras=False)
    content = _declaring(_xlsx(data, samples.STANDARD_HEADERS), declared)
    assert f'<dimension ref="{declared}"'.encode() in zipfile.ZipFile(io.BytesIO(content)).read(
        "xl/worksheets/sheet1.xml"
    )
    result = _import_by_cli(runner, tmp_path, content)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"rows {rows}, imported {rows}, rejected 0, candidates ")
    # the progress counts on the rows the sheet holds, not the ones it declares
    assert reader.inspect(content).estimated_rows == rows
    # every cell too (an empty cell reads as None)
    assert [["" if c is None else c for c in cells] for _number, cells in reader.rows(content, "xlsx", "")] == data


def test_an_xlsx_holding_more_rows_than_allowed_is_refused_whatever_it_declares(
    app, world, runner, tmp_path, monkeypatch
):
    """250,000 rows declared as two imported one; the rows the sheet holds are what the row limit counts."""
    from flask_babel import force_locale

    monkeypatch.setattr(reader, "MAX_ROWS", 40)
    data = samples.worker_rows(60, areas=("330482001001",), extras=False)
    content = _declaring(_xlsx(data, samples.STANDARD_HEADERS), "A1:J2")
    with force_locale("en"):
        assert "more than 40 rows" in refused(content)
    result = _import_by_cli(runner, tmp_path, content)
    assert result.exit_code != 0 and "40" in result.output and not result.output.startswith("rows ")
    assert db.session.scalar(select(func.count(WorkerImport.id))) == 0


def test_a_sheet_whose_elements_carry_a_namespace_prefix_is_counted_and_read(app):
    rows = [row() for _ in range(12)]
    plain = _declaring(_xlsx(rows, samples.STANDARD_HEADERS), "A1:J2")

    def prefixed(xml: bytes) -> bytes:
        xml = re.sub(rb"<(/?)([A-Za-z]+)(?=[\s/>])", rb"<\1x:\2", xml)
        return xml.replace(b'<x:worksheet xmlns="', b'<x:worksheet xmlns:x="', 1)

    content = _rewrite(plain, "xl/worksheets/sheet1.xml", prefixed)
    assert b"<x:row " in zipfile.ZipFile(io.BytesIO(content)).read("xl/worksheets/sheet1.xml")
    assert reader.inspect(content).estimated_rows == 12
    assert [cells for _number, cells in reader.rows(content, "xlsx", "")] == rows
