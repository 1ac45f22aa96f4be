"""Who was asked, grouped by where they came from (a listed email, or a Slack user group),
so a directly listed approver does not read as a member of the group."""

from __future__ import annotations

from services.notifier.domain.formatting import people_by_source
from shared.contracts.events import ApproverGroup, Person

SECOPS = Person(email="secops@example.com")
A = Person(email="a@example.com")
B = Person(email="b@example.com")
C = Person(email="c@example.com")
G1, G2 = "S0ONCALL1", "S0DBTEAM1"


def members(group_id: str, *who: Person) -> ApproverGroup:
    return ApproverGroup(group_id=group_id, members=[p.email for p in who])


def test_the_directly_listed_come_first_then_each_group_with_its_members() -> None:
    text = people_by_source([SECOPS, A, B], [G1], [members(G1, A, B)])
    assert text == f"secops@example.com and, from <!subteam^{G1}>, a@example.com and b@example.com"


def test_one_group_alone_reads_as_before() -> None:
    text = people_by_source([A, B], [G1], [members(G1, A, B)], "or")
    assert text == f"a@example.com or b@example.com (from <!subteam^{G1}>)"


def test_two_groups_each_name_their_own_and_a_member_of_both_is_listed_once() -> None:
    text = people_by_source([A, B, C], [G1, G2], [members(G1, A, B), members(G2, B, C)])
    assert text == (
        f"from <!subteam^{G1}>, a@example.com and b@example.com; "
        f"and, from <!subteam^{G2}>, c@example.com"
    )


def test_older_events_without_members_keep_the_old_wording() -> None:
    assert people_by_source([SECOPS, A], [G1], []) == (
        f"secops@example.com and a@example.com (from <!subteam^{G1}>)"
    )
    assert people_by_source([SECOPS, A], [], []) == "secops@example.com and a@example.com"


def test_a_long_group_is_clipped_like_any_list() -> None:
    many = [Person(email=f"m{n}@example.com") for n in range(100)]
    text = people_by_source([SECOPS, *many], [G1], [members(G1, *many)])
    assert text.startswith(f"secops@example.com and, from <!subteam^{G1}>, m0@example.com")
    assert "more" in text
    assert len(text) < 3000
