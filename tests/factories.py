"""factory_boy factories. Units are created through ``org_unit_create`` so their
materialised paths are real."""

import datetime

import factory
from django.contrib.auth import get_user_model

from branches import services as branch_services
from branches.models import OrgUnit, RoleBinding
from members.models import Member, Membership


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrgUnit

    kind = OrgUnit.Kind.BRANCH
    name = factory.Sequence(lambda n: f"第{n}党支部")
    code = factory.Sequence(lambda n: f"U{n:05d}")
    parent = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return branch_services.org_unit_create(**kwargs)


def committee(**kwargs) -> OrgUnit:
    return UnitFactory(kind=OrgUnit.Kind.COMMITTEE, name=kwargs.pop("name", "党委"), **kwargs)


def branch(parent: OrgUnit, **kwargs) -> OrgUnit:
    return UnitFactory(kind=OrgUnit.Kind.BRANCH, parent=parent, **kwargs)


def group(parent: OrgUnit, **kwargs) -> OrgUnit:
    return UnitFactory(kind=OrgUnit.Kind.GROUP, parent=parent, name=kwargs.pop("name", "第一党小组"), **kwargs)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        obj.set_password(extracted or "pw-for-tests-123")
        if create:
            obj.save(update_fields=["password"])


def user_with_role(role: str, unit: OrgUnit | None, **kwargs):
    user = UserFactory(**kwargs)
    RoleBinding.objects.create(user=user, role=role, unit=unit)
    return user


class MemberFactory(factory.django.DjangoModelFactory):
    """A full member placed in ``branch`` with one open membership period."""

    class Meta:
        model = Member
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"张{'伟芳娜敏静丽强磊军洋'[n % 10]}{n}")
    gender = Member.Gender.MALE
    birth_date = datetime.date(1985, 3, 4)
    employee_no = factory.Sequence(lambda n: f"E{n:06d}")
    status = Member.Status.FULL
    joined_on = datetime.date(2010, 7, 1)
    converted_on = datetime.date(2011, 7, 1)
    post = "技术员"

    @factory.post_generation
    def period(obj, create, extracted, **kwargs):
        if create:
            Membership.objects.create(
                member=obj, branch=obj.branch, group=obj.group, started_on=extracted or datetime.date(2020, 1, 1)
            )
