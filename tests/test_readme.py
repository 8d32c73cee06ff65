"""Every Python snippet in README.md runs as written (in a scratch folder, each in a fresh namespace).

A snippet that needs files a fresh clone does not have is marked in README.md by an HTML comment on
the line before its fence, ``<!-- not run: <reason> -->``; the reason must be given, and such
snippets are few.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
_FENCE = re.compile(r"(?:<!-- not run: (?P<reason>[^>]*?) -->\n)?```python\n(?P<code>.*?)```", re.S)


def snippets() -> list[tuple[int, str, str | None]]:
    """``(line number, code, reason it is not run or None)`` for each ```python block."""
    text = README.read_text(encoding="utf-8")
    found = []
    for match in _FENCE.finditer(text):
        line = text.count("\n", 0, match.start("code"))
        found.append((line, match.group("code"), match.group("reason")))
    return found


def test_readme_has_runnable_snippets():
    found = snippets()
    assert len(found) >= 5
    skipped = [line for line, _, reason in found if reason is not None]
    assert len(skipped) <= 2, f"too many README snippets are not run (lines {skipped})"
    assert all(reason.strip() for _, _, reason in found if reason is not None)


@pytest.mark.model
@pytest.mark.slow
@pytest.mark.parametrize("line,code,reason", snippets(), ids=[f"line{line}" for line, _, _ in snippets()])
def test_readme_snippet_runs(line, code, reason, tmp_path, monkeypatch):
    if reason is not None:
        pytest.skip(f"README.md line {line} is not run: {reason}")
    pytest.importorskip("datasets")
    monkeypatch.chdir(tmp_path)
    exec(compile(code, f"README.md:{line}", "exec"), {"__name__": "__readme__"})
