import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from members.reviews import services
from members.reviews.models import MemberTalk

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def record(member, user=None, **kwargs):
    data = {
        "held_on": TODAY - datetime.timedelta(days=10),
        "kind": MemberTalk.Kind.REMINDER,
        "talker_name": "刘书记",
        "talker_role": "支部书记",
        "topic": "近期迟到较多",
    } | kwargs
    return services.member_talk_record(member=member, user=user, **data)


def test_a_talk_is_recorded_on_the_members_branch(member_a, users):
    talk = record(
        member_a, users.secretary, follow_up="一个月后回访", follow_up_due=TODAY + datetime.timedelta(days=20)
    )
    assert talk.branch == member_a.branch and talk.talked_by == users.secretary and talk.follow_up_open


def test_a_due_date_needs_a_follow_up_and_comes_after_the_talk(member_a):
    with pytest.raises(ValidationError) as refused:
        record(member_a, follow_up_due=TODAY)
    assert "follow_up" in refused.value.error_dict
    with pytest.raises(ValidationError) as refused:
        record(member_a, follow_up="回访", follow_up_due=TODAY - datetime.timedelta(days=30))
    assert "follow_up_due" in refused.value.error_dict
    with pytest.raises(ValidationError) as refused:
        record(member_a, held_on=TODAY + datetime.timedelta(days=1))
    assert "held_on" in refused.value.error_dict


def test_a_follow_up_is_marked_done_once(member_a):
    talk = record(member_a, follow_up="回访", follow_up_due=TODAY - datetime.timedelta(days=1))
    talk = services.member_talk_follow_up_done(talk=talk, done_on=TODAY, user=None)
    assert talk.follow_up_done_on == TODAY and not talk.follow_up_open
    with pytest.raises(ValidationError):
        services.member_talk_follow_up_done(talk=talk, done_on=TODAY, user=None)
    with pytest.raises(ValidationError):
        services.member_talk_follow_up_done(talk=record(member_a), done_on=TODAY, user=None)
