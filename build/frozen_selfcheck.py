"""`hearth-backend --self-check [--model GGUF]`: prove, inside the frozen interpreter, that the
parts PyInstaller is most likely to break really work there: chromadb (with telemetry off, as
Hearth uses it), the bundled llama_cpp (imported from the runtime folder, not the archive),
pypdf's AES (pycryptodome's ciphers are libraries PyInstaller's hook collects, not modules it
sees imported), and that the heavy frameworks we exclude stay out. Prints one JSON document;
exit 0 when all passed.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
from collections.abc import Callable
from typing import Any

# Must not be importable from the bundle (backend.spec excludes them): heavy frameworks, and what
# was left out for size (gRPC and protobuf of chromadb's tracing exporter, httpx's CLI, requests,
# cryptography in favour of pycryptodome).
EXCLUDED = (
    "onnxruntime", "torch", "tensorflow", "scipy", "kubernetes",
    "grpc", "google.protobuf", "rich", "pygments", "requests", "numpy.random", "cryptography",
)  # fmt: skip
# chromadb imports it at import time; the bundle holds build/otlp_exporter_stub.py in its place.
OTLP_TRACE_EXPORTER = "opentelemetry.exporter.otlp.proto.grpc.trace_exporter"


def check_chromadb() -> dict[str, Any]:
    import chromadb
    from chromadb.config import Settings

    # ignore_cleanup_errors: on Windows the bindings keep the sqlite file open until exit.
    with tempfile.TemporaryDirectory(
        prefix="hearth-selfcheck-", ignore_cleanup_errors=True
    ) as folder:
        client = chromadb.PersistentClient(
            path=folder, settings=Settings(anonymized_telemetry=False)
        )
        # embedding_function=None: Hearth embeds with llama.cpp, never chromadb's ONNX default.
        collection = client.get_or_create_collection("selfcheck", embedding_function=None)
        collection.add(
            ids=["near", "far"],
            embeddings=[[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]],
            documents=["near", "far"],
        )
        found = collection.query(query_embeddings=[[0.9, 0.1, 0.0]], n_results=1)
        nearest = found["ids"][0][0]
        count = collection.count()
    if nearest != "near" or count != 2:
        raise RuntimeError(f"query returned {nearest!r} with {count} records")
    return {"version": chromadb.__version__, "nearest": nearest, "records": count}


def check_llama_cpp(model: str | None) -> dict[str, Any]:
    from hearth.runtime import ggml_backends

    llama_cpp = ggml_backends.import_llama_cpp()
    backends = ggml_backends.loaded()
    if backends is None or "CPU" not in backends.backends:
        raise RuntimeError(f"no CPU backend loaded: {backends.error if backends else '?'}")
    lib = getattr(llama_cpp.llama_cpp, "_lib", None)
    result: dict[str, Any] = {
        "version": llama_cpp.__version__,
        "path": llama_cpp.__file__,
        "library": getattr(lib, "_name", None),
        "system_info": llama_cpp.llama_print_system_info().decode(errors="replace").strip(),
        "cpu_backend": backends.cpu_label,
        "cpu_variants": list(backends.available),
    }
    if model:
        llm = llama_cpp.Llama(model_path=model, n_ctx=256, n_threads=2, verbose=False, seed=1)
        out = llm.create_completion("Once upon a time", max_tokens=8, temperature=0.0)
        result["generated"] = out["choices"][0]["text"]
        result["generated_tokens"] = out["usage"]["completion_tokens"]
        llm.close()
    return result


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # a parent package is absent too
        return False


def check_excluded() -> dict[str, Any]:
    if not getattr(sys, "frozen", False):
        return {"skipped": "not frozen: a source environment may have them installed"}
    present = [name for name in EXCLUDED if _importable(name)]
    if present:
        raise RuntimeError(f"excluded modules are importable: {', '.join(present)}")
    import chromadb.telemetry.opentelemetry  # noqa: F401  (imports the exporter)

    exporter = sys.modules[OTLP_TRACE_EXPORTER]
    if not getattr(exporter, "HEARTH_STAND_IN", False):
        raise RuntimeError(f"{OTLP_TRACE_EXPORTER} is the real exporter, not Hearth's stand-in")
    return {"absent": list(EXCLUDED), "stand_in": OTLP_TRACE_EXPORTER}


def check_pdf_crypto() -> dict[str, Any]:
    """pypdf's AES, which opens PDFs locked with an owner password only, round-trips a block."""
    from pypdf._crypt_providers import aes_cbc_decrypt, aes_cbc_encrypt, crypt_provider

    key, iv, text = bytes(range(32)), bytes(16), b"sixteen byte msg"
    back = aes_cbc_decrypt(key, iv, aes_cbc_encrypt(key, iv, text))
    if crypt_provider[0] == "local_crypt_fallback" or back != text:
        raise RuntimeError(f"pypdf has no working AES (provider {crypt_provider[0]})")
    return {"provider": "/".join(crypt_provider)}


def _run(name: str, check: Callable[[], dict[str, Any]], report: dict[str, Any]) -> bool:
    try:
        report[name] = {"ok": True, **check()}
        return True
    except Exception as exc:  # the report must say what broke, whatever it was
        report[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        return False


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="hearth-backend --self-check")
    parser.add_argument("--model", help="a GGUF to generate a few tokens with")
    args = parser.parse_args(argv)
    report: dict[str, Any] = {"frozen": bool(getattr(sys, "frozen", False))}
    ok = all(
        [
            _run("chromadb", check_chromadb, report),
            _run("llama_cpp", lambda: check_llama_cpp(args.model), report),
            _run("pdf_crypto", check_pdf_crypto, report),
            _run("excluded", check_excluded, report),
        ]
    )
    report["ok"] = ok
    print(json.dumps(report, indent=2))
    return 0 if ok else 1
