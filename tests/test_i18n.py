"""Chinese by default, English complete, and the catalogue covers every text in the code."""

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "assist" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"


def test_every_text_in_code_and_templates_is_in_the_chinese_catalogue(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as fh:
        wanted = {m.id for m in read_po(fh) if m.id}
    with CATALOGUE.open("rb") as fh:
        catalogue = read_po(fh)
    translated = {m.id for m in catalogue if m.id and m.string and not m.fuzzy}
    missing = sorted(str(x) for x in wanted - translated)
    assert not missing, f"untranslated (run `make extract-messages` and translate): {missing[:20]}"


def test_placeholders_survive_translation():
    import re

    with CATALOGUE.open("rb") as fh:
        for m in read_po(fh):
            if m.id and m.string:
                ids = m.id if isinstance(m.id, tuple) else (m.id,)
                strings = m.string if isinstance(m.string, tuple) else (m.string,)
                assert set(re.findall(r"%\(\w+\)s", ids[0])) == set(re.findall(r"%\(\w+\)s", strings[0])), m.id


def test_pages_are_chinese_by_default_and_english_on_request(client, auth, world):
    page = client.get("/login").get_data(as_text=True)
    assert "登录" in page and 'lang="zh-CN"' in page
    auth.login("cw_a")
    page = client.get("/families/").get_data(as_text=True)
    assert "户主" in page and "Household head" not in page
    switched = client.get("/locale/en?next=/families/")
    assert switched.status_code == 302 and switched.headers["Location"] == "/families/"
    page = client.get("/families/").get_data(as_text=True)
    assert "Household head" in page and 'lang="en"' in page
    # the choice is remembered for the user
    assert world.cw_a.locale == "en"
    assert client.get("/locale/xx?next=https://evil.example").headers["Location"] == "/"
