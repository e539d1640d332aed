"""The agreement PDF: extract its text and find the parties, the amount and the dates in Chinese."""

from datetime import timedelta
from io import BytesIO

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader

from assist.agreements import operations as agreements
from assist.agreements.pdf import render_agreement, rmb_upper
from tests import factories


def _text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    return "".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages).replace(" ", "").replace("\n", "")


@pytest.fixture
def market(world):
    return factories.build_market(world)


def test_pdf_names_every_party_the_amount_and_the_dates(world, market):
    agreement = market.agreement
    signed_on = agreement.start_on - timedelta(days=11)
    agreements.sign_agreement(world.cw_a, agreement, signed_on, today=signed_on + timedelta(days=4))
    text = _text(render_agreement(agreement, staff=False))
    member = agreement.member
    for needle in (
        "困难职工虚拟岗位帮扶协议",
        agreement.number,
        "甲方（爱心单位）",
        "平湖爱心科技有限公司",
        market.org.credit_code,
        "乙方（帮扶对象）",
        member.name,
        "丙方（工会）",
        "平湖市总工会",
        "500.00",
        "伍佰元整",
        *(f"{d.year}年{d.month}月{d.day}日" for d in (agreement.start_on, agreement.end_on, signed_on)),
        "社区电话巡访员",
    ):
        assert needle in text, needle


def test_sponsor_copy_of_a_draft_hides_the_member(world, market):
    agreement = market.agreement
    member = agreement.member
    sponsor_copy = _text(render_agreement(agreement, staff=False))
    assert member.name not in sponsor_copy and world.family_a.phone not in sponsor_copy
    assert "协议签订时由工会填写" in sponsor_copy
    assert member.name in _text(render_agreement(agreement, staff=True))


@pytest.mark.parametrize(
    ("fen", "text"),
    [
        (50_000, "伍佰元整"),
        (123_456, "壹仟贰佰叁拾肆元伍角陆分"),
        (100_005, "壹仟元零伍分"),
        (10_000_000, "壹拾万元整"),
        (100_100, "壹仟零壹元整"),
        (1_000_000_000_00, "壹拾亿元整"),
        (1_000_100_00, "壹佰万零壹佰元整"),
        (0, "零元整"),
    ],
)
def test_capital_numerals(fen, text):
    assert rmb_upper(fen) == text


@given(st.integers(min_value=0, max_value=10**12))
def test_capital_numerals_are_well_formed(fen):
    text = rmb_upper(fen)
    assert text.endswith(("整", "分", "角"))
    assert "零零" not in text
    assert not text.startswith("零") or fen == 0
