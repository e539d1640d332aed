from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from assist.forms import YuanField, no_control_chars
from assist.settings.operations import FACTORS


class AreaForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Regexp(r"^[0-9A-Za-z]{2,20}\Z", message=_l("A code is 2–20 letters or digits."))],
    )
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=60), no_control_chars])
    parent_code = SelectField(_l("Parent area"), validators=[Optional()])


def _int(label, lo, hi):
    return IntegerField(label, validators=[InputRequired(), NumberRange(lo, hi)])


class SettingsForm(FlaskForm):
    min_living_line_fen = YuanField(
        _l("Minimum-living line (yuan per person per month)"), validators=[DataRequired()], max_yuan=100_000
    )
    red_threshold = _int(_l("Red from score"), 1, 100)
    yellow_threshold = _int(_l("Yellow from score"), 1, 100)
    hard_trigger_income_no_work = BooleanField(
        _l("Red when income is under the line and a member lost all work ability")
    )
    hard_trigger_accident = BooleanField(_l("Red after an accident or disaster within the accident window"))
    accident_months = _int(_l("Accident window (months)"), 1, 36)
    exit_months = _int(_l("Months above the line before exit is suggested"), 1, 36)
    review_red = _int(_l("Review red families every (days)"), 1, 730)
    review_yellow = _int(_l("Review yellow families every (days)"), 1, 730)
    review_green = _int(_l("Review green families every (days)"), 1, 730)
    # virtual posts (虚拟岗位)
    post_amount_min_fen = YuanField(_l("Lowest monthly stipend (yuan)"), validators=[DataRequired()], max_yuan=100_000)
    post_amount_default_fen = YuanField(
        _l("Default monthly stipend (yuan)"), validators=[DataRequired()], max_yuan=100_000
    )
    post_amount_max_fen = YuanField(_l("Highest monthly stipend (yuan)"), validators=[DataRequired()], max_yuan=100_000)
    post_term_months = _int(_l("Default term (months)"), 1, 60)
    family_post_limit = _int(_l("Posts a family may hold at once"), 1, 10)
    claim_days = _int(_l("Days a claim stays reserved"), 1, 90)
    offer_days = _int(_l("Days an offer stays open"), 1, 90)
    # stipends (issue 4)
    payment_due_day = _int(_l("Stipends are due by this day of the following month"), 1, 28)
    union_name = StringField(
        _l("Union (丙方 on agreements)"), validators=[DataRequired(), Length(min=2, max=60), no_control_chars]
    )


for _name in FACTORS:
    setattr(SettingsForm, f"weight_{_name}", _int(_l("Weight"), 0, 100))


# identification (issue 5)
from assist.identification.forms import add_screening_fields  # noqa: E402

add_screening_fields(SettingsForm)
