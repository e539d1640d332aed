"""The admin's pages: classification settings, areas and the audit log."""

import re

from sqlalchemy import select

from assist.areas.models import Area
from assist.audit.models import AuditEntry
from assist.extensions import db
from assist.settings.operations import DEFAULTS, FACTORS, get_settings
from tests.conftest import csrf_token


def _settings_form(token, **changes):
    data = {
        "csrf_token": token,
        "min_living_line_fen": "1200.00",
        "red_threshold": "60",
        "yellow_threshold": "30",
        "hard_trigger_income_no_work": "y",
        "hard_trigger_accident": "y",
        "accident_months": "6",
        "exit_months": "6",
        "review_red": "30",
        "review_yellow": "90",
        "review_green": "180",
        **{f"weight_{name}": str(DEFAULTS["weights"][name]) for name in FACTORS},
        # virtual posts (issue 3)
        "post_amount_min_fen": "100.00",
        "post_amount_default_fen": "500.00",
        "post_amount_max_fen": "3000.00",
        "post_term_months": "12",
        "family_post_limit": "1",
        "claim_days": "14",
        "offer_days": "7",
        "union_name": "平湖市总工会",
        # stipends (issue 4)
        "payment_due_day": "15",
    }
    data.update(changes)
    return data


def test_settings_page_shows_defaults_and_saves_changes_with_an_audit_entry(client, auth, world):
    auth.login("admin")
    page = client.get("/admin/settings").get_data(as_text=True)
    assert 'value="1200.00"' in page and 'name="weight_income"' in page
    token = csrf_token(client, "/admin/settings")
    response = client.post(
        "/admin/settings", data=_settings_form(token, min_living_line_fen="1350", red_threshold="55", weight_debt="8")
    )
    assert response.status_code == 302
    settings = get_settings()
    assert (
        settings["min_living_line_fen"] == 135_000
        and settings["red_threshold"] == 55
        and settings["weights"]["debt"] == 8
    )
    keys = {e.entity_id for e in db.session.scalars(select(AuditEntry).where(AuditEntry.entity_type == "setting"))}
    assert keys == {"min_living_line_fen", "red_threshold", "weights"}


def test_inconsistent_settings_are_refused_beside_the_field(client, auth, world):
    auth.login("admin")
    token = csrf_token(client, "/admin/settings")
    response = client.post("/admin/settings", data=_settings_form(token, yellow_threshold="70"))
    assert response.status_code == 422
    assert re.search(
        r'id="yellow_threshold"[^>]*is-invalid|is-invalid[^>]*id="yellow_threshold"', response.get_data(as_text=True)
    )
    response = client.post(
        "/admin/settings", data=_settings_form(token, weight_income="150", min_living_line_fen="abc")
    )
    assert response.status_code == 422
    assert get_settings()["yellow_threshold"] == 30 and get_settings()["weights"]["income"] == 30


def test_post_settings_are_shown_saved_and_checked_beside_the_field(client, auth, world):
    auth.login("admin")
    page = client.get("/admin/settings").get_data(as_text=True)
    assert 'value="500.00"' in page and 'value="平湖市总工会"' in page
    token = csrf_token(client, "/admin/settings")
    bad = client.post("/admin/settings", data=_settings_form(token, post_amount_default_fen="3500"))
    assert bad.status_code == 422 and "error-post_amount_default_fen" in bad.get_data(as_text=True)
    assert get_settings()["post_amount_default_fen"] == 50_000
    ok = client.post("/admin/settings", data=_settings_form(token, claim_days="10", union_name=" 嘉兴市总工会 "))
    assert ok.status_code == 302
    assert get_settings()["claim_days"] == 10 and get_settings()["union_name"] == "嘉兴市总工会"


def test_areas_page_adds_to_the_tree(client, auth, world):
    auth.login("admin")
    token = csrf_token(client, "/admin/areas")
    assert (
        client.post(
            "/admin/areas",
            data={"csrf_token": token, "code": "330482001002", "name": "南市社区", "parent_code": "330482001"},
        ).status_code
        == 302
    )
    area = db.session.scalar(select(Area).where(Area.code == "330482001002"))
    assert area.parent.code == "330482001" and area.depth == 2 and area.path.startswith(area.parent.path)
    token = csrf_token(client, "/admin/areas")
    again = client.post(
        "/admin/areas", data={"csrf_token": token, "code": "330482001002", "name": "重复", "parent_code": ""}
    )
    assert again.status_code == 422


def test_audit_log_is_filterable(client, auth, world):
    from assist.families.operations import update_family

    update_family(world.cw_a, world.family_a, {"phone": "13911112222"})
    db.session.commit()
    auth.login("admin")
    page = client.get("/admin/audit/?actor=cw_a&entity=family&action=update").get_data(as_text=True)
    assert "13911112222" in page and "13800000000" in page
    assert "13911112222" not in client.get("/admin/audit/?actor=cw_b").get_data(as_text=True)
    assert "13911112222" in client.get(f"/admin/audit/?family={world.family_a.id}").get_data(as_text=True)
    assert "13911112222" not in client.get("/admin/audit/?until=2000-01-01").get_data(as_text=True)
    assert client.get("/admin/audit/?since=garbage&family=abc&page=-1").status_code == 200


def test_the_payment_due_day_is_set_on_the_settings_page_and_moves_the_due_date(client, auth, world):
    from assist.stipends.payments import due_on

    auth.login("admin")
    page = client.get("/admin/settings").get_data(as_text=True)
    assert 'name="payment_due_day"' in page and 'value="15"' in page
    assert due_on("2026-01") == due_on("2026-01", 15)
    token = csrf_token(client, "/admin/settings")
    response = client.post("/admin/settings", data=_settings_form(token, payment_due_day="20"))
    assert response.status_code == 302
    assert get_settings()["payment_due_day"] == 20
    assert due_on("2026-01").isoformat() == "2026-02-20"
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.entity_id == "payment_due_day")).one()
    assert (entry.before, entry.after) == (15, 20)

    refused = client.post(
        "/admin/settings", data=_settings_form(csrf_token(client, "/admin/settings"), payment_due_day="29")
    )
    assert refused.status_code == 422
    assert 'id="payment_due_day"' in refused.get_data(as_text=True)
    assert re.search(
        r'is-invalid[^>]*id="payment_due_day"|id="payment_due_day"[^>]*is-invalid', refused.get_data(as_text=True)
    )
    assert get_settings()["payment_due_day"] == 20
