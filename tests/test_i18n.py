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


def test_the_request_catalogue_follows_force_locale_and_refresh(app):
    """The catalogue is looked up once per request, but a forced locale (e-mails in the reader's language) and a
    refresh (a locale switched mid-request) are honoured both in code and in templates."""
    from flask import render_template_string
    from flask_babel import force_locale, gettext, refresh

    from assist.enums import Colour, HardshipCategory, choices, label

    # variables are escaped, the catalogue's own text is not (as with Jinja's newstyle gettext)
    page = "{{ _('Household head') }}|{{ label(colour) }}|{{ _('%(n)s families', n=n) }}"
    with app.test_request_context("/"):
        assert gettext("Household head") == "户主"
        assert render_template_string(page, colour=Colour.RED, n="<b>") == "户主|红色|共 &lt;b&gt; 户"
        assert dict(choices(HardshipCategory))["deep"] == "深度困难"
        with force_locale("en"):
            assert gettext("Household head") == "Household head"
            assert render_template_string(page, colour=Colour.RED, n="<b>") == "Household head|Red|&lt;b&gt; families"
            assert dict(choices(HardshipCategory))["deep"] == label(HardshipCategory.DEEP) == "Deep hardship"
        assert gettext("Household head") == "户主"
        assert render_template_string(page, colour=Colour.RED, n="<b>") == "户主|红色|共 &lt;b&gt; 户"
        from flask import session

        session["locale"] = "en"
        refresh()
        assert gettext("Household head") == "Household head"
        assert render_template_string("{{ label(colour) }}", colour=Colour.GREEN) == "Green"


def test_colour_labels_written_in_a_template_follow_the_reader_not_the_first_page(client, auth, world):
    """A filter on a constant ("red"|colour_label) must not be worked out once when the template is compiled: the
    dashboard's colour chart, first shown in Chinese, was then shown with Chinese labels to English readers."""
    auth.login("admin")
    assert "红色" in client.get("/").get_data(as_text=True)
    client.get("/locale/en?next=/")
    page = client.get("/").get_data(as_text=True)
    assert "Red" in page and "红色" not in page
    assert '<span class="badge colour-red">Red</span>' in page


# where to go next: a plain path of this site only (issue 10, item 1) ---------------------------------------------------

UNSAFE_NEXT = [
    "/a\rb",
    "/a\nb",
    "/\t/evil.example",
    "/a\x00b",
    "/a\u202eb",
    "//evil.example",
    "/\\evil.example",
    "https://evil.example/x",
    "javascript:alert(1)",
    "evil.example",
    "",
]


def test_only_a_plain_path_of_this_site_is_a_place_to_go_next():
    from assist.i18n import safe_next

    for target in UNSAFE_NEXT:
        assert safe_next(target, "/home") == "/home", repr(target)
    for target in ("/families/?colour=red&page=2", "/stipends/batches/2026-09", "/家庭/", "/a%0Db"):
        assert safe_next(target, "/home") == target


def test_switching_language_with_a_control_character_in_next_goes_home(client, world):
    switched = client.get("/locale/en?next=/a%0Db")
    assert switched.status_code == 302 and switched.headers["Location"] == "/"
    assert client.get("/locale/zh?next=/%09/evil.example").headers["Location"] == "/"


def test_logging_in_with_a_control_character_in_next_goes_home(client, world):
    from tests.conftest import PASSWORD, csrf_token

    token = csrf_token(client)
    response = client.post("/login?next=/a%0Ab", data={"username": "cw_a", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_a_payment_confirmed_with_a_control_character_in_next_goes_back_to_the_list(client, auth, world):
    from assist.extensions import db
    from assist.stipends.models import StipendRecord
    from tests import factories
    from tests.conftest import csrf_token

    market = factories.build_market(world)
    record = factories.stipend(market.agreement, "2026-09")
    auth.login("sponsor")
    token = csrf_token(client, "/stipends/")
    answer = client.post(
        f"/stipends/{record.id}/pay",
        data={"csrf_token": token, "paid_on": "2026-10-10", "reference": "HZB-1", "next": "/stipends/?a\r\nb"},
    )
    assert answer.status_code == 302 and answer.headers["Location"] == "/stipends/"
    assert db.session.get(StipendRecord, record.id).reference == "HZB-1"
    kept = client.post(
        f"/stipends/{record.id}/pay",
        data={"csrf_token": token, "paid_on": "2026-10-10", "reference": "HZB-1", "next": "/stipends/?month=2026-09"},
    )
    assert kept.headers["Location"] == "/stipends/?month=2026-09"
