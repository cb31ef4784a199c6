"""Schemathesis over every operation of a live Hearth on the tiny stories260K model: no input
gives a server error, and every answer is what /openapi.json says (status, content type, body
schema, Allow header), so programs that generate clients from the schema can trust it.

The seed and the number of examples are fixed in schemathesis.toml beside this file, so a run
takes a few minutes and finds again whatever the last run found."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.backend.server_process import HearthProcess

CONFIG = Path(__file__).with_name("schemathesis.toml")
# Every check but max_response_time: speed is measured in bench/, not asserted by tests.
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "positive_data_acceptance",
    "missing_required_header",
    "unsupported_method",
    "allow_header_conformance",
    "use_after_free",
    "ensure_resource_availability",
    "ignored_auth",
)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_every_operation_holds_to_its_schema(tmp_path, stories_path):
    st = shutil.which("st", path=str(Path(sys.executable).parent))
    assert st, "schemathesis is in requirements-base.txt"
    models = tmp_path / "models"
    models.mkdir()
    (models / stories_path.name).symlink_to(stories_path)
    # A small window bounds every generated answer (a fuzzed max_tokens may be in the thousands).
    server = HearthProcess(tmp_path / "data", models, LLAMACPP_N_CTX="256").start()
    try:
        run = subprocess.run(
            [
                st,
                "--config-file",
                str(CONFIG),
                "run",
                f"{server.url}/openapi.json",
                "--header",
                f"Authorization: Bearer {server.token}",
                "--checks",
                ",".join(CHECKS),
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=840,
            cwd=tmp_path,
        )
        assert server.proc is not None and server.proc.poll() is None, "the server died"
    finally:
        server.stop()
    report = run.stdout + run.stderr
    assert run.returncode == 0, report[-20000:]
    assert "Tested: " in report  # it ran the operations, not just loaded the schema
