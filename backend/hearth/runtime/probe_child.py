"""The probe's child process: `hearth probe-runtime ...` (hidden CLI command).

Activates a runtime exactly as bootstrap does, imports llama_cpp, checks where it came from and
whether it can offload and sees a GPU, loads the model, generates a fixed number of tokens and
prints one result line. Failures it can report itself are a result line with a code; a crash or a
hang is seen by the parent (probe.py) from the exit status or its clock.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

RESULT_PREFIX = "HEARTH_PROBE_RESULT "
PROMPT = b"Once upon a time, in a small village by the sea, there lived"
_OFFLOADED = re.compile(r"offloaded (\d+)/(\d+) layers to GPU")
# ggml_backend_dev_type: CPU, GPU, IGPU, ACCEL (ggml-backend.h)
_GPU_TYPES = {1: "gpu", 2: "igpu"}


def _emit(data: dict[str, Any]) -> None:
    sys.stdout.write(RESULT_PREFIX + json.dumps(data) + "\n")
    sys.stdout.flush()


def _fail(code: str, message: str, **extra: Any) -> int:
    _emit({"ok": False, "code": code, "message": message, **extra})
    return 0


def gpu_devices(llama_cpp: Any) -> list[dict[str, str]]:
    """The GPU devices ggml registered, through the loaded library's own symbols."""
    lib = llama_cpp.llama_cpp._lib
    try:
        count = lib.ggml_backend_dev_count
        get = lib.ggml_backend_dev_get
        kind = lib.ggml_backend_dev_type
        name = lib.ggml_backend_dev_name
        description = lib.ggml_backend_dev_description
    except AttributeError:
        return []
    count.restype = ctypes.c_size_t
    get.argtypes, get.restype = [ctypes.c_size_t], ctypes.c_void_p
    kind.argtypes, kind.restype = [ctypes.c_void_p], ctypes.c_int
    name.argtypes, name.restype = [ctypes.c_void_p], ctypes.c_char_p
    description.argtypes, description.restype = [ctypes.c_void_p], ctypes.c_char_p
    found = []
    for i in range(int(count())):
        device = get(i)
        device_type = _GPU_TYPES.get(int(kind(device)))
        if device_type:
            found.append(
                {
                    "type": device_type,
                    "name": (name(device) or b"").decode(errors="replace"),
                    "description": (description(device) or b"").decode(errors="replace"),
                }
            )
    return found


def _generate(llama_cpp: Any, llm: Any, n_tokens: int) -> float:
    """Greedy decoding of exactly `n_tokens` (end-of-text does not stop it); tokens per second
    over the decode loop, prompt excluded. The same loop measures every runtime."""
    tokens = llm.tokenize(PROMPT, add_bos=True)
    ctx, batch = llm._ctx, llm._batch
    batch.set_batch(tokens, n_past=0, logits_all=False)
    if llama_cpp.llama_decode(ctx.ctx, batch.batch) != 0:
        raise RuntimeError("llama_decode failed on the prompt")
    sampler = llama_cpp.llama_sampler_chain_init(llama_cpp.llama_sampler_chain_default_params())
    llama_cpp.llama_sampler_chain_add(sampler, llama_cpp.llama_sampler_init_greedy())
    try:
        start = time.perf_counter()
        for i in range(n_tokens):
            token = llama_cpp.llama_sampler_sample(sampler, ctx.ctx, -1)
            batch.set_batch([token], n_past=len(tokens) + i, logits_all=False)
            if llama_cpp.llama_decode(ctx.ctx, batch.batch) != 0:
                raise RuntimeError(f"llama_decode failed at token {i}")
        elapsed = time.perf_counter() - start
    finally:
        llama_cpp.llama_sampler_free(sampler)
    return n_tokens / elapsed if elapsed > 0 else float("inf")


