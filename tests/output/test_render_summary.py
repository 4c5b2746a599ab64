"""The one-screen summary of real builds and a real tiny model (issue 11 review, 10a, 10b).

* An old build whose binary printed no version (b5308: "version: 0 (unknown)") is known by
  its checkout's ``git describe``: the summary says "b5308" as diff does, not only a commit.
* A model of 149,824 parameters is not "0M params".
"""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import pytest

from envstamp.manifest.model import ModelFile
from envstamp.output import render
from envstamp.parsers.llamacpp_log import parse_llama_log
from tests.diff_support import cpu_build

REAL = Path(__file__).parents[1] / "fixtures" / "llamacpp-real"


def test_old_build_is_named_by_its_build_number() -> None:
    line = render.llama_line(cpu_build("b5308-cpu.json"))
    assert line == "b5308 (8733e0cf6e) CPU ~/envstamp-llamacpp/0.3.9/build"


def test_current_build_is_named_by_its_version_and_commit() -> None:
    line = render.llama_line(cpu_build("0c1e570-cpu.json"))
    assert line == "0.5.0-dev (0c1e57098) CPU ~/envstamp-llamacpp/0.3.36/build"


def test_a_build_that_names_nothing_says_so() -> None:
    lone = parse_llama_log((REAL / "b5308-8733e0cf6" / "version.txt").read_text())
    line = render.llama_line(attrs.evolve(lone, path="copybin/llama-bench"))
    assert line == "build unknown copybin/llama-bench"


def test_version_and_build_number_together() -> None:
    build = attrs.evolve(cpu_build("0c1e570-cpu.json"), build_number=7123)
    assert render.llama_line(build).startswith("0.5.0-dev b7123 (0c1e57098) CPU ")


@pytest.mark.parametrize(("count", "text"), [
    (149_824, "150K params"),  # the tiny real model of scripts/make-tiny-gguf
    (999, "999 params"),
    (1_100_048_384, "1.10B params"),
    (8_030_261_248, "8.03B params"),
    (124_439_808, "124M params"),
    (7_241_732, "7.24M params"),
])
def test_parameter_counts(count: int, text: str) -> None:
    model = ModelFile(name="m", parameters=count)
    (row,) = [t for label, t in render.rows(_with_model(model)) if label == "Model"]
    assert text in row
    assert "0M params" not in row


def _with_model(model: ModelFile) -> object:
    from tests.diff_support import base

    return attrs.evolve(base(), models=[model])


def test_the_real_tiny_model_row() -> None:
    """The parameter count llama-bench's JSON printed for the tiny model."""
    rows = json.loads((REAL / "0.5.0-dev-0c1e57098" / "bench.json").read_text())
    count = rows[0]["model_n_params"]
    assert count == 149_824
    (row,) = [t for label, t in render.rows(_with_model(ModelFile(name="tiny",
                                                                    parameters=count)))
              if label == "Model"]
    assert row == "tiny, 150K params"
