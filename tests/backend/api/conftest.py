"""Fixtures of the API tests."""

from __future__ import annotations

import openai
import pytest


@pytest.fixture
def v1(fake_hearth):
    """The official client against the in-process app over the scripted engine."""
    return openai.OpenAI(base_url=f"{fake_hearth.url}/v1", api_key=fake_hearth.token, max_retries=0)
