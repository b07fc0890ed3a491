"""python -m tlcourse student | grade: student copies of the notebooks, and grading them.

The markers are nbgrader's: in a code cell, the lines between `### BEGIN SOLUTION` and `### END SOLUTION` become
`# YOUR CODE HERE` + `raise NotImplementedError()`, and the lines between `### BEGIN HIDDEN TESTS` and
`### END HIDDEN TESTS` are removed. The course notebooks keep their solutions apart (notebooks/solutions/, whose
solution code carries the markers), so a student copy is the lesson with its outputs stripped and the exercises as
stubs. Grading runs a notebook and reads the verdicts its exercise checks print ([OK] or [TRY AGAIN]).
"""

import re
from pathlib import Path

SOLUTION = re.compile(r"^([ \t]*)### BEGIN SOLUTION[^\n]*\n.*?^[ \t]*### END SOLUTION[^\n]*$", re.M | re.S)
HIDDEN_TESTS = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS[^\n]*\n.*?^[ \t]*### END HIDDEN TESTS[^\n]*\n?", re.M | re.S)
VERDICT = re.compile(r"^\[(OK|TRY AGAIN)\] ([^:\n]+)(?::\s*(.*))?$", re.M)


def strip_source(source):
    """A cell's source as the student sees it: solutions replaced by a stub, hidden tests removed."""
    source = SOLUTION.sub(lambda m: f"{m.group(1)}# YOUR CODE HERE\n{m.group(1)}raise NotImplementedError()", source)
    return HIDDEN_TESTS.sub("", source)


def solution_lines(notebook):
    """The lines of code inside the solution blocks of a notebook (to check that none reaches a student)."""
    lines = []
    for cell in notebook.cells:
        for block in SOLUTION.finditer(cell.source):
            lines += [line.strip() for line in block.group(0).splitlines()[1:-1] if line.strip()]
    return lines


def student_copy(notebook):
    """The notebook with outputs and execution counts cleared, solutions stubbed and hidden tests removed."""
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.source = strip_source(cell.source)
            cell.outputs, cell.execution_count = [], None
            cell.metadata.pop("execution", None)
    return notebook


def default_folder():
    """student/ beside notebooks/ (so relative links such as ../docs/glossary.md still work), or, when the checkout
    cannot be written, the user's build folder."""
    import os

    from tlcourse.course.config import build_dir, repo_root

    root = repo_root()
    return root / "student" if os.access(root, os.W_OK) else build_dir() / "student"


def write_student_copies(out_dir):
    """Student copies of the course notebooks (not the worked solutions) into out_dir; returns their paths."""
    import nbformat

    from tlcourse.course.runner import notebooks

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in notebooks():
        if path.parent.name == "solutions":
            continue
        target = out_dir / path.name
        nbformat.write(student_copy(nbformat.read(path, as_version=4)), target)
        written.append(target)
    return written


def verdicts(notebook):
    """{exercise: (passed, detail)} from the outputs of an executed notebook's exercise checks."""
    found = {}
    for cell in notebook.cells:
        if "exercises." not in cell.source:
            continue  # only the cells that run a check (the doctor prints [OK] lines too)
        for output in cell.get("outputs", []):
            text = output.get("text", "") if output.get("output_type") == "stream" else ""
            for status, name, detail in VERDICT.findall(text):
                found[name.strip()] = (status == "OK", (detail or "").strip())
    return found


def grade(path, timeout=900):
    """Run a (student) notebook and return its exercises' verdicts; the run's error, if any, under '(run)'."""
    from tlcourse.course.config import build_dir
    from tlcourse.course.runner import execute

    log = build_dir() / "logs" / f"grade-{Path(path).stem}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    reason, _, executed = execute(Path(path).resolve(), timeout, log)
    found = verdicts(executed)
    if reason:
        found["(run)"] = (False, reason)
    return found


def main_student(out_dir):
    paths = write_student_copies(out_dir)
    for path in paths:
        print(f"wrote {path}")
    print(f"{len(paths)} student notebooks: outputs stripped, exercises as stubs, no solutions, no hidden tests")
    return 0


def main_grade(paths, timeout):
    failed = 0
    for path in paths:
        found = grade(path, timeout)
        passed = sum(ok for name, (ok, _) in found.items() if name != "(run)")
        exercises = len([name for name in found if name != "(run)"])
        print(f"{Path(path).name}: {passed} of {exercises} exercises passed")
        for name, (ok, detail) in found.items():
            state = "passed" if ok else ("not attempted" if detail.startswith("not attempted") else "failed")
            print(f"  {name}: {state}" + ("" if ok or state == "not attempted" else f" ({detail})"))
        failed += "(run)" in found
    return 1 if failed else 0
