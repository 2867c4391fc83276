"""Demo data for the committee's own scheme (细则): the showcase committee grades with
rules of its own from the first demo month — 班子建设 scored by sub-items — and revises
them in a second version from a later month, through the same service the pages use."""

import datetime

from django.contrib.auth.models import AbstractBaseUser

from branches.models import OrgUnit

from .models import RuleSetVersion, ScoreItem
from .rule_services import rule_set_version_create

# 班子建设 scored item by item (name, maximum), first as adopted, then as revised. 月述职测评
# takes the branch's monthly report-back score (reportback) in the months it reported.
FIRST_SHEET = [("班子团结协作", "30"), ("民主集中制执行", "25"), ("廉洁自律", "25"), ("月述职测评", "20")]
REVISED_SHEET = [
    ("班子团结协作", "25"),
    ("民主集中制执行", "20"),
    ("廉洁自律", "20"),
    ("意识形态工作责任制", "15"),
    ("月述职测评", "20"),
]
FED_BY_REPORTBACK = {"月述职测评"}


def _items(sheet, keep: list | None = None) -> list[dict]:
    """Item rows for the service; ``keep``: the current items, whose codes a revision keeps by name."""
    codes = {item.name: item.code for item in keep or []}
    rows = []
    for name, top in sheet:
        row = {"dimension": "committee_work", "name": name, "max_score": top}
        if name in FED_BY_REPORTBACK:
            row["fed_by"] = ScoreItem.FedBy.REPORTBACK
        if name in codes:
            row["code"] = codes[name]
        rows.append(row)
    return rows


def seed_scheme(
    *, committee: OrgUnit, months: list[datetime.date], user: AbstractBaseUser
) -> tuple[RuleSetVersion, RuleSetVersion]:
    """Version 1 of ``committee``'s own rules from ``months[0]`` with the first sheet, and
    version 2 from the second-to-last complete month: other weights, the revised sheet,
    a new rule for safe production and the yearly meetings due earlier."""
    first = rule_set_version_create(
        rule_set=None,
        committee=committee,
        effective_month=months[0],
        note="党委考评细则：班子建设按细则逐项评分",
        user=user,
        score_items=_items(FIRST_SHEET),
    )
    second = rule_set_version_create(
        rule_set=first.rule_set,
        committee=None,
        effective_month=months[-2],
        note="修订考评细则：提高班子建设权重，增设意识形态工作和安全生产加分",
        user=user,
        parameters={"weight_committee_work": "20", "weight_production": "20"},
        score_items=_items(REVISED_SHEET, keep=list(first.score_items.all())),
        rules=[
            {
                "category": "exemplary",
                "name": "党员安全生产责任区当月无事故",
                "source": "manual",
                "points_min": "2",
                "points_max": "2",
                "monthly_cap": "2",
                "evidence_required": False,
            }
        ],
    )
    return first, second
