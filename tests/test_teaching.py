"""The class plan in docs/teaching.md fits the clock: each session's time slots follow one another from minute 0
to the session's stated length, and every run time the plan quotes agrees with the published run."""

import json
import re
from pathlib import Path

ROOT = Path(__file__).parents[1]
TEACHING = ROOT / "docs" / "teaching.md"
PUBLISHED = ROOT / "tlcourse" / "published.json"

SLOT = re.compile(r"^\| (\d+)-(\d+) \| ([^|]+) \| ([^|]*) \|$")


def syllabus():
    """The heading's session length and {session number: its text} of the section '## Syllabus: ...'."""
    text = TEACHING.read_text()
    section = re.search(r"^## Syllabus: .*?(?=^## )", text, flags=re.M | re.S).group(0)
    minutes = int(re.search(r"(\d+)-minute sessions", section.splitlines()[0]).group(1))
    parts = re.split(r"^### Session (\d+):", section, flags=re.M)
    return minutes, section, {int(number): body for number, body in zip(parts[1::2], parts[2::2])}


def slots(body):
    return [(int(m.group(1)), int(m.group(2)), m.group(3)) for m in map(SLOT.match, body.splitlines()) if m]


def published_minutes():
    notebooks = json.loads(PUBLISHED.read_text())["notebooks"]
    return {stem[:2]: entry["wall_seconds"] / 60 for stem, entry in notebooks.items()}


def problems(plan, length):
    """What is wrong with a list of (start, end, activity) slots for a session of `length` minutes."""
    if not plan:
        return ["no table of time slots"]
    found = [] if plan[0][0] == 0 else [f"starts at minute {plan[0][0]}, not 0"]
    found += [
        f"a gap or an overlap at minute {end} ({activity.strip()})"
        for (_, end, _), (start, _, activity) in zip(plan, plan[1:])
        if start != end
    ]
    found += [f"an empty or reversed slot {start}-{end}" for start, end, _ in plan if start >= end]
    if plan[-1][1] != length:
        found.append(f"ends at minute {plan[-1][1]}, not {length}")
    total = sum(end - start for start, end, _ in plan)
    if total != length:
        found.append(f"the slots add up to {total} minutes, not {length}")
    return found


def test_each_session_adds_up_to_its_stated_minutes_with_contiguous_slots():
    length, _, sessions = syllabus()
    assert sorted(sessions) == list(range(1, 9)), "eight sessions, numbered 1 to 8"
    for number, body in sessions.items():
        assert problems(slots(body), length) == [], f"session {number}"


def test_every_session_from_2_on_keeps_a_slot_for_the_exercises_and_the_experiment():
    _, _, sessions = syllabus()
    for number, body in sessions.items():
        activities = [activity for *_, activity in slots(body)]
        if number == 1:
            assert any("Exercises" in a for a in activities)
        elif number < 8:
            assert any("Exercises (including the experiment)" in a for a in activities), f"session {number}"


def test_the_run_times_the_plan_quotes_are_the_published_ones():
    _, section, _ = syllabus()
    measured = published_minutes()
    quoted = re.findall(r"\b(0\d) takes (?:about (\d+) minutes?|(under a minute))", section)
    assert {nb for nb, _, _ in quoted} == {"03", "04", "05", "06", "07", "08"}, quoted
    for nb, minutes, under in quoted:
        if under:
            assert measured[nb] < 1, f"{nb}: the plan says under a minute, published {measured[nb]:.1f}"
            continue
        assert abs(int(minutes) - measured[nb]) <= 0.5, (
            f"{nb}: the plan says {minutes} min, published {measured[nb]:.1f}"
        )
    # notebooks 00-02 run in class in the default profile, because each takes under a minute
    assert "00 and 01 each run in under a minute" in section and "02 runs in under a minute" in section
    assert all(measured[nb] < 1 for nb in ("00", "01", "02"))
    total = re.search(r"take about (\d+) minutes in all", section).group(1)
    assert abs(int(total) - sum(measured[nb] for nb in ("03", "04", "05", "06", "07", "08"))) <= 0.5


def test_the_check_catches_a_gap_an_overlap_and_a_wrong_total():
    assert problems(slots("| 0-40 | a | b |\n| 40-90 | c | d |"), 90) == []
    assert problems(slots("| 0-5 | a | b |\n| 6-90 | c | d |"), 90) == [
        "a gap or an overlap at minute 5 (c)",
        "the slots add up to 89 minutes, not 90",
    ]
    assert problems(slots("| 0-50 | a | b |\n| 45-90 | c | d |"), 90)[0].startswith("a gap or an overlap")
    assert problems(slots("| 0-5 | a | b |\n| 5-80 | c | d |"), 90) == [
        "ends at minute 80, not 90",
        "the slots add up to 80 minutes, not 90",
    ]
    assert problems(slots("no table"), 90) == ["no table of time slots"]


def test_from_session_3_on_no_slot_runs_a_notebook_in_the_default_profile():
    _, _, sessions = syllabus()
    for number, body in sessions.items():
        kernels = [m.group(4) for m in map(SLOT.match, body.splitlines()) if m]
        if number >= 3:
            assert not [k for k in kernels if "default profile" in k], f"session {number}"
