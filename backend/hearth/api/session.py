"""Web mode's sign-in: a one-time code, printed in a link's #fragment, traded once for the token.

The fragment never reaches a server or a log, and the page swaps the code for the token with a
POST, so the token itself never sits in a URL. POST /api/session is the one /api route that needs
no token (security.needs_token); a code works once and only for a few minutes.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from hearth.api.deps import SessionCodesDep, TokenDep
from hearth.session_codes import SessionRefused

router = APIRouter(prefix="/api/session", tags=["session"])


class SessionBody(BaseModel):
    # secrets.token_urlsafe's alphabet: anything else cannot be a code Hearth issued.
    code: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_-]+$")


@router.post("")
def open_session(body: SessionBody, codes: SessionCodesDep, token: TokenDep) -> dict[str, str]:
    if not codes.redeem(body.code):
        raise SessionRefused(
            "This sign-in link was already used or has expired. Open the newest link that "
            "Hearth printed in its terminal, or restart it for a new one."
        )
    return {"token": token}
