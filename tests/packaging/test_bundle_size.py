"""build/bundle_size.py: the size budgets' verdict and table (pure), and the parts of a real tree.
The bundle's own sizes are judged by build/build-backend on the built artifact."""

from __future__ import annotations

import os

import pytest

from tests.scripts import load_script

bundle_size = load_script("bundle_size.py")
Budget, Part, MB = bundle_size.Budget, bundle_size.Part, bundle_size.MB

BUDGETS = {"onedir": Budget(limit_mb=150, goal_mb=100), "archive": Budget(limit_mb=65, goal_mb=50)}
PARTS = [Part("_internal/big", 90 * MB), Part("hearth-backend", 40 * MB), Part("_internal/x", MB)]


@pytest.mark.parametrize(
    ("onedir_mb", "archive_mb", "over"),
    [
        (120, 50, []),
        (150, 65, []),  # exactly at the limit passes
        (150.1, 65, ["onedir"]),
        (120, 66, ["archive"]),
        (200, 90, ["onedir", "archive"]),
        (149, None, []),  # --no-archive: the archive is not judged
        (151, None, ["onedir"]),
    ],
)
def test_over_budget_names_each_exceeded_budget(onedir_mb, archive_mb, over):
    sizes = {"onedir": int(onedir_mb * MB)}
    if archive_mb is not None:
        sizes["archive"] = int(archive_mb * MB)
    reasons = bundle_size.over_budget(sizes, PARTS, BUDGETS)
    assert [reason.split(" ", 1)[0] for reason in reasons] == over


def test_the_failure_names_the_budget_the_excess_and_the_largest_parts():
    (reason,) = bundle_size.over_budget({"onedir": 160 * MB}, PARTS, BUDGETS, biggest=2)
    assert reason == (
        "onedir is 160.0 MB, over its 150 MB budget by 10.0 MB (build/bundle_size.py); "
        "largest parts: _internal/big 90.0 MB, hearth-backend 40.0 MB"
    )


@pytest.mark.parametrize(
    ("size_mb", "expected"),
    [
        (90, "within its 150 MB limit; goal 100 MB: goal met"),
        (120, "within its 150 MB limit; goal 100 MB: 20.0 MB above the goal"),
        (151, "OVER its 150 MB limit; goal 100 MB: 51.0 MB above the goal"),
    ],
)
def test_status_against_limit_and_goal(size_mb, expected):
    assert bundle_size.status(size_mb * MB, BUDGETS["onedir"]) == expected


def test_table_lists_the_largest_parts_the_rest_and_each_measured_budget():
    lines = bundle_size.size_table({"onedir": 131 * MB, "archive": 60 * MB}, PARTS, BUDGETS, rows=2)
    assert lines[1].split() == ["_internal/big", "90.0", "68.7%"]
    assert lines[2].split() == ["hearth-backend", "40.0", "30.5%"]
    assert lines[3].split()[:4] == ["(1", "smaller", "parts)", "1.0"]
    assert lines[4].startswith("onedir") and "within its 150 MB limit" in lines[4]
    assert lines[5].startswith("archive") and "within its 65 MB limit" in lines[5]


def test_the_budgets_fail_no_sooner_than_their_goals():
    for budget in bundle_size.BUDGETS.values():
        assert budget.goal_mb <= budget.limit_mb


def test_bundle_parts_of_a_real_tree_count_links_as_links(tmp_path):
    internal = tmp_path / "_internal"
    (internal / "pkg" / "sub").mkdir(parents=True)
    (internal / "pkg" / "a.so").write_bytes(b"a" * 3000)
    (internal / "pkg" / "sub" / "b.py").write_bytes(b"b" * 1000)
    (internal / "lib.so").write_bytes(b"l" * 2000)
    (tmp_path / "hearth-backend").write_bytes(b"e" * 500)
    if os.name == "posix":
        (internal / "lib-link.so").symlink_to("lib.so")
    parts = bundle_size.bundle_parts(tmp_path)
    assert [(p.name, p.size) for p in parts[:3]] == [
        ("_internal/pkg", 4000),
        ("_internal/lib.so", 2000),
        ("hearth-backend", 500),
    ]
    assert bundle_size.tree_size(tmp_path) == sum(p.size for p in parts)
