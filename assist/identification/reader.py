"""Reading worker files: CSV (UTF-8, UTF-8 with BOM, GB18030) and XLSX, within limits.

The format is told by the content, not the file name. A file that cannot be read safely (too big, empty, a binary
renamed .csv, an old .xls, a zip bomb, a sheet declaring a million rows) is refused with a clear reason before any row
is read. What an XLSX sheet declares of its size (<dimension>) is not trusted otherwise: its rows are counted for the
row limit and the progress bar, and every row it holds is read, as wide as its header. Rows come out numbered as the
spreadsheet numbers them (the header is row 1), cells as the file holds them: text from a CSV; text, numbers or dates
from an XLSX. Formulas are read as their text and never evaluated.
"""

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from assist.errors import ValidationFailed

MAX_BYTES = 50 * 1024 * 1024
MAX_ROWS = 200_000
#: columns read from each row; a sheet may declare a few more (stray formatting), not thousands
MAX_COLUMNS = 60
MAX_DECLARED_COLUMNS = 200
#: characters in one cell; a longer cell rejects its row (the file is still read)
MAX_CELL = 1_000
#: an XLSX is a zip: its unpacked size, number of parts and compression ratio are bounded before it is opened
XLSX_MAX_UNPACKED = 500 * 1024 * 1024
XLSX_MAX_PARTS = 1_000
XLSX_MAX_RATIO = 100
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class FileRefused(ValidationFailed):
    """The file cannot be imported at all; the message says why (shown beside the file field)."""

    def __init__(self, message):
        super().__init__(str(message), {"file": str(message)})


@dataclass(frozen=True)
class Sheet:
    """What a first look at a file finds: its format, encoding, header and (roughly) how many rows it has."""

    file_format: str
    encoding: str
    headers: list[str]
    estimated_rows: int


