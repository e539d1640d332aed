"""The audit log in the reader's words: actions, record types and changed fields as labels, not codes and JSON."""

from assist.extensions import db
from assist.families.operations import update_family


def test_the_log_names_actions_records_and_fields_in_chinese(client, auth, world):
    update_family(world.cw_a, world.family_a, {"phone": "13911112222"})
    db.session.commit()
    auth.login("admin")
    page = client.get("/admin/audit/").get_data(as_text=True)
    assert ">登录</td>" in page  # the admin's own login, not "login"
    assert ">修改</td>" in page and "家庭 " in page
    changes = page[page.index("audit-changes") :]
    assert "联系电话" in changes and "13800000000" in changes and "→ 13911112222" in changes
    assert '{"phone"' not in page and "&#34;phone&#34;" not in page  # no raw JSON
    assert ">login</td>" not in page and ">update</td>" not in page
    # a new family's entry: enumerations by their labels, names in their own script (no \\u escapes)
    assert "困难类别" in page and "→ 相对困难" in page and "→ relative" not in page
    assert "\\u" not in page and '"name": "张伟"' in page.replace("&#34;", '"')


def test_the_log_reads_in_english_and_filters_by_a_labelled_action(client, auth, world):
    update_family(world.cw_a, world.family_a, {"phone": "13911112222"})
    db.session.commit()
    auth.login("admin")
    client.get("/locale/en?next=/")
    page = client.get("/admin/audit/?action=update").get_data(as_text=True)
    assert '<option value="update" selected>Changed</option>' in page
    assert ">Changed</td>" in page and "Phone" in page and ">Logged in</td>" not in page


def test_an_action_with_no_label_yet_shows_its_code_and_stays_filterable(client, auth, world):
    from assist import audit

    audit.record(world.admin, "brand_new_action", "brand_new_thing", 7)
    db.session.commit()
    auth.login("admin")
    page = client.get("/admin/audit/?action=brand_new_action").get_data(as_text=True)
    assert ">brand_new_action</td>" in page and "brand_new_thing 7" in page
    assert '<option value="brand_new_action" selected>brand_new_action</option>' in page
