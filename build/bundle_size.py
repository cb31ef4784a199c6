"""How big the frozen backend may be (the one place its size budgets live), the size table that
build/build-backend prints, and the verdict that fails the build when a budget is exceeded.

Each budget has a limit, which fails the build and names the largest parts, and a goal, issue
14 §3's target. Since the bundle met the goals the limits equal them; a goal may later go lower
than its limit again, to show how far a smaller bundle still is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

MB = 1_000_000


@dataclass(frozen=True)
class Budget:
    limit_mb: float  # the build fails above this
    goal_mb: float  # issue 14 §3's target


# Measured on Linux x86-64 by build/build-backend: onedir 145.8 MB, .tar.gz 62.9 MB (issue 14 §3
# started from 232.4 and 94.5). The limits are now the goals themselves: a dependency that grows
# the bundle past issue 14's targets fails the build (README, "Frozen backend and installers").
BUDGETS: dict[str, Budget] = {
    "onedir": Budget(limit_mb=150, goal_mb=150),
    "archive": Budget(limit_mb=65, goal_mb=65),
}


@dataclass(frozen=True)
class Part:
    name: str
    size: int  # bytes


def tree_size(folder: Path) -> int:
    """Bytes on disk as an installer stores them: symlinks count as links, not their targets."""
    return sum(p.lstat().st_size for p in folder.rglob("*") if not p.is_dir() or p.is_symlink())


def bundle_parts(bundle: Path) -> list[Part]:
    """The onedir's top-level parts, largest first: the executable (with its archive of Python
    modules) and each entry of _internal/ (a package's folder, a library, ...)."""
    entries = [p for p in bundle.iterdir() if p.name != "_internal"]
    internal = bundle / "_internal"
    if internal.is_dir():
        entries += list(internal.iterdir())
    parts = [
        Part(
            p.relative_to(bundle).as_posix(),
            tree_size(p) if p.is_dir() and not p.is_symlink() else p.lstat().st_size,
        )
        for p in entries
    ]
    return sorted(parts, key=lambda part: (-part.size, part.name))


def _mb(size: float) -> str:
    return f"{size / MB:.1f} MB"


def over_budget(
    sizes: Mapping[str, int],
    parts: Sequence[Part],
    budgets: Mapping[str, Budget] = BUDGETS,
    biggest: int = 5,
) -> list[str]:
    """Why the build must fail, one line per exceeded budget; [] when every measured size is
    within its limit. `sizes` holds bytes by budget name; a name it lacks is not judged."""
    largest = ", ".join(f"{p.name} {_mb(p.size)}" for p in parts[:biggest])
    reasons = []
    for name, budget in budgets.items():
        size = sizes.get(name)
        if size is not None and size > budget.limit_mb * MB:
            reasons.append(
                f"{name} is {_mb(size)}, over its {budget.limit_mb:g} MB budget by "
                f"{_mb(size - budget.limit_mb * MB)} (build/bundle_size.py); largest parts: "
                f"{largest}"
            )
    return reasons


def status(size: int, budget: Budget) -> str:
    limit = "within" if size <= budget.limit_mb * MB else "OVER"
    goal = (
        "goal met"
        if size <= budget.goal_mb * MB
        else f"{_mb(size - budget.goal_mb * MB)} above the goal"
    )
    return f"{limit} its {budget.limit_mb:g} MB limit; goal {budget.goal_mb:g} MB: {goal}"


def size_table(
    sizes: Mapping[str, int],
    parts: Sequence[Part],
    budgets: Mapping[str, Budget] = BUDGETS,
    rows: int = 14,
) -> list[str]:
    """The table the build prints: the largest parts with their share, then each measured size
    against its budget."""
    total = sizes.get("onedir") or sum(p.size for p in parts) or 1
    lines = [f"{'part':<48} {'MB':>7} {'share':>6}"]
    for part in parts[:rows]:
        lines.append(f"{part.name:<48} {part.size / MB:7.1f} {part.size / total:6.1%}")
    rest = parts[rows:]
    if rest:
        size = sum(p.size for p in rest)
        label = f"({len(rest)} smaller parts)"
        lines.append(f"{label:<48} {size / MB:7.1f} {size / total:6.1%}")
    for name, budget in budgets.items():
        if name in sizes:
            lines.append(f"{name:<48} {sizes[name] / MB:7.1f}  {status(sizes[name], budget)}")
    return lines
