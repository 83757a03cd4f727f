"""Who am I (any role), and token management (admin)."""

from fastapi import APIRouter, Response, status

from api.auth import TokenError, create_token, list_tokens, revoke_token
from api.deps import AdminUser, CurrentUser, DatabaseDep, SessionDep, TokenCacheDep
from api.errors import field_error, not_found
from api.schemas import Me, TokenIn, TokenMade, TokenView

router = APIRouter(tags=["tokens"])


@router.get("/me", summary="The caller's token name and role [any role]", response_model=Me)
def me(who: CurrentUser) -> Me:
    return Me(name=who.name, role=who.role)


@router.get("/tokens", summary="Every token (names and roles; never the tokens) [admin]",
            response_model=list[TokenView])
def tokens(_: AdminUser, session: SessionDep) -> list[TokenView]:
    return [TokenView(name=t.name, role=t.role, created_at=t.created_at,
                      revoked_at=t.revoked_at) for t in list_tokens(session)]


@router.post("/tokens", summary="Make a token (shown once) [admin]", response_model=TokenMade,
             status_code=status.HTTP_201_CREATED)
def make_token(body: TokenIn, who: AdminUser, session: SessionDep) -> TokenMade:
    try:
        token = create_token(session, body.name, body.role, actor=who.name)
    except TokenError as e:
        raise field_error(("body", "name"), str(e)) from e
    return TokenMade(name=body.name.strip(), role=body.role, token=token)


@router.delete("/tokens/{name}", summary="Revoke a token [admin]", status_code=204,
               response_class=Response)
def revoke(name: str, who: AdminUser, db: DatabaseDep, cache: TokenCacheDep) -> Response:
    """The token stops working at once."""
    with db.session() as session:
        done = revoke_token(session, name, actor=who.name)
    if not done:
        raise not_found(f"no live token named {name[:120]!r}")
    cache.forget(name.strip())  # after the commit, so no request can cache it again
    return Response(status_code=status.HTTP_204_NO_CONTENT)
