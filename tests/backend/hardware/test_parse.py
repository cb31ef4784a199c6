"""Pure parsers against recorded text: nvidia-smi CSV and banners, /proc files, platform tags."""

from __future__ import annotations

import pytest
from hearth.hardware import model, parse
from hearth.hardware.cc_table import compute_capability_from_name

from tests.backend.hardware.conftest import SCENARIOS


def _rows(scenario: str) -> tuple[tuple[str, ...], str]:
    """(fields, rows) of a recorded query: what nvidia-smi prints with noheader,nounits."""
    header, *rows = (SCENARIOS / scenario / "query.csv").read_text().splitlines()
    return tuple(f.strip() for f in header.split(",")), "\n".join(rows) + "\n"


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        ("rtx3060-535", [("NVIDIA GeForce RTX 3060", 12288, 11795, "8.6")]),
        ("rtx4090-550", [("NVIDIA GeForce RTX 4090", 24564, 23987, "8.9")]),
        ("h100-570", [("NVIDIA H100 80GB HBM3", 81559, 81008, "9.0")]),
        ("rtx5090-580", [("NVIDIA GeForce RTX 5090", 32607, 31840, "12.0")]),
        ("gtx1060-470", [("NVIDIA GeForce GTX 1060 6GB", 6078, 5902, None)]),
        ("gtx1080-418", [("GeForce GTX 1080", 8119, 7874, None)]),
        (
            "dual-3090-1080ti-550",
            [
                ("NVIDIA GeForce RTX 3090", 24576, 23844, "8.6"),
                ("NVIDIA GeForce GTX 1080 Ti", 11264, 11004, "6.1"),
            ],
        ),
        ("na-fields-t4", [("Tesla T4", 15360, None, None)]),
    ],
)
def test_query_csv_of_real_cards(scenario, expected):
    fields, text = _rows(scenario)
    parsed = parse.parse_query_csv(text, fields)
    got = [
        (g.name, g.memory_total_mib, g.memory_free_mib, g.compute_capability) for g in parsed.gpus
    ]
    assert got == expected
    assert [g.index for g in parsed.gpus] == list(range(len(expected)))
    assert all(g.uuid and g.uuid.startswith("GPU-") for g in parsed.gpus)


def test_not_available_fields_become_none_with_notes():
    fields, text = _rows("na-fields-t4")
    parsed = parse.parse_query_csv(text, fields)
    assert parsed.gpus[0].memory_free_mib is None
    assert parsed.gpus[0].compute_capability is None
    assert "GPU 0: memory.free is [N/A]" in parsed.notes
    assert "GPU 0: compute_cap is [Not Supported]" in parsed.notes


def test_query_with_units_and_warning_lines():
    text = (
        "WARNING: infoROM is corrupted at gpu 0000:01:00.0\n"
        "0, GPU-1, NVIDIA GeForce RTX 3060, 12288 MiB, 11795 MiB, 535.183.01, 8.6\n"
    )
    parsed = parse.parse_query_csv(text)
    assert [(g.memory_total_mib, g.memory_free_mib) for g in parsed.gpus] == [(12288, 11795)]
    assert parsed.notes and "ignored line" in parsed.notes[0]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "GPU 0: NVIDIA GeForce RTX 3060 (UUID: GPU-5b8e)\n",
        "x, GPU-1, NVIDIA GeForce RTX 3060, 12288, 11795, 535.183.01, 8.6\n",
        "0, GPU-1, , 12288, 11795, 535.183.01, 8.6\n",
        "<html><body>502 Bad Gateway</body></html>\n",
    ],
)
def test_garbage_gives_no_gpus(text):
    assert parse.parse_query_csv(text).gpus == ()


def test_unreadable_compute_cap_is_dropped():
    parsed = parse.parse_query_csv("0, GPU-1, NVIDIA GeForce RTX 3060, 12288, 11795, 535.1, 8\n")
    assert parsed.gpus[0].compute_capability is None
    assert any("unreadable compute_cap" in n for n in parsed.notes)


