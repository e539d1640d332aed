"""Fill Chinese translations into the zh catalogue: ``python scripts/po_fill.py FILE.json`` with {msgid: text}.

Run ``make extract-messages`` first; prints the msgids still untranslated afterwards.
"""

import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

PO = Path(__file__).resolve().parent.parent / "assist/translations/zh/LC_MESSAGES/messages.po"


def main() -> None:
    texts = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8")) if len(sys.argv) > 1 else {}
    with PO.open("rb") as f:
        catalog = read_po(f)
    for message in catalog:
        if message.id and message.id in texts:
            message.string = texts[message.id]
    with PO.open("wb") as f:
        write_po(f, catalog)
    missing = [m.id for m in catalog if m.id and not m.string]
    for msgid in missing:
        print(json.dumps(msgid, ensure_ascii=False))


if __name__ == "__main__":
    main()
