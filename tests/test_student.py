"""Student copies: no outputs, no solution code, no hidden tests; they run, every exercise reported as not
attempted; a solution pasted back is graded as passing."""

import re

import nbformat
import pytest

from tlcourse.course import config, student

ROOT = config.repo_root()


@pytest.fixture(scope="module")
def copies(tmp_path_factory):
    return student.write_student_copies(tmp_path_factory.mktemp("student"))


def test_markers_are_honoured():
    source = (
        "def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n\n\nok = check(f)\n"
        "### BEGIN HIDDEN TESTS\nassert f(3) == 6\n### END HIDDEN TESTS\nprint(ok)"
    )
    assert student.strip_source(source) == (
        "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n\n\nok = check(f)\nprint(ok)"
    )


def test_student_copies_hold_no_outputs_solutions_or_hidden_tests(copies):
    numbers = sorted(path.name[:2] for path in copies)
    assert numbers == sorted(p.name[:2] for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    solution_code = set()
    for path in (ROOT / "notebooks" / "solutions").glob("*.ipynb"):
        lines = student.solution_lines(nbformat.read(path, as_version=4))
        assert lines, f"{path.name} marks no solution"
        solution_code |= {line for line in lines if len(line) > 12}  # not `return x`-short lines any code has
    for path in copies:
        notebook = nbformat.read(path, as_version=4)
        code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
        assert all(
            cell.outputs == [] and cell.execution_count is None for cell in notebook.cells if cell.cell_type == "code"
        ), path.name
        assert not re.search(r"### (BEGIN|END) (SOLUTION|HIDDEN TESTS)", code), path.name
        leaked = [line for line in solution_code if line in code]
        assert not leaked, (path.name, leaked[:3])


@pytest.mark.parametrize(
    "number, exercises", [("01", 3), ("02", 4), ("03", 3), ("04", 3), ("05", 2), ("06", 1), ("07", 3), ("08", 2)]
)
def test_a_student_copy_is_its_lesson_with_solutions_stripped_and_every_exercise_reported(copies, number, exercises):
    """A student copy's code is its lesson's code with the solutions replaced by stubs. The lesson runs under nbval,
    so the copy needs no second run: its committed run shows every exercise check reporting 'not attempted'."""
    [path] = [p for p in copies if p.name.startswith(number)]
    lesson = nbformat.read(ROOT / "notebooks" / path.name, as_version=4)
    copy = nbformat.read(path, as_version=4)
    expected = [student.strip_source(c.source) if c.cell_type == "code" else c.source for c in lesson.cells]
    assert [c.source for c in copy.cells] == expected
    found = student.verdicts(lesson)
    if not found and not any(c.get("outputs") for c in lesson.cells if c.cell_type == "code"):
        pytest.skip(f"{path.name} has no committed outputs yet (run make course)")
    assert len(found) == exercises, found
    assert all(not ok and detail.startswith("not attempted") for ok, detail in found.values()), found


@pytest.mark.slow
def test_a_solution_pasted_back_is_graded_as_passing(copies, tmp_path):
    [path] = [p for p in copies if p.name.startswith("01")]
    notebook = nbformat.read(path, as_version=4)
    solutions = nbformat.read(
        ROOT / "notebooks" / "solutions" / "01_loss_functions_and_gradients_solutions.ipynb", as_version=4
    )
    [answer] = [c.source for c in solutions.cells if "def my_mlm_loss" in c.source]
    answer = re.sub(r"^\s*### (BEGIN|END) SOLUTION\n", "", answer.split("\n\n\npassed")[0] + "\n", flags=re.M)
    [cell] = [c for c in notebook.cells if "def my_mlm_loss" in c.source]
    cell.source = answer + "\n\npassed = exercises.mlm_loss(my_mlm_loss)"
    pasted = tmp_path / path.name
    nbformat.write(notebook, pasted)
    found = student.grade(pasted)
    assert found["MLM loss"][0] is True
    assert not found["perplexity"][0]  # the others stay not attempted
