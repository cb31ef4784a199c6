"""Entry point of the frozen backend: `hearth-backend serve` is `python -m hearth serve`.

llama_cpp is not inside the PyInstaller archive: it ships as plain files under
`<bundle>/_internal/runtimes/cpu/` (docs/PROTOCOL.md, "Where llama_cpp comes from"). The bundled
runtime is put on sys.path here as the default for every command; `serve` and `chat` then run
`hearth.runtime.bootstrap`, which takes it out again and puts exactly one runtime folder first:
the active staged one, or this bundled one.

`hearth-backend --self-check` runs build/frozen_selfcheck.py instead of the CLI (build checks).
"""

from __future__ import annotations

import multiprocessing
import sys


def make_bundled_runtime_importable() -> str | None:
    """Put the bundled CPU runtime first on sys.path; returns the folder, or None from source."""
    from hearth.paths import bundled_runtime_dir

    folder = bundled_runtime_dir()
    if folder is None:
        return None
    path = str(folder)
    if path in sys.path:
        sys.path.remove(path)
    sys.path.insert(0, path)
    return path


def main() -> int:
    # A frozen app re-enters here for every multiprocessing child (spawn on Windows and macOS).
    multiprocessing.freeze_support()
    make_bundled_runtime_importable()
    if sys.argv[1:2] == ["--self-check"]:
        import frozen_selfcheck

        return frozen_selfcheck.main(sys.argv[2:])
    from hearth.cli import main as cli_main

    return cli_main()


if __name__ == "__main__":
    raise SystemExit(main())
