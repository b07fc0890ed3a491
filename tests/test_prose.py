"""Prose cannot contradict its run: a Markdown cell states no number measured in a run.

A number or a direction this run measured is written by a code cell from this run's values (a Markdown paragraph
displayed by code), or read from benchmarks/results/ by code. Static Markdown keeps the ideas; the numbers it may
state are constants of the method or the data, listed below with the reason each one is one.
"""

import json
import re

import pytest

from tlcourse.course import config

NOTEBOOKS = sorted((config.repo_root() / "notebooks").glob("**/*.ipynb"))

# A decimal, a percentage, a factor, or a count of points, nats, seconds or minutes.
MEASURED = re.compile(
    r"(?<![\w.$/§-])[+\-−]?\d[\d,]*(?:\.\d+)?(?:\s?%|x\b|×|\s(?:points?|nats?|s|seconds|minutes?)\b)"
    r"|(?<![\w.$/§-])(?<!section )\d+\.\d+"
)
CONSTANTS = {
    "15%": "BERT's masking rate",
    "80%": "BERT's share of picked tokens shown as [MASK]",
    "10%": "BERT's random and unchanged shares",
    "75%": "MAE's masking rate",
    "5%": "the corpus's held-out shares, fixed by tlcourse/course/data.py",
    "1%": "the false-alarm rate the drift alarm is set for",
    "95%": "the confidence level of the intervals",
    "10x": "the head's learning rate multiple in the LP-FT recipe",
    "4x": "float32 to int8 is four bytes to one",
    "2x": "the rule notebook 06 applies before a bf16 fine-tune",
    "0.5": "the ViT image processor's mean and std",
    "1.28": "ImageNet's 1.28M training images",
    "0.15": "BERT's masking rate as a fraction",
    "0.95": "the recall the approximate index is required to reach",
    "0.97": "the recall efSearch is tuned to reach",
    "1.5x": "an alarm level picked by eye, the trap notebook 06 names",
}


def prose(cell):
    """The cell's text with code, mathematics and link targets taken out."""
    text = "".join(cell["source"])
    for pattern in (r"```.*?```", r"`[^`]*`", r"\$\$.*?\$\$", r"\$[^$]*\$", r"\]\([^)]*\)", r"https?://\S+"):
        text = re.sub(pattern, " ", text, flags=re.S)
    return text


def measured_numbers(text):
    return [m.group(0).strip() for m in MEASURED.finditer(text) if m.group(0).strip().lstrip("+") not in CONSTANTS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_markdown_states_no_number_measured_in_a_run(path):
    found = []
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] == "markdown":
            found += [f"cell {cell['id']}: {n!r}" for n in measured_numbers(prose(cell))]
    assert not found, "print these from code (or drop them): " + "; ".join(found)


def test_the_check_catches_a_run_specific_number_and_lets_constants_through():
    assert measured_numbers("recall@5 rose by 2.0 points (0.860 to 0.879), 3.5x faster, in 42 s") == [
        "2.0 points",
        "0.860",
        "0.879",
        "3.5x",
        "42 s",
    ]
    cell = {"source": ["hide 15% of the tokens, 80% as [MASK]; `lr=0.001`; $0.25 x$; ", "section 4.3 of §6.2"]}
    assert measured_numbers(prose(cell)) == []


# What a saved page must not show: a warning on stderr, a path of the machine that ran it (a home, a checkout, a
# temporary folder; a Debian package's /usr/share/... is the same everywhere), an unfinished progress bar.
MACHINE_PATH = re.compile(r"(?<![\w<>])/(?:home|root|tmp|Users|work|opt|var)/[\w.-]+")
UNFINISHED_BAR = re.compile(r"(?<!\d)0%\|")


def output_problems(cell):
    problems = []
    for output in cell.get("outputs", []):
        texts = ["".join(output.get("text", ""))] + [
            "".join(v) for k, v in output.get("data", {}).items() if k.startswith("text/") and k != "text/html"
        ]
        for text in texts:
            if output.get("name") == "stderr" and "Warning" in text:
                problems.append(f"a warning on stderr: {text.strip()[:80]!r}")
            if MACHINE_PATH.search(text):
                problems.append(f"a machine path: {MACHINE_PATH.search(text).group(0)!r}")
            if UNFINISHED_BAR.search(text):
                problems.append(f"an unfinished progress bar: {text.strip()[:60]!r}")
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_saved_outputs_show_no_warning_machine_path_or_unfinished_bar(path):
    cells = json.loads(path.read_text())["cells"]
    found = [f"cell {cell['id']}: {problem}" for cell in cells for problem in output_problems(cell)]
    assert not found, "; ".join(found)


def test_the_output_check_catches_each_problem():
    warning = {"outputs": [{"name": "stderr", "text": ["/root/.venv/lib/site.py:759: UserWarning: pin_memory"]}]}
    bar = {"outputs": [{"data": {"text/plain": ["small BERT runs:   0%|          | 0/14"]}}]}
    done = {"outputs": [{"data": {"text/plain": ["small BERT runs: 100%|##########| 14/14"]}}]}
    assert len(output_problems(warning)) == 2 and len(output_problems(bar)) == 1 and not output_problems(done)


def test_the_article_mistakes_are_one_numbered_list_and_its_report_is_checked():
    errata = (config.repo_root() / "docs" / "errata.md").read_text()
    numbers = [int(n) for n in re.findall(r"^(\d+)\. \*\*", errata, flags=re.M)]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 10
    # item 8: the article's classification report disagrees with itself, as the list says
    f1 = lambda p, r: 2 * p * r / (p + r)  # noqa: E731
    assert f"F1 {f1(0.983, 0.966):.3f}, not 0.972" in errata and f"{f1(0.974, 0.955):.3f}, not 0.972" in errata
    assert f"add up to\n   {2834 + 1865:,}, not the 4,700" in errata
    counted = re.compile(r"\b(three|four|five|six|seven|eight)\b[^.]{0,40}\b(mistakes|corrections|errors)\b", re.I)
    for path in [config.repo_root() / "README.md", config.repo_root() / "docs" / "glossary.md", *NOTEBOOKS]:
        assert not counted.search(path.read_text()), f"{path.name} counts the article's mistakes its own way"


# What a page shows must be readable there: code lines that fit the website's 88-character code column, and cells
# short enough to read at once (a recipe, which practitioners copy whole, may run longer, or over several cells).
def cell_layout_problems(cells, width=88, longest=45, longest_recipe=60):
    problems = []
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        lines = "".join(cell["source"]).splitlines()
        limit = longest_recipe if "recipe" in cell.get("metadata", {}).get("tags", []) else longest
        if len(lines) > limit:
            problems.append(f"cell {cell['id']}: {len(lines)} lines (at most {limit})")
        problems += [f"cell {cell['id']}: a line of {len(line)} characters" for line in lines if len(line) > width]
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_code_cells_fit_the_page(path):
    problems = cell_layout_problems(json.loads(path.read_text())["cells"])
    assert not problems, "; ".join(problems[:10])


def test_the_layout_check_catches_a_wide_line_and_a_long_cell():
    wide = {"cell_type": "code", "id": "a", "source": ["x = 1  # " + "y" * 80]}
    long = {"cell_type": "code", "id": "b", "source": ["x = 1\n"] * 46}
    recipe = {"cell_type": "code", "id": "c", "metadata": {"tags": ["recipe"]}, "source": ["x = 1\n"] * 60}
    assert cell_layout_problems([wide, long, recipe]) == [
        "cell a: a line of 89 characters",
        "cell b: 46 lines (at most 45)",
    ]
