"""numpy without BLAS (issue 14 §3): the pin that says so, and the environment that has it."""

from __future__ import annotations

import sys

from tests.scripts import load_script

script = load_script("numpy-without-blas")


def test_the_requirements_pin_numpy_with_blas_and_lapack_switched_off():
    lines = script.numpy_lines(script.REQUIREMENTS.read_text(encoding="utf-8"))
    pin = next(line for line in lines if line.startswith("numpy=="))
    assert "--config-settings=setup-args=-Dblas=none" in pin.split()
    assert "--config-settings=setup-args=-Dlapack=none" in pin.split()
    # Without it pip takes the PyPI wheel, OpenBLAS and all, and the settings are never used.
    assert "--no-binary numpy" in lines


def test_only_numpy_lines_are_taken():
    text = "chromadb==1\n# numpy is pinned below\n--no-binary numpy\nnumpy==9.9 -C x=y\nnumpyx==1"
    assert script.numpy_lines(text) == ["--no-binary numpy", "numpy==9.9 -C x=y"]
    assert script.pinned(script.numpy_lines(text)) == "9.9"


def test_this_environment_has_the_pinned_numpy_without_blas():
    # What `make setup` installed, and what the frozen build bundles: with OpenBLAS back (say, a
    # package that pulled the PyPI wheel in after the script ran) the bundle grows by 28.5 MB.
    lines = script.numpy_lines(script.REQUIREMENTS.read_text(encoding="utf-8"))
    assert script.installed(sys.executable) == (script.pinned(lines), "none", "none")
