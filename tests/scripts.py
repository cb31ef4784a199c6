"""The project's build scripts (build/<name>, no .py suffix) loaded as modules, for tests of their
parts that need no build."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BUILD = Path(__file__).resolve().parent.parent / "build"


def load_script(name: str) -> ModuleType:
    """build/<name> as a module; its siblings in build/ import as they do when it runs."""
    path = BUILD / name
    if str(BUILD) not in sys.path:
        sys.path.insert(0, str(BUILD))
    module_name = name.removesuffix(".py").replace("-", "_")
    if module_name in sys.modules:
        return sys.modules[module_name]
    loader = importlib.machinery.SourceFileLoader(module_name, str(path))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None, path
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    loader.exec_module(module)
    return module
