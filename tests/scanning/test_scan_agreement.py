"""Two of the last three reads must agree before a live-camera tag is accepted."""

from __future__ import annotations

import pytest

from app.scanning.agreement import TagAgreement


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def feed(agreement: TagAgreement, clock: Clock, *tags, step: float = 0.08) -> list:
    accepted = []
    for tag in tags:
        clock.now += step
        accepted.append(agreement.observe(tag))
    return accepted


def test_one_read_is_not_enough():
    clock = Clock()
    assert feed(TagAgreement(clock=clock), clock, "IT-1") == [None]


def test_two_agreeing_reads_accept_the_tag():
    clock = Clock()
    assert feed(TagAgreement(clock=clock), clock, "IT-1", "IT-1") == [None, "IT-1"]


def test_two_of_three_with_a_miss_between_accept_the_tag():
    clock = Clock()
    assert feed(TagAgreement(clock=clock), clock, "IT-1", None, "IT-1") == [None, None, "IT-1"]


def test_a_single_misread_among_good_reads_is_never_accepted():
    clock = Clock()
    results = feed(TagAgreement(clock=clock), clock, "IT-1", "IT-7", "IT-1", None, "IT-7", None)
    assert "IT-7" not in results


def test_reads_further_apart_than_three_do_not_agree():
    clock = Clock()
    assert feed(TagAgreement(clock=clock), clock, "IT-1", None, None, "IT-1") == [None] * 4


def test_a_tag_held_in_view_is_accepted_once():
    clock = Clock()
    results = feed(TagAgreement(clock=clock), clock, *["IT-1"] * 40)  # 3.2 s in view
    assert results.count("IT-1") == 1


def test_the_same_tag_is_accepted_again_after_it_left_view_for_a_while():
    clock = Clock()
    agreement = TagAgreement(clock=clock, repeat_after_s=1.5)
    feed(agreement, clock, "IT-1", "IT-1")
    feed(agreement, clock, *[None] * 25)  # 2 s without it
    assert feed(agreement, clock, "IT-1", "IT-1") == [None, "IT-1"]


def test_a_brief_look_away_does_not_announce_the_tag_again():
    clock = Clock()
    agreement = TagAgreement(clock=clock)
    feed(agreement, clock, "IT-1", "IT-1", None, None, None)
    assert feed(agreement, clock, "IT-1", "IT-1") == [None, None]


def test_a_different_tag_is_accepted_straight_after_another():
    clock = Clock()
    agreement = TagAgreement(clock=clock)
    assert feed(agreement, clock, "IT-1", "IT-1", "IT-2", "IT-2") == [None, "IT-1", None, "IT-2"]


def test_forget_lets_the_same_tag_count_again():
    clock = Clock()
    agreement = TagAgreement(clock=clock)
    feed(agreement, clock, "IT-1", "IT-1")
    agreement.forget()
    assert feed(agreement, clock, "IT-1", "IT-1") == [None, "IT-1"]


def test_needing_more_than_the_window_is_refused():
    with pytest.raises(ValueError):
        TagAgreement(window=3, needed=4)
