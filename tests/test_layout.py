"""What every page's frame says: the tab's title and the brand name agree, and the inbox offers only what can be done."""

import re
from pathlib import Path

from assist.extensions import db
from assist.inbox.models import Notification

ROOT = Path(__file__).resolve().parent.parent


def _title_and_brand(html: str) -> tuple[str, str]:
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
    brand = re.search(r'class="navbar-brand"[^>]*>(.*?)</a>', html, re.S).group(1)
    return title.rsplit("·", 1)[-1].strip(), brand.strip()


def test_the_tab_title_names_the_product_as_the_brand_does_in_both_languages(client, auth, world):
    auth.login("admin")
    zh = client.get("/").get_data(as_text=True)
    client.get("/locale/en?next=/")
    en = client.get("/").get_data(as_text=True)
    assert _title_and_brand(zh) == ("工会帮扶", "工会帮扶")
    assert _title_and_brand(en) == ("Union assistance", "Union assistance")


def test_mark_all_as_read_is_offered_only_when_something_is_unread(client, auth, world):
    auth.login("cw_a")
    assert "全部标为已读" not in client.get("/inbox/").get_data(as_text=True)
    db.session.add(
        Notification(
            user_id=world.cw_a.id,
            kind="review_due",
            key="layout-test",
            params={"due": 1, "overdue": 0, "on": "2026-11-24"},
        )
    )
    db.session.commit()
    assert "全部标为已读" in client.get("/inbox/").get_data(as_text=True)


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_an_unread_messages_link_is_readable_on_its_yellow_row():
    """WCAG AA: 4.5:1 for text. The row is Bootstrap's list-group-item-warning (#fff3cd)."""
    css = (ROOT / "static" / "css" / "app.css").read_text()
    colour = re.search(r"\.list-group-item-warning \.btn-link \{ color: (#[0-9a-fA-F]{6}); \}", css).group(1)
    light, dark = sorted((_luminance("#fff3cd"), _luminance(colour)), reverse=True)
    assert (light + 0.05) / (dark + 0.05) >= 4.5
