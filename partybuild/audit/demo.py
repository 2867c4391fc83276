"""The demo's audit trail. On PostgreSQL everything seed_demo writes is recorded under
the command's name (``context.py``); these are the changes its users then make by hand,
from their own addresses, so the trail's first page reads like a working day. On SQLite
the same changes are made and nothing is recorded (the page says why)."""

from django.contrib.auth.models import AbstractBaseUser
from django.urls import reverse

from branches.models import OrgUnit
from branches.services import org_unit_update

from .context import acting_as


def seed_audit(*, branch: OrgUnit, staffer: AbstractBaseUser, admin: AbstractBaseUser) -> dict[str, int]:
    # The committee raises the showcase branch a rung on the 三型 ladder after its review.
    tier = OrgUnit.Tier.EXEMPLARY if branch.tier != OrgUnit.Tier.EXEMPLARY else OrgUnit.Tier.RED_FLAG
    with acting_as(staffer, ip="10.12.31.45", path=reverse("branches:unit_edit", args=[branch.pk])):
        org_unit_update(
            unit=branch,
            name=branch.name,
            brand=branch.brand,
            brand_description=branch.brand_description,
            sort_order=branch.sort_order,
            tier=tier,
        )
    # The administrator completes the staffer's account: a name and a work address.
    with acting_as(admin, ip="10.12.0.8", path=reverse("admin:auth_user_change", args=[staffer.pk])):
        staffer.first_name, staffer.last_name = staffer.first_name or "晓燕", staffer.last_name or "陈"
        staffer.email = staffer.email or f"{staffer.get_username()}@steel-group.example.invalid"
        staffer.save(update_fields=["first_name", "last_name", "email"])
    return {"changes": 2}