def inspect(content: bytes) -> Sheet:
    """Check the file can be read and read its header; raises FileRefused with the reason otherwise."""
    if not content:
        raise FileRefused(_l("The file is empty."))
    if len(content) > MAX_BYTES:
        raise FileRefused(_l("The file is larger than %(mb)s MB; split it into smaller files.", mb=MAX_BYTES // 2**20))
    if content.startswith(OLE_MAGIC):
        raise FileRefused(_l("This is an old Excel file (.xls); save it as .xlsx or CSV and upload again."))
    if content.startswith(ZIP_MAGIC):
        file_format, encoding = "xlsx", ""
        _check_zip(content)
        headers, estimated = _xlsx_header(content)
    else:
        file_format = "csv"
        text, encoding = decode(content)
        headers = _csv_header(text)
        estimated = max(content.count(b"\n") - (0 if content.endswith(b"\n") else -1) - 1, 0)
    if not any(h.strip() for h in headers):
        raise FileRefused(_l("The first row must be the header (the column names); it is empty."))
    if len(headers) > MAX_COLUMNS:
        raise FileRefused(_l("The file has %(n)s columns; at most %(max)s are read.", n=len(headers), max=MAX_COLUMNS))
    if estimated > MAX_ROWS:
        raise FileRefused(_l("The file has more than %(max)s rows; split it into smaller files.", max=f"{MAX_ROWS:,}"))
    if next(rows(content, file_format, encoding), None) is None:
        raise FileRefused(_l("The file has a header but no rows of data."))
    return Sheet(file_format, encoding, headers, estimated)


def rows(content: bytes, file_format: str, encoding: str, after: int = 1) -> Iterator[tuple[int, list]]:
    """The data rows numbered as in the spreadsheet (the header is row 1), starting after row ``after``; blank rows
    are skipped (their numbers too). More than MAX_ROWS rows raise FileRefused."""
    source = _xlsx_rows(content) if file_format == "xlsx" else _csv_rows(content, encoding)
    for number, cells in source:
        if number > MAX_ROWS + 1:
            raise FileRefused(
                _l("The file has more than %(max)s rows; split it into smaller files.", max=f"{MAX_ROWS:,}")
            )
        if number <= after:
            continue
        # a first cell with text settles it without looking at the others (the usual row: a name)
        first = cells[0] if cells else None
        if (first.__class__ is str and first.strip()) or any(
            c is not None and c != "" and (not isinstance(c, str) or c.strip()) for c in cells
        ):
            yield number, cells


# --- CSV -------------------------------------------------------------------------------------------------------------


def decode(content: bytes) -> tuple[str, str]:
    """The text of a CSV and the encoding it was in: a BOM decides, else UTF-8 if it decodes, else GB18030."""
    if content.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    else:
        if b"\x00" in content[:65536]:
            raise FileRefused(_l("This is not a CSV or XLSX file (it holds binary data)."))
        candidates = ["utf-8", "gb18030"]
    for encoding in candidates:
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        head = text[:65536]
        controls = sum(1 for ch in head if ch < " " and ch not in "\t\r\n")
        if "\x00" in head or controls > len(head) // 100:
            raise FileRefused(_l("This is not a CSV or XLSX file (it holds binary data)."))
        return text, encoding
    raise FileRefused(_l("The file's text is neither UTF-8 nor GB18030; save it as CSV (UTF-8) and upload again."))


def _dialect(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _csv_reader(text: str):
    first_line = text[: text.find("\n")] if "\n" in text else text
    return csv.reader(io.StringIO(text, newline=""), delimiter=_dialect(first_line), strict=False)


def _csv_header(text: str) -> list[str]:
    try:
        for cells in _csv_reader(text):
            return [c.strip() for c in cells]
    except csv.Error as exc:
        raise FileRefused(_l("The CSV file cannot be read: %(why)s", why=str(exc))) from None
    return []


def _csv_rows(content: bytes, encoding: str) -> Iterator[tuple[int, list]]:
    text, _encoding = decode(content) if not encoding else (content.decode(encoding), encoding)
    reader = _csv_reader(text)
    number = 0
    try:
        for number, cells in enumerate(reader, start=1):
            if number > 1:
                yield number, cells
    except csv.Error as exc:
        raise FileRefused(
            _l("Row %(row)s of the CSV file cannot be read: %(why)s", row=number + 1, why=str(exc))
        ) from None


# --- XLSX ------------------------------------------------------------------------------------------------------------


def _check_zip(content: bytes) -> None:
    """Refuse what is not a workbook, or would unpack to far more than it is (a zip bomb)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        parts = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise FileRefused(_l("This file is damaged or not an Excel workbook (.xlsx).")) from None
    names = {p.filename for p in parts}
    if "xl/workbook.xml" not in names:
        raise FileRefused(_l("This file is damaged or not an Excel workbook (.xlsx)."))
    unpacked = sum(p.file_size for p in parts)
    if len(parts) > XLSX_MAX_PARTS or unpacked > XLSX_MAX_UNPACKED:
        raise FileRefused(
            _l("The workbook unpacks to more than %(mb)s MB; it is refused.", mb=XLSX_MAX_UNPACKED // 2**20)
        )
    for part in parts:
        if part.file_size > 1_000_000 and part.file_size > XLSX_MAX_RATIO * max(part.compress_size, 1):
            raise FileRefused(_l("The workbook is compressed suspiciously far (a zip bomb?); it is refused."))
        if part.filename.endswith((".xml", ".rels")):
            try:
                with archive.open(part) as fh:
                    head = fh.read(2048)
            except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError):
                raise FileRefused(_l("This file is damaged or not an Excel workbook (.xlsx).")) from None
            # a workbook never needs a document type declaration; entity tricks need one
            if b"<!DOCTYPE" in head.upper() or b"<!ENTITY" in head.upper():
                raise FileRefused(_l("The workbook contains XML declarations that are not allowed."))


def _open_sheet(content: bytes):
    from openpyxl import load_workbook

    _read_sizes_from_the_head()
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=False, keep_links=False)
        sheet = book.worksheets[0] if book.worksheets else None
    except Exception:  # openpyxl raises many kinds on a damaged file
        raise FileRefused(_l("This file is damaged or not an Excel workbook (.xlsx).")) from None
    if sheet is None or not hasattr(sheet, "iter_rows"):
        raise FileRefused(_l("The workbook's first sheet is not a table of data."))
    return book, sheet


def _read_sizes_from_the_head() -> None:
    """Make openpyxl's read-only sheets look for their declared size (<dimension>) in the sheet's head only.

    openpyxl looks for it until the *end* of <sheetData>, so a sheet that declares none (openpyxl's own write-only
    mode writes none) is parsed whole each time a workbook is opened: about 5 s for 100,000 rows, paid three times
    per import. The size found is the same; a sheet without one is now found so as soon as its data begins.
    """
    from openpyxl.reader import excel

    if getattr(excel.ReadOnlyWorksheet, "sized_from_the_head", False):
        return
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet
    from openpyxl.worksheet._reader import DATA_TAG, DIMENSION_TAG
    from openpyxl.worksheet.dimensions import SheetDimension
    from openpyxl.xml.functions import iterparse

    class SizedFromTheHead(ReadOnlyWorksheet):
        sized_from_the_head = True

        def _get_size(self):
            source = self._get_source()
            try:
                for event, element in iterparse(source, events=("start", "end")):
                    if event == "start" and element.tag == DATA_TAG:
                        return
                    if event == "end" and element.tag == DIMENSION_TAG:
                        boundaries = SheetDimension.from_tree(element).boundaries
                        self._min_column, self._min_row, self._max_column, self._max_row = boundaries
                        return
            finally:
                source.close()

    excel.ReadOnlyWorksheet = SizedFromTheHead


def _xlsx_header(content: bytes) -> tuple[list[str], int]:
    book, sheet = _open_sheet(content)
    try:
        # what the sheet declares (<dimension>) only refuses a file early: a sheet claiming to be huge is not read
        declared_rows, declared_columns = sheet.max_row, sheet.max_column
        if (declared_rows or 0) > MAX_ROWS + 1 or (declared_columns or 0) > MAX_DECLARED_COLUMNS:
            raise FileRefused(
                _l(
                    "The sheet declares %(rows)s rows and %(cols)s columns; at most %(max)s rows are read.",
                    rows=f"{declared_rows or 0:,}",
                    cols=f"{declared_columns or 0:,}",
                    max=f"{MAX_ROWS:,}",
                )
            )
        header = _xlsx_header_cells(sheet)
        # the rows the sheet holds, whatever it declares (for the size check and the progress bar)
        rows_held = _count_rows(sheet)
    finally:
        book.close()
    return ["" if h is None else str(h).strip() for h in header], max(rows_held - 1, 0)


def _xlsx_header_cells(sheet) -> list:
    """The first row's cells up to its last non-empty one (MAX_COLUMNS + 1 at most: one more is refused)."""
    header: list = []
    try:
        for values in sheet.iter_rows(min_row=1, max_row=1, max_col=MAX_COLUMNS + 1, values_only=True):
            header = list(values)
    except FileRefused:
        raise
    except Exception:
        raise FileRefused(_l("This file is damaged or not an Excel workbook (.xlsx).")) from None
    while header and header[-1] in (None, ""):
        header.pop()
    return header


#: the sheet's root element, and the namespace prefix its elements carry, if any (<worksheet>, <x:worksheet>)
_ROOT_TAG = re.compile(rb"<([A-Za-z_][\w.-]*:)?worksheet[\s>]")


def _count_rows(sheet) -> int:
    """The row elements of the sheet, counted in its XML (a fraction of the time parsing it takes)."""
    count, tail, starts = 0, b"", None
    try:
        with sheet.parent._archive.open(sheet._worksheet_path) as fh:
            while chunk := fh.read(1 << 20):
                if starts is None:
                    root = _ROOT_TAG.search(chunk)
                    prefix = (root.group(1) or b"") if root else b""
                    # <row ...> and <row>, not the <rowBreaks> after the data
                    starts = (b"<" + prefix + b"row", b"<" + prefix + b"rowBreaks")
                # a tag cut at the chunk's start is completed by the tail of the one before (and counted once)
                text = tail + chunk
                count += text.count(starts[0]) - tail.count(starts[0]) - text.count(starts[1]) + tail.count(starts[1])
                tail = chunk[-64:]
    except Exception:
        return 0
    return count


def _xlsx_rows(content: bytes) -> Iterator[tuple[int, list]]:
    book, sheet = _open_sheet(content)
    # every row and column the sheet holds, not the size it declares: openpyxl would stop at the declared last row
    # and cut the declared width (a sheet of 10 rows declared as 3 would give 2)
    sheet.reset_dimensions()
    try:
        number = 1
        try:
            # as wide as the header: the columns a mapping can name (short rows are not padded to MAX_COLUMNS cells)
            width = min(max(len(_xlsx_header_cells(sheet)), 1), MAX_COLUMNS)
            for number, values in enumerate(sheet.iter_rows(max_col=width, values_only=True), start=1):
                if number > 1:
                    yield number, list(values)
        except FileRefused:
            raise
        except Exception:
            raise FileRefused(
                _l("Row %(row)s of the workbook cannot be read; the file is damaged.", row=number + 1)
            ) from None
    finally:
        book.close()
