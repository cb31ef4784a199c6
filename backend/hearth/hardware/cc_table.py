"""Compute capability from a GPU's marketing name: the last resort when neither NVML nor
nvidia-smi can say (drivers older than R510 lack nvidia-smi's `compute_cap` field)."""

from __future__ import annotations

import re

# Most specific first: "RTX A4000" must not match "RTX 4000", "A100" must not match "A10".
# Source: NVIDIA's CUDA GPUs page (developer.nvidia.com/cuda-gpus).
_TABLE: tuple[tuple[str, str], ...] = (
    # Blackwell
    (r"\bRTX PRO \d+ Blackwell\b", "12.0"),
    (r"\bRTX 50[5-9]0\b", "12.0"),
    (r"\bG?B(100|200)\b", "10.0"),
    # Hopper
    (r"\bG?H(100|200|800)\b", "9.0"),
    # Ada
    (r"\bRTX \d+( SFF)? Ada\b", "8.9"),
    (r"\bRTX 40[5-9]0\b", "8.9"),
    (r"\bL(4|40S?|20)\b", "8.9"),
    # Ampere
    (r"\bA(100|30|800)\b", "8.0"),
    (r"\bRTX A\d+\b", "8.6"),
    (r"\bA(2|10G?|16|40)\b", "8.6"),
    (r"\bRTX 30[5-9]0\b", "8.6"),
    (r"\bOrin\b", "8.7"),
    # Turing
    (r"\bTITAN RTX\b", "7.5"),
    (r"\bQuadro RTX\b", "7.5"),
    (r"\bRTX 20[6-8]0\b", "7.5"),
    (r"\bGTX 16[5-6]0\b", "7.5"),
    (r"\bT(4|400|600|1000|1200)\b", "7.5"),
    (r"\bMX[45]50\b", "7.5"),
    # Volta
    (r"\bTITAN V\b", "7.0"),
    (r"\bV100\b", "7.0"),
    # Pascal
    (r"\bP100\b", "6.0"),
    (r"\bGTX TITAN X\b", "5.2"),  # Maxwell; before the Pascal "TITAN X (Pascal)"
    (r"\bTITAN Xp?\b", "6.1"),
    (r"\bGTX 10[5-8]0\b", "6.1"),
    (r"\bGT 1030\b", "6.1"),
    (r"\bP(4|6|40)\b", "6.1"),
    (r"\bMX[1-3][35]0\b", "6.1"),
    (r"\bQuadro P\d+\b", "6.1"),
    # Maxwell
    (r"\bGTX 9[5-8]0\b", "5.2"),
    (r"\bM(4|40|60)\b", "5.2"),
    (r"\bGTX 750\b", "5.0"),
    # Kepler
    (r"\bK80\b", "3.7"),
    (r"\bK(20|40)", "3.5"),
    (r"\bGTX TITAN\b", "3.5"),
    (r"\bGTX 780\b", "3.5"),
    (r"\bGTX (6[4-9]0|7[67]0)\b", "3.0"),
)

_COMPILED = tuple((re.compile(pattern, re.IGNORECASE), cc) for pattern, cc in _TABLE)


def compute_capability_from_name(name: str) -> str | None:
    """The compute capability of a known GPU name, or None when the name is not in the table."""
    for pattern, cc in _COMPILED:
        if pattern.search(name):
            return cc
    return None
