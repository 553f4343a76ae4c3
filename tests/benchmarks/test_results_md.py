"""benchmarks/RESULTS.md and benchmarks/results/ agree: every linked file is there, and
every file there is named in the text (a result nobody can find is as bad as a lost one)."""

import re

from tests.conftest import REPO

BENCHMARKS = REPO / "benchmarks"


def test_every_results_link_resolves_and_every_result_is_named():
    text = (BENCHMARKS / "RESULTS.md").read_text()
    links = set(re.findall(r"\]\((results/[^)#\s]+)\)", text))
    assert len(links) > 50  # the pattern reads the links the file has
    assert sorted(link for link in links if not (BENCHMARKS / link).is_file()) == []
    files = sorted(path.name for path in (BENCHMARKS / "results").iterdir())
    assert sorted(name for name in files if name not in text) == []
