"""What /openapi.json promises beyond the routes' signatures: methods per path, names and ids
as the checks accept them, and errors in the shape the handlers send. Pure where it can be."""

from __future__ import annotations

import re

import pytest
from hearth.api.openapi_doc import allowed_methods
from hearth.api.params import MODEL_FILENAME_PATTERN, PLAIN_FILENAME_PATTERN
from hearth.app import create_app
from hearth.errors import BadRequest
from hearth.files import file_kind
from hearth.library.filenames import check_model_filename, check_plain_filename
from hearth.settings import Settings

OPENAPI = {
    "paths": {
        "/api/models/upload": {"post": {}},
        "/api/models/catalogue": {"get": {}},
        "/api/models/{model_id}": {
            "get": {
                "parameters": [
                    {"name": "model_id", "in": "path", "schema": {"pattern": r"^[^/]+\.gguf$"}}
                ]
            },
            "delete": {
                "parameters": [
                    {"name": "model_id", "in": "path", "schema": {"pattern": r"^[^/]+\.gguf$"}}
                ]
            },
        },
        "/api/conversations/{cid}/messages": {"get": {}, "post": {}},
    }
}


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        ("/api/models/upload", ["POST"]),  # not a model's name, so not /{model_id}'s
        ("/api/models/catalogue", ["GET"]),
        ("/api/models/a.gguf", ["DELETE", "GET"]),
        ("/api/conversations/x1/messages", ["GET", "POST"]),
        ("/api/conversations/x1/messages/extra", []),
        ("/index.html", []),
    ],
)
def test_allowed_methods_follow_the_schema(path, methods):
    assert allowed_methods(OPENAPI, path) == methods


NAMES = [
    "model.gguf",
    "Model.GGUF",
    "a.gguf",
    ".gguf",
    ".hidden.gguf",
    " lead.gguf",
    "../up.gguf",
    "a\\b.gguf",
    "a:b.gguf",
    "tab\there.gguf",
    "model.bin",
    "report.pdf",
    "trailing.",
    "x" * 196 + ".gguf",
    "x" * 200 + ".gguf",
    "é.gguf",
]


def _accepts(check, name: str) -> bool:
    try:
        check(name)
    except BadRequest:
        return False
    return True


@pytest.mark.parametrize("name", NAMES)
def test_the_schema_patterns_say_what_the_checks_accept(name):
    # Clients generated from /openapi.json must not send a name the server then refuses.
    assert bool(re.search(MODEL_FILENAME_PATTERN, name)) == _accepts(check_model_filename, name)
    assert bool(re.search(PLAIN_FILENAME_PATTERN, name)) == _accepts(check_plain_filename, name)


def test_every_route_documents_errors_in_the_shape_sent(tmp_path):
    app = create_app(Settings.load(None, HEARTH_DATA_DIR=str(tmp_path)), "token")
    schema = app.openapi()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            default = operation["responses"]["default"]["content"]["application/json"]
            want = "OpenAIErrorBody" if path.startswith("/v1") else "ErrorBody"
            assert default["schema"]["$ref"].endswith(want), (method, path)
            # FastAPI's own 422 (a "detail" list) is not what the handlers answer with.
            assert "422" not in operation["responses"], (method, path)


def test_a_path_too_long_for_the_os_is_nothing_there(tmp_path):
    (tmp_path / "f").write_text("x")
    assert file_kind(tmp_path / "f") == "file"
    assert file_kind(tmp_path) == "dir"
    assert file_kind(tmp_path / "missing") is None
    assert file_kind(tmp_path / ("0" * 5000)) is None  # ENAMETOOLONG, where is_file() raises
    assert file_kind(tmp_path / "nul\0byte") is None


def test_every_bound_is_written_the_way_json_schema_clients_read_it(tmp_path):
    """pydantic writes a bound it cannot place as "ge"/"le", which JSON Schema does not know:
    a generated client would then send values the route refuses."""
    app = create_app(Settings.load(None, HEARTH_DATA_DIR=str(tmp_path)), "token")
    stray: list[str] = []

    def walk(node: object, where: str) -> None:
        if isinstance(node, dict):
            stray.extend(f"{where}.{k}" for k in ("ge", "le", "gt", "lt") if k in node)
            for key, value in node.items():
                walk(value, f"{where}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}[{i}]")

    walk(app.openapi(), "openapi")
    assert stray == []
