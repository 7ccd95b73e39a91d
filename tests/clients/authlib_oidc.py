"""A standard Python OpenID Connect relying party (Authlib) signs a person in through a
running `jwtkit serve`.

Usage: authlib_oidc.py URL CLIENT_ID REDIRECT_URI USERNAME PASSWORD [CLIENT_SECRET]
With CLIENT_SECRET, a confidential client (client_secret_basic), else a public one. Discovery; an authorization request with PKCE (S256), state and nonce; the provider's sign-in
page as a browser sends it (its CSRF cookie and field); the callback's state and RFC 9207
`iss`; the code exchanged; the ID token validated by Authlib against the JWK Set (signature,
iss, aud, exp, iat, nonce, at_hash); userinfo; the refresh token's rotation. Exits non-zero
on the first mismatch.
"""

import sys
import warnings
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlparse

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session

# Authlib moves its JOSE to another package; this one still validates ID tokens.
warnings.filterwarnings("ignore", message="authlib.jose module is deprecated")
from authlib.jose import JsonWebKey, jwt  # noqa: E402
from authlib.oidc.core import CodeIDToken  # noqa: E402


class HiddenFields(HTMLParser):
    """The hidden fields of a page's form."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "input" and attributes.get("type") == "hidden":
            self.fields[attributes["name"]] = attributes.get("value") or ""


def main(
    url: str,
    client_id: str,
    redirect_uri: str,
    username: str,
    password: str,
    client_secret: str | None = None,
) -> None:
    metadata = requests.get(f"{url}/.well-known/openid-configuration", timeout=10).json()
    assert metadata["issuer"] == url, metadata
    assert "S256" in metadata["code_challenge_methods_supported"], metadata

    auth_method = "client_secret_basic" if client_secret else "none"
    assert auth_method in metadata["token_endpoint_auth_methods_supported"], metadata
    client = OAuth2Session(
        client_id,
        client_secret,
        redirect_uri=redirect_uri,
        scope="openid profile email",
        code_challenge_method="S256",
        token_endpoint_auth_method=auth_method,
    )
    verifier = generate_token(64)
    nonce = generate_token(20)
    authorization_url, state = client.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )

    # The browser's part: the page and its cookie, then the form with the cookie. (Browsers
    # send a `Secure` cookie to http://127.0.0.1, a secure context; Python's cookie jar does
    # not, so the cookie goes back by hand.)
    page = requests.get(authorization_url, timeout=10)
    assert page.status_code == 200, page.text
    csrf_cookie = page.headers["set-cookie"].split(";")[0]
    assert csrf_cookie.startswith("__Host-jwtkit-csrf="), csrf_cookie
    form = HiddenFields()
    form.feed(page.text)
    fields = dict(form.fields, username=username, password=password)
    posted = requests.post(
        metadata["authorization_endpoint"],
        data=fields,
        headers={"cookie": csrf_cookie},
        allow_redirects=False,
        timeout=10,
    )
    assert posted.status_code == 303, posted.text
    callback = posted.headers["location"]
    params = parse_qs(urlparse(callback).query)
    assert params["state"] == [state], params
    assert params["iss"] == [metadata["issuer"]], "RFC 9207: the iss response parameter"

    token = client.fetch_token(
        metadata["token_endpoint"], authorization_response=callback, code_verifier=verifier
    )
    assert token["token_type"] == "Bearer", token
    keys = JsonWebKey.import_key_set(requests.get(metadata["jwks_uri"], timeout=10).json())
    claims = jwt.decode(
        token["id_token"],
        keys,
        claims_cls=CodeIDToken,
        claims_options={"iss": {"essential": True, "value": metadata["issuer"]}},
        claims_params={"nonce": nonce, "client_id": client_id, "access_token": token["access_token"]},
    )
    claims.validate()
    assert claims["aud"] == client_id, claims
    assert "at_hash" in claims, claims

    info = client.get(metadata["userinfo_endpoint"], timeout=10).json()
    assert info["sub"] == claims["sub"], info
    assert info["preferred_username"] == username, info

    refreshed = client.refresh_token(metadata["token_endpoint"], refresh_token=token["refresh_token"])
    assert refreshed["refresh_token"] != token["refresh_token"], refreshed
    print("authlib oidc: ok")


if __name__ == "__main__":
    main(*sys.argv[1:7])
