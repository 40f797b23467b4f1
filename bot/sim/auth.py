"""The App's key pair, App JWT verification and installation tokens."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.sim.state import Token, User

LEEWAY_S = 60  # GitHub tolerates this much clock drift on iat/exp
MAX_JWT_LIFETIME_S = 600  # GitHub refuses App JWTs that live longer than 10 minutes


class AuthError(Exception):
    """A credential GitHub would refuse; str(self) is GitHub's message."""


def generate_key() -> tuple[str, str]:
    """A fresh RSA key pair as (private PEM, public PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def verify_jwt(token: str, public_pem: str, app_id: int, now: datetime) -> None:
    """Check an App JWT like GitHub: RS256, iss == app id, iat/exp against `now` with leeway."""
    try:
        claims = jwt.decode(
            token,
            public_pem,
            algorithms=["RS256"],
            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
        )
    except jwt.PyJWTError as exc:
        raise AuthError("A JSON web token could not be decoded") from exc
    if str(claims.get("iss")) != str(app_id):
        raise AuthError("A JSON web token could not be decoded")
    iat, exp = claims.get("iat"), claims.get("exp")
    if not isinstance(iat, int | float) or not isinstance(exp, int | float):
        raise AuthError(
            "'Issued at' claim ('iat') and 'Expiration time' claim ('exp') are required"
        )
    ts = now.timestamp()
    if iat > ts + LEEWAY_S:
        raise AuthError(
            "'Issued at' claim ('iat') must be an Integer representing a time in the past"
        )
    if exp < ts - LEEWAY_S:
        raise AuthError(
            "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires"
        )
    if exp - ts > MAX_JWT_LIFETIME_S + LEEWAY_S:
        raise AuthError("'Expiration time' claim ('exp') is too far in the future")


class TokenStore:
    """Issues and checks installation and user tokens against the simulator's clock."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self.tokens: dict[str, Token] = {}

    def issue(self, installation_id: int, ttl: timedelta) -> Token:
        """A new installation token valid for `ttl`."""
        tok = Token("ghs_" + secrets.token_urlsafe(27), installation_id, self.clock() + ttl)
        self.tokens[tok.token] = tok
        return tok

    def issue_user(self, u: User) -> Token:
        """A non-expiring token that acts as user `u` (like a personal access token)."""
        tok = Token("ghp_" + secrets.token_urlsafe(27), None, None, user=u)
        self.tokens[tok.token] = tok
        return tok

    def check(self, value: str) -> Token:
        """The live token for this value, or AuthError("Bad credentials")."""
        tok = self.tokens.get(value)
        if tok is None or (tok.expires_at is not None and tok.expires_at <= self.clock()):
            raise AuthError("Bad credentials")
        return tok


class Credentials:
    """The App's key pair and every token issued: what the front door checks callers against."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.private_key_pem, self.public_key_pem = generate_key()
        self.token_ttl = timedelta(hours=1)
        self.tokens = TokenStore(clock)

    def installation_token(self, installation_id: int) -> Token:
        """A fresh installation token, valid for `token_ttl`."""
        return self.tokens.issue(installation_id, self.token_ttl)
