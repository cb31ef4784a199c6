"""API keys against the real app on 127.0.0.1 (scripted engine): every route × every role,
revocation, limits answered with 429 and Retry-After in OpenAI's shape, the audit log."""

from __future__ import annotations

import re

import httpx
import openai
import pytest
from hearth.keys.roles import ROLES, ROUTE_ROLES, allows

HELLO = [{"role": "user", "content": "Hello"}]


def _make_key(client, role: str, **limits) -> str:
    r = client.post("/api/admin/keys", json={"name": f"{role} key", "role": role, **limits})
    assert r.status_code == 201, r.text
    return r.json()["secret"]


def _concrete(template: str) -> str:
    # Ids that route (a model's name must end in .gguf, an upgrade job is 12 hex digits, a row
    # id is a number) and name nothing, so an allowed call is a 404 or 422, never a change.
    values = {"model_id": "none.gguf", "message_id": "1", "key_id": "999999"}
    return re.sub(
        r"\{([^}]+)\}",
        lambda m: values.get(m.group(1), "abcdef012345" if "job" in m.group(1) else "none"),
        template,
    )


def test_every_route_refuses_the_roles_below_its_own(fake_hearth):
    with fake_hearth.client() as client:
        secrets = {role: _make_key(client, role) for role in ROLES}
    wrong = []
    for (method, template), needed in sorted(ROUTE_ROLES.items()):
        if needed is None or (method == "GET" and template.endswith(("/stream", "/events"))):
            continue  # public, or an event stream (its refusal is the same gate, tested below)
        for role, secret in secrets.items():
            r = httpx.request(
                method,
                fake_hearth.url + _concrete(template),
                headers={"Authorization": f"Bearer {secret}"},
                content=b"[]",  # never a valid body: an allowed call changes nothing
                timeout=30,
            )
            body = r.json() if r.headers.get("content-type") == "application/json" else {}
            body = body if isinstance(body, dict) else {}
            code = body.get("code") or (body.get("error") or {}).get("code")
            refused = r.status_code == 403 and code == "forbidden"
            if refused == allows(role, needed) or r.status_code == 401:
                wrong.append((method, template, role, r.status_code))
    assert wrong == []


def test_a_user_key_chats_but_cannot_administer_and_a_revoked_key_is_refused(fake_hearth):
    with fake_hearth.client() as client:
        secret = _make_key(client, "user")
        v1 = openai.OpenAI(base_url=f"{fake_hearth.url}/v1", api_key=secret, max_retries=0)
        fake_hearth.factory.enqueue("Hi", " there")
        reply = v1.chat.completions.create(model="fake-chat", messages=HELLO)
        assert reply.choices[0].message.content == "Hi there"
        v1.models.list()  # read is below user: allowed (the folder has no model files)
        imported = httpx.post(
            f"{fake_hearth.url}/api/models/import",
            headers={"Authorization": f"Bearer {secret}"},
            json={"path": "/x.gguf"},
        )
        assert (imported.status_code, imported.json()["code"]) == (403, "forbidden")
        assert "needs a key with the admin role" in imported.json()["message"]
        refused = httpx.post(
            f"{fake_hearth.url}/api/admin/keys",
            headers={"Authorization": f"Bearer {secret}"},
            json={"name": "mine", "role": "admin"},
        )
        assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
        key_id = next(k["id"] for k in client.get("/api/admin/keys").json()["keys"])
        assert client.delete(f"/api/admin/keys/{key_id}").json()["revoked_at"] is not None
        with pytest.raises(openai.AuthenticationError):
            v1.chat.completions.create(model="fake-chat", messages=HELLO)
        listed = client.get("/api/admin/keys").json()["keys"]
        assert "secret" not in listed[0] and listed[0]["last_used_at"] is not None
        routes = [
            (e["method"], e["route"], e["status"])
            for e in client.get("/api/admin/audit").json()["entries"]
        ]
        assert ("POST", "/v1/chat/completions", 200) in routes
        assert ("POST", "/api/admin/keys", 403) in routes
        assert ("POST", "/v1/chat/completions", 401) in routes  # the revoked key's try


def test_limits_answer_429_with_retry_after_in_openais_shape(fake_hearth):
    with fake_hearth.client() as client:
        by_requests = _make_key(client, "user", requests_per_minute=2)
        by_tokens = _make_key(client, "user", tokens_per_minute=3)
    headers = {"Authorization": f"Bearer {by_requests}"}
    codes = [
        httpx.get(f"{fake_hearth.url}/v1/models", headers=headers).status_code for _ in range(3)
    ]
    assert codes == [200, 200, 429]
    r = httpx.get(f"{fake_hearth.url}/v1/models", headers=headers)
    assert 1 <= int(r.headers["retry-after"]) <= 60
    assert r.json()["error"]["code"] == "rate_limit_exceeded"
    v1 = openai.OpenAI(base_url=f"{fake_hearth.url}/v1", api_key=by_tokens, max_retries=0)
    fake_hearth.factory.enqueue("one", " two", " three", " four")  # four tokens: over 3
    v1.chat.completions.create(model="fake-chat", messages=HELLO)
    with pytest.raises(openai.RateLimitError) as limited:
        v1.chat.completions.create(model="fake-chat", messages=HELLO)
    assert int(limited.value.response.headers["retry-after"]) >= 1
