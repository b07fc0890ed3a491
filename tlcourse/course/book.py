"""python -m tlcourse book: the course website (Jupyter Book), and a check of its internal links and images.

The pages are the notebooks as committed, with the outputs of their last `make course` run; nothing is executed.
Needs the `book` extra: pip install -e ".[book]" (make book installs it).
"""

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

from tlcourse.course.config import build_dir, repo_root


def build(output=None, strict=True):
    """Build the site into `output` (default build/book); warnings are errors when strict. Returns the html folder."""
    output = Path(output or build_dir() / "book")
    command = [
        sys.executable,
        "-c",
        "from jupyter_book.cli.main import main; main()",
        "build",
        str(repo_root()),
        "--config",
        str(repo_root() / "book" / "_config.yml"),
        "--toc",
        str(repo_root() / "book" / "_toc.yml"),
        "--path-output",
        str(output),
        "--nitpick",
        "--keep-going",
    ] + (["--warningiserror"] if strict else [])
    done = subprocess.run(command, capture_output=True, text=True)
    html = output / "_build" / "html"
    if done.returncode or not (html / "index.html").exists():
        raise RuntimeError(f"the book did not build cleanly:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return html


class _References(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        for key, value in attrs:
            if (tag == "a" and key == "href") or (tag == "img" and key == "src"):
                self.found.append(value)


def broken_links(html):
    """(page, reference) for every internal link or image in the site that points at no file."""
    broken, html = [], Path(html)
    for page in sorted(html.rglob("*.html")):
        parser = _References()
        parser.feed(page.read_text(errors="replace"))
        for reference in parser.found:
            if not reference or reference.startswith(("#", "//")) or re.match(r"^[a-z][a-z0-9+.-]*:", reference):
                continue  # in-page anchors and external addresses
            if not (page.parent / reference.split("#")[0].split("?")[0]).exists():
                broken.append((str(page.relative_to(html)), reference))
    return broken


def main():
    html = build()
    broken = broken_links(html)
    for page, reference in broken:
        print(f"broken: {page} -> {reference}")
    pages = len(list(html.rglob("*.html")))
    print(
        f"{html}/index.html: {pages} pages, {'no broken internal links or images' if not broken else f'{len(broken)} broken'}"
    )
    return 1 if broken else 0
