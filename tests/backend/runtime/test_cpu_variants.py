"""The CPU variant table and the words it is shown in (pure)."""

import pytest
from hearth.runtime import cpu_variants as cv


def feats(*names: str, **extra: str) -> dict[str, str]:
    return {**dict.fromkeys(names, "1"), "OPENMP": "1", "REPACK": "1", **extra}


@pytest.mark.parametrize(
    ("features", "variant"),
    [
        (feats(), "x64"),
        (feats("SSE3", "SSSE3"), "sse42"),
        (feats("SSE3", "SSSE3", "AVX"), "sandybridge"),
        (feats("SSE3", "SSSE3", "AVX", "F16C"), "ivybridge"),
        (feats("SSE3", "SSSE3", "AVX", "F16C", "FMA"), "piledriver"),
        (feats("SSE3", "SSSE3", "AVX", "F16C", "FMA", "AVX2", "BMI2"), "haswell"),
        (feats("SSE3", "SSSE3", "AVX", "F16C", "FMA", "AVX2", "BMI2", "AVX_VNNI"), "alderlake"),
        (feats("SSE3", "SSSE3", "AVX", "F16C", "FMA", "AVX2", "BMI2", "AVX512"), "skylakex"),
        (
            feats("SSE3", "SSSE3", "AVX", "F16C", "FMA", "AVX2", "BMI2", "AVX512", "AVX512_VNNI"),
            "cascadelake",
        ),
        (
            feats(
                *("SSE3", "SSSE3", "AVX", "F16C", "FMA", "AVX2", "BMI2", "AVX512"),
                *("AVX512_VBMI", "AVX512_VNNI", "AVX512_BF16"),
            ),
            "zen4",
        ),
        # A value of "0" is an absent feature.
        (feats("SSE3", "SSSE3", AVX="0"), "sse42"),
    ],
)
def test_identify_names_each_variant_from_what_its_backend_reports(features, variant):
    found = cv.identify(features)
    assert found is not None and found.name == variant


def test_every_variant_has_a_distinct_feature_set():
    assert len({v.features for v in cv.VARIANTS}) == len(cv.VARIANTS)
    assert cv.OLDEST == "x64" and cv.VARIANTS[0].features == frozenset()


def test_describe_in_words():
    haswell = feats("SSE3", "SSSE3", "AVX", "F16C", "FMA", "AVX2", "BMI2")
    assert cv.describe(haswell, dispatched=True) == "AVX2 (haswell)"
    assert cv.describe(haswell, dispatched=False) == "AVX2 (haswell), fixed at build time"
    # A -march=native build on a machine with AVX-512 and AVX-VNNI matches no variant.
    native = feats("SSE3", "SSSE3", "AVX", "F16C", "FMA", "AVX2", "BMI2", "AVX_VNNI", "AVX512")
    assert cv.describe(native, dispatched=False) == (
        "built for one CPU (SSE3 SSSE3 AVX F16C FMA AVX2 BMI2 AVX-VNNI AVX512), fixed at build time"
    )


@pytest.mark.parametrize(
    ("filename", "variant", "gpu"),
    [
        ("libggml-cpu-haswell.so", "haswell", None),
        ("ggml-cpu-x64.dll", "x64", None),
        ("libggml-cpu-sse42.so", "sse42", None),
        ("libggml-cuda.so", None, "cuda"),
        ("ggml-vulkan.dll", None, "vulkan"),
        ("libggml.so", None, None),
        ("libggml-base.so.0", None, None),
        ("libggml-cpu.so", None, None),
        ("libllama.so", None, None),
        ("libggml-cpu-haswell.so.0", None, None),
    ],
)
def test_module_names(filename, variant, gpu):
    assert cv.module_variant(filename) == variant
    assert cv.gpu_module(filename) == gpu


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), ("", None), ("auto", None), (" Haswell ", "haswell"), ("x64", "x64")],
)
def test_choice(value, expected):
    assert cv.normalise_choice(value) == expected


def test_an_unknown_choice_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown CPU variant 'avx9'; one of: auto, x64, sse42"):
        cv.normalise_choice("avx9")


@pytest.mark.parametrize(
    ("value", "available", "variant", "requested", "problem"),
    [
        (None, ("x64", "haswell"), None, None, None),
        ("auto", ("x64",), None, None, None),
        ("x64", ("x64", "haswell"), "x64", "x64", None),
        (
            "haswell",
            (),
            None,
            "haswell",
            "SET=haswell was ignored: this runtime is built for one CPU",
        ),
        ("zen4", ("x64",), None, "zen4", "SET=zen4 was ignored: the runtime has no zen4 module"),
        ("avx9", ("x64",), None, None, "SET: unknown CPU variant 'avx9'; one of: auto, x64, "),
    ],
)
def test_choose_follows_a_forced_variant_only_where_its_module_is(
    value, available, variant, requested, problem
):
    choice = cv.choose(value, available, "SET")
    assert (choice.variant, choice.requested) == (variant, requested)
    if problem is None:
        assert choice.problem is None
    else:
        assert choice.problem is not None and choice.problem.startswith(problem)