@pytest.mark.parametrize(
    ("scenario", "driver", "cuda"),
    [
        ("rtx3060-535", "535.183.01", "12.2"),
        ("rtx4090-550", "550.54.15", "12.4"),
        ("h100-570", "570.124.06", "12.8"),
        ("rtx5090-580", "580.65.06", "13.0"),
        ("rtx4070-win-551", "551.86", "12.4"),
        ("gtx1060-470", "470.239.06", "11.4"),
        ("kepler-k40-470", "470.256.02", "11.4"),
        ("gtx1080-418", "418.226.00", "10.1"),
        ("dual-3090-1080ti-550", "550.120", "12.4"),
    ],
)
def test_banner_driver_and_cuda(scenario, driver, cuda):
    text = (SCENARIOS / scenario / "banner.txt").read_text()
    assert parse.parse_banner(text) == (driver, cuda)


def test_banner_without_cuda():
    assert parse.parse_banner("Segmentation fault\n") == (None, None)


def test_invalid_field_message_of_old_drivers():
    assert parse.invalid_field('Field "compute_cap" is not a valid field to query.\n\n') == (
        "compute_cap"
    )
    assert parse.invalid_field("0, GPU-1, x") is None


@pytest.mark.parametrize(
    ("rc", "output", "status", "snippet"),
    [
        (
            9,
            "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.",
            model.DRIVER_UNREACHABLE,
            "exit 9",
        ),
        (6, "No devices were found\n", model.NO_DEVICES, "no NVIDIA GPU"),
        (
            18,
            "Failed to initialize NVML: Driver/library version mismatch\n",
            model.DRIVER_UNREACHABLE,
            "version mismatch",
        ),
        (255, "Unknown Error\n", model.FAILED, "exit code 255: Unknown Error"),
    ],
)
def test_classify_failure(rc, output, status, snippet):
    got_status, reason = parse.classify_failure(rc, output)
    assert got_status == status
    assert snippet in reason


@pytest.mark.parametrize(
    ("name", "cc"),
    [
        ("NVIDIA GeForce GTX 1060 6GB", "6.1"),
        ("GeForce GTX 1080", "6.1"),
        ("NVIDIA GeForce GTX 1080 Ti", "6.1"),
        ("Tesla K40m", "3.5"),
        ("Tesla K80", "3.7"),
        ("NVIDIA GeForce GTX 780 Ti", "3.5"),
        ("GeForce GTX 970", "5.2"),
        ("GeForce GTX TITAN X", "5.2"),
        ("NVIDIA TITAN Xp", "6.1"),
        ("Tesla P100-PCIE-16GB", "6.0"),
        ("Tesla P40", "6.1"),
        ("Tesla V100-SXM2-16GB", "7.0"),
        ("Tesla T4", "7.5"),
        ("NVIDIA GeForce GTX 1660 SUPER", "7.5"),
        ("NVIDIA GeForce RTX 2080 Ti", "7.5"),
        ("Quadro RTX 4000", "7.5"),
        ("NVIDIA GeForce RTX 3060", "8.6"),
        ("NVIDIA RTX A4000", "8.6"),
        ("NVIDIA A10G", "8.6"),
        ("NVIDIA A100-SXM4-40GB", "8.0"),
        ("NVIDIA GeForce RTX 4090", "8.9"),
        ("NVIDIA RTX 4000 Ada Generation", "8.9"),
        ("NVIDIA L4", "8.9"),
        ("NVIDIA H100 80GB HBM3", "9.0"),
        ("NVIDIA GeForce RTX 5090", "12.0"),
        ("NVIDIA B200", "10.0"),
        ("Some Future Card", None),
    ],
)
def test_name_to_compute_capability(name, cc):
    assert compute_capability_from_name(name) == cc