def run(args: argparse.Namespace) -> int:
    from hearth.runtime import bootstrap, installed

    folder = Path(args.runtime).resolve() if args.runtime else None
    runtime = None
    if folder is not None:
        runtime = installed.read_manifest(folder)
        if runtime is None:
            return _fail("bad_runtime", f"{folder} is not a complete runtime folder")
    preloaded, preload_errors = bootstrap.activate(
        runtime, runtimes_root=folder.parent if folder else None
    )
    facts: dict[str, Any] = {"preloaded": list(preloaded), "preload_errors": list(preload_errors)}
    started = time.perf_counter()
    try:
        from hearth.runtime import ggml_backends

        llama_cpp = ggml_backends.import_llama_cpp()
    except BaseException as exc:  # ImportError, OSError from the native library, anything
        detail = f"; preloading failed for {', '.join(preload_errors)}" if preload_errors else ""
        return _fail("import_failed", f"llama_cpp could not be imported: {exc}{detail}", **facts)
    facts["import_s"] = round(time.perf_counter() - started, 3)
    facts["llama_cpp_path"] = path = str(Path(llama_cpp.__file__ or "").resolve())
    facts["llama_cpp_version"] = getattr(llama_cpp, "__version__", None)
    if folder is not None and not Path(path).is_relative_to(folder):
        return _fail(
            "wrong_module",
            f"llama_cpp was loaded from {path}, not from the runtime {folder}",
            **facts,
        )
    backends = ggml_backends.loaded()
    facts["cpu_backend"] = backends.cpu_label if backends else None
    facts["backends"] = list(backends.backends) if backends else []
    facts["supports_gpu_offload"] = offload = bool(llama_cpp.llama_supports_gpu_offload())
    facts["gpu_devices"] = devices = gpu_devices(llama_cpp)
    if args.expect_gpu and backends is not None and backends.gpu_problems and not devices:
        # The runtime's GPU module is there but gives no device: say why in its own words.
        problems = "; ".join(backends.gpu_problems)
        return _fail("no_gpu_device", f"{problems[:1].upper()}{problems[1:]}.", **facts)
    if args.expect_gpu and not offload:
        return _fail(
            "no_gpu_offload",
            "This llama.cpp build cannot offload to a GPU (llama_supports_gpu_offload() is false).",
            **facts,
        )
    if args.expect_gpu and not devices:
        return _fail(
            "no_gpu_device",
            "The runtime can offload, but found no GPU (check the NVIDIA driver).",
            **facts,
        )

    from hearth.engine import llamalog
    from hearth.engine.llama import default_threads

    threads = args.threads or default_threads()  # what the engine will use
    llamalog.install(False)
    llamalog.mark()
    started = time.perf_counter()
    try:
        llm = llama_cpp.Llama(
            model_path=args.model,
            n_ctx=512,
            n_gpu_layers=args.gpu_layers,
            n_threads=threads,
            n_threads_batch=threads,
            verbose=False,
        )
    except Exception as exc:
        return _fail("load_failed", f"Loading {Path(args.model).name} failed: {exc}", **facts)
    facts["load_s"] = round(time.perf_counter() - started, 3)
    match = _OFFLOADED.search(llamalog.since_mark())
    facts["offloaded_layers"] = int(match.group(1)) if match else 0
    facts["total_layers"] = int(match.group(2)) if match else None
    if args.expect_gpu and facts["offloaded_layers"] == 0:
        return _fail(
            "not_offloaded",
            "The model loaded, but no layer went to the GPU (a silent fallback to the CPU).",
            **facts,
        )
    try:
        facts["tokens_per_s"] = round(_generate(llama_cpp, llm, args.tokens), 3)
    except Exception as exc:
        return _fail("generate_failed", f"Generation failed: {exc}", **facts)
    finally:
        llm.close()
    facts["tokens"] = args.tokens
    _emit({"ok": True, "code": None, "message": "ok", **facts})
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runtime", help="runtime folder; omitted: the bundled runtime")
    parser.add_argument("--model", required=True)
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--gpu-layers", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--expect-gpu", action="store_true")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hearth probe-runtime")
    add_arguments(parser)
    return run(parser.parse_args(argv))
