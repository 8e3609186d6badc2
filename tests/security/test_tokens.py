"""Bearer token verification: every way a token can be wrong is refused with 401 reasons."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest

from serve_app.security.auth.tokens import (
    AuthenticationError,
    ExternalIssuer,
    LocalIssuer,
    LocalTokenIssuer,
    TokenVerifier,
)
from tests.security import keys

HS_PROVIDER = ExternalIssuer(
    issuer=keys.PROVIDER_ISSUER,
    audience=keys.PROVIDER_AUDIENCE,
    algorithm="HS256",
    secret=keys.PROVIDER_SECRET,
)
LOCAL = LocalIssuer(secret=keys.LOCAL_SECRET)


def hs_token(body: dict[str, object], secret: str = keys.PROVIDER_SECRET) -> str:
    return jwt.encode(body, secret, algorithm="HS256")


def refused(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(AuthenticationError) as caught:
        verifier.verify(token)
    assert caught.value.code == "UNAUTHORIZED"
    return caught.value.reason


@pytest.fixture(scope="module")
def rsa_pair() -> keys.KeyPair:
    return keys.rsa_key()


@pytest.fixture()
def rs_verifier(tmp_path: Path, rsa_pair: keys.KeyPair) -> TokenVerifier:
    jwks = keys.write_jwks(tmp_path / "jwks.json", rsa_pair)
    provider = ExternalIssuer(
        issuer=keys.PROVIDER_ISSUER, audience=keys.PROVIDER_AUDIENCE, algorithm="RS256", jwks_path=jwks
    )
    return TokenVerifier(external=provider, local=LOCAL)


def test_valid_hs256_provider_token_names_issuer_and_subject() -> None:
    verifier = TokenVerifier(external=HS_PROVIDER)
    identity = verifier.verify(hs_token(keys.claims("abc", name="Kim")))
    assert (identity.issuer, identity.subject, identity.is_local) == (keys.PROVIDER_ISSUER, "abc", False)
    assert identity.display_name == "Kim"


def test_tampered_signature_is_refused() -> None:
    verifier = TokenVerifier(external=HS_PROVIDER)
    assert refused(verifier, keys.tamper(hs_token(keys.claims()))) == "bad_signature"


def test_tampered_payload_is_refused() -> None:
    verifier = TokenVerifier(external=HS_PROVIDER)
    head, _, signature = hs_token(keys.claims("victim")).split(".")
    forged = base64.urlsafe_b64encode(json.dumps(keys._numeric(keys.claims("attacker"))).encode())
    assert refused(verifier, f"{head}.{forged.rstrip(b'=').decode()}.{signature}") == "bad_signature"


def test_token_signed_with_another_secret_is_refused() -> None:
    verifier = TokenVerifier(external=HS_PROVIDER)
    assert refused(verifier, hs_token(keys.claims(), secret="x" * 40)) == "bad_signature"


def test_expired_token_is_refused_beyond_the_leeway() -> None:
    verifier = TokenVerifier(external=HS_PROVIDER, leeway=timedelta(seconds=30))
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    assert refused(verifier, hs_token(keys.claims(issued=an_hour_ago))) == "expired"


def test_token_expired_within_the_leeway_is_accepted() -> None:
    verifier = TokenVerifier(external=HS_PROVIDER, leeway=timedelta(seconds=60))
    start = datetime.now(UTC) - timedelta(minutes=5, seconds=10)
    assert verifier.verify(hs_token(keys.claims(issued=start))).subject == "user-123"


def test_token_not_yet_valid_is_refused() -> None:
    verifier = TokenVerifier(external=HS_PROVIDER)
    later = datetime.now(UTC) + timedelta(minutes=10)
    assert refused(verifier, hs_token(keys.claims(issued=later))) == "not_yet_valid"


def test_token_issued_in_the_future_is_refused_even_with_a_valid_nbf() -> None:
    verifier = TokenVerifier(external=HS_PROVIDER)
    body = keys.claims()
    body["iat"] = datetime.now(UTC) + timedelta(minutes=10)
    assert refused(verifier, hs_token(body)) == "not_yet_valid"


def test_wrong_issuer_is_refused() -> None:
    verifier = TokenVerifier(external=HS_PROVIDER)
    assert refused(verifier, hs_token(keys.claims(issuer="https://evil.example"))) == "wrong_issuer"


def test_wrong_audience_is_refused() -> None:
    verifier = TokenVerifier(external=HS_PROVIDER)
    assert refused(verifier, hs_token(keys.claims(audience="another-app"))) == "wrong_audience"


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat", "aud", "sub"])
def test_token_missing_a_required_claim_is_refused(claim: str) -> None:
    verifier = TokenVerifier(external=HS_PROVIDER)
    body = keys.claims()
    del body[claim]
    assert refused(verifier, hs_token(body)).startswith("missing_claim_")


def test_token_missing_its_issuer_is_refused() -> None:
    verifier = TokenVerifier(external=HS_PROVIDER)
    body = keys.claims()
    del body["iss"]
    assert refused(verifier, hs_token(body)) in {"missing_claim_iss", "wrong_issuer"}


def test_alg_none_is_refused() -> None:
    verifier = TokenVerifier(external=HS_PROVIDER, local=LOCAL)
    assert refused(verifier, keys.unsigned_token(keys.claims())) == "algorithm_not_allowed"
    local_claims = keys.claims(issuer=LOCAL.issuer, audience=LOCAL.audience)
    assert refused(verifier, keys.unsigned_token(local_claims)) == "algorithm_not_allowed"


def test_malformed_token_is_refused() -> None:
    verifier = TokenVerifier(external=HS_PROVIDER)
    assert refused(verifier, "not-a-jwt") == "malformed"


def test_rs256_token_from_the_jwks_is_accepted(rs_verifier: TokenVerifier, rsa_pair: keys.KeyPair) -> None:
    token = jwt.encode(
        keys.claims("rs-user"), rsa_pair.private_key, algorithm="RS256", headers={"kid": "rsa-1"}
    )
    assert rs_verifier.verify(token).subject == "rs-user"


def test_rs256_token_from_an_unknown_key_is_refused(rs_verifier: TokenVerifier) -> None:
    stranger = keys.rsa_key("rsa-1")  # same kid, different key
    token = jwt.encode(keys.claims(), stranger.private_key, algorithm="RS256", headers={"kid": "rsa-1"})
    assert refused(rs_verifier, token) == "bad_signature"
    token = jwt.encode(keys.claims(), stranger.private_key, algorithm="RS256", headers={"kid": "other"})
    assert refused(rs_verifier, token) == "unknown_key"


def test_algorithm_confusion_hs256_signed_with_the_rsa_public_key_is_refused(
    rs_verifier: TokenVerifier, rsa_pair: keys.KeyPair
) -> None:
    # The classic attack: the public key is public, so an attacker HMACs a token with it and hopes
    # the server verifies "HS256" with the same key object it uses for RS256.
    for kid in ("rsa-1", None):
        forged = keys.hmac_token_with_key(keys.claims("admin"), rsa_pair.public_pem(), kid=kid)
        assert refused(rs_verifier, forged) == "algorithm_not_allowed"


def test_es256_token_from_the_jwks_is_accepted(tmp_path: Path) -> None:
    pair = keys.ec_key()
    jwks = keys.write_jwks(tmp_path / "jwks.json", pair)
    provider = ExternalIssuer(
        issuer=keys.PROVIDER_ISSUER, audience=keys.PROVIDER_AUDIENCE, algorithm="ES256", jwks_path=jwks
    )
    verifier = TokenVerifier(external=provider)
    token = jwt.encode(keys.claims("ec-user"), pair.private_key, algorithm="ES256", headers={"kid": "ec-1"})
    assert verifier.verify(token).subject == "ec-user"
    rs_token = jwt.encode(
        keys.claims(), keys.rsa_key().private_key, algorithm="RS256", headers={"kid": "ec-1"}
    )
    assert refused(verifier, rs_token) == "algorithm_not_allowed"


def test_jwks_with_a_key_of_the_wrong_type_is_a_configuration_error(tmp_path: Path) -> None:
    jwks = keys.write_jwks(tmp_path / "jwks.json", keys.ec_key())
    provider = ExternalIssuer(
        issuer=keys.PROVIDER_ISSUER, audience=keys.PROVIDER_AUDIENCE, algorithm="RS256", jwks_path=jwks
    )
    with pytest.raises(ValueError, match="type"):
        TokenVerifier(external=provider)


def test_short_or_missing_secrets_are_configuration_errors() -> None:
    with pytest.raises(ValueError):
        ExternalIssuer(issuer="i", audience="a", algorithm="HS256", secret="short")
    with pytest.raises(ValueError):
        ExternalIssuer(issuer="i", audience="a", algorithm="RS256")
    with pytest.raises(ValueError):
        ExternalIssuer(issuer="i", audience="a", algorithm="none", secret="x" * 40)
    with pytest.raises(ValueError):
        LocalIssuer(secret="short")


def test_local_access_token_round_trips_and_is_short_lived() -> None:
    issued = LocalTokenIssuer(LOCAL).issue("local-subject")
    assert issued.expires_in == 15 * 60
    identity = TokenVerifier(external=HS_PROVIDER, local=LOCAL).verify(issued.token)
    assert (identity.issuer, identity.subject, identity.is_local) == (LOCAL.issuer, "local-subject", True)


def test_expired_local_access_token_is_refused() -> None:
    issued = LocalTokenIssuer(LOCAL).issue("s", now=datetime.now(UTC) - timedelta(hours=1))
    assert refused(TokenVerifier(local=LOCAL), issued.token) == "expired"


def test_provider_secret_cannot_mint_local_tokens() -> None:
    verifier = TokenVerifier(external=HS_PROVIDER, local=LOCAL)
    forged = hs_token(keys.claims(issuer=LOCAL.issuer, audience=LOCAL.audience), secret=keys.PROVIDER_SECRET)
    assert refused(verifier, forged) == "bad_signature"


def test_local_token_is_refused_when_only_a_provider_is_trusted() -> None:
    issued = LocalTokenIssuer(LOCAL).issue("s")
    assert refused(TokenVerifier(external=HS_PROVIDER), issued.token) == "bad_signature"


def test_error_never_contains_the_token() -> None:
    token = keys.tamper(hs_token(keys.claims()))
    with pytest.raises(AuthenticationError) as caught:
        TokenVerifier(external=HS_PROVIDER).verify(token)
    assert token not in json.dumps(caught.value.to_dict())
    assert token.split(".")[2] not in str(caught.value)


def test_odd_key_ids_are_refused_not_crashed_on(rs_verifier: TokenVerifier, rsa_pair: keys.KeyPair) -> None:
    token = jwt.encode(keys.claims(), rsa_pair.private_key, algorithm="RS256", headers={"kid": "rsa-1"})
    odd_header = keys._b64(json.dumps({"alg": "RS256", "kid": ["rsa-1"]}).encode())
    forged = ".".join([odd_header, *token.split(".")[1:]])
    assert refused(rs_verifier, forged) in {"malformed", "unknown_key"}


def test_long_display_names_are_shortened() -> None:
    identity = TokenVerifier(external=HS_PROVIDER).verify(hs_token(keys.claims("n", name="x" * 500)))
    assert identity.display_name == "x" * 100