# Recorded from real machines, trimmed to the first processor plus the counters.
INTEL_CPUINFO = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Core(TM) i7-8700K CPU @ 3.70GHz
physical id\t: 0
siblings\t: 12
core id\t\t: 0
cpu cores\t: 6
flags\t\t: fpu vme de pse tsc msr pae sse sse2 ht ssse3 fma cx16 sse4_1 sse4_2 avx f16c avx2 bmi2
"""
INTEL_CPUINFO += "".join(
    f"\nprocessor\t: {i}\nphysical id\t: 0\ncore id\t\t: {i % 6}\ncpu cores\t: 6\n"
    for i in range(1, 12)
)
ARM_CPUINFO = """processor\t: 0
BogoMIPS\t: 48.00
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid
CPU implementer\t: 0x41

processor\t: 1
BogoMIPS\t: 48.00
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid
"""
OLD_CPUINFO = """processor\t: 0
model name\t: Intel(R) Core(TM)2 Duo CPU     E8400  @ 3.00GHz
flags\t\t: fpu vme de pse tsc msr pae mce cx8 sse sse2 ssse3 sse4_1
"""


@pytest.mark.parametrize(
    ("text", "model_name", "cores", "threads", "flags"),
    [
        (
            INTEL_CPUINFO,
            "Intel(R) Core(TM) i7-8700K CPU @ 3.70GHz",
            6,
            12,
            {"avx": True, "avx2": True, "avx512": False, "fma": True, "f16c": True},
        ),
        (ARM_CPUINFO, None, None, 2, dict.fromkeys(model.CPU_FLAGS, False)),
        (
            OLD_CPUINFO,
            "Intel(R) Core(TM)2 Duo CPU     E8400  @ 3.00GHz",
            None,
            1,
            dict.fromkeys(model.CPU_FLAGS, False),
        ),
    ],
)
def test_proc_cpuinfo(text, model_name, cores, threads, flags):
    info = parse.parse_proc_cpuinfo(text)
    assert (info.model, info.cores, info.threads, info.flags) == (model_name, cores, threads, flags)


def test_avx512_means_the_foundation_flag():
    assert parse.cpu_flags(["avx512f", "avx512bw"])["avx512"] is True
    assert parse.cpu_flags(["avx512_vnni"])["avx512"] is False
    assert parse.cpu_flags(["FMA3", "AVX2"]) == {
        "avx": False,
        "avx2": True,
        "avx512": False,
        "fma": True,
        "f16c": False,
    }


def test_proc_meminfo():
    text = "MemTotal:       32768000 kB\nMemFree:         1000000 kB\nMemAvailable:   20000000 kB\n"
    info = parse.parse_proc_meminfo(text)
    assert (info.total_bytes, info.available_bytes) == (32768000 * 1024, 20000000 * 1024)


@pytest.mark.parametrize(
    ("text", "version"),
    [
        (
            "NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.183.01  Sun May 12 19:39:15 UTC "
            "2024\nGCC version:  gcc version 12.2.0 (Debian 12.2.0-14)\n",
            "535.183.01",
        ),
        (
            "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  550.54.15  Release Build  "
            "(dvs-builder@U16-T02-35-3)  Tue Mar  5 22:15:33 UTC 2024\n",
            "550.54.15",
        ),
        ("garbage\n", None),
    ],
)
def test_proc_driver_version(text, version):
    assert parse.parse_proc_driver_version(text) == version


@pytest.mark.parametrize(
    ("sysconfig_platform", "tag"),
    [
        ("linux-x86_64", "linux_x86_64"),
        ("linux-aarch64", "linux_aarch64"),
        ("win-amd64", "win_amd64"),
        ("win32", "win32"),
        ("macosx-11.0-arm64", "macosx_arm64"),
        ("macosx-10.9-x86_64", "macosx_x86_64"),
    ],
)
def test_platform_tag(sysconfig_platform, tag):
    assert parse.platform_tag(sysconfig_platform) == tag


def test_python_and_os_names():
    assert parse.python_tag("cpython", 3, 11) == "cp311"
    assert parse.os_name("Darwin") == "macos"
    assert parse.os_name("FreeBSD") == "other"
    assert parse.cuda_version_from_int(12040) == "12.4"
    assert parse.cuda_version_from_int(13000) == "13.0"
    assert parse.version_tuple("535.183.01") == (535, 183, 1)
