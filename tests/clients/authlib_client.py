"""A standard Python OAuth 2.0 client (Authlib) against a running `jwtkit serve`.

Usage: authlib_client.py URL CLIENT_ID CLIENT_SECRET
Client credentials with HTTP Basic and with client_secret_post (no refresh token), the
refresh of an /api/v3/auth session at the token endpoint, introspection,
revocation, and the invalid_client refusal; exits non-zero on the first mismatch.
"""

import json
import sys
import urllib.request

from authlib.integrations.requests_client import OAuth2Session, OAuthError


def main(url: str, client_id: str, secret: str) -> None:
    token_url = f"{url}/oauth2/token"
    for method in ("client_secret_basic", "client_secret_post"):
        session = OAuth2Session(client_id, secret, token_endpoint_auth_method=method, scope="user")
        token = session.fetch_token(token_url, grant_type="client_credentials")
        assert token["token_type"] == "Bearer", token
        assert token["scope"] == "user", token
        assert token["expires_in"] == 180, token
        assert "refresh_token" not in token, "no refresh token for client credentials"
        secret_page = session.get(f"{url}/api/v3/secret")
        assert secret_page.status_code == 200, secret_page.text

    # A session the key started at /api/v3/auth refreshes at the token endpoint too, with
    # the key's client authentication.
    request = urllib.request.Request(
        f"{url}/api/v3/auth",
        data=json.dumps({"api-key": secret}).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request) as answer:
        started = json.load(answer)["data"]
    refreshed = session.refresh_token(token_url, refresh_token=started["refresh_token"])
    assert refreshed["refresh_token"] != started["refresh_token"], refreshed

    introspection = session.introspect_token(
        f"{url}/oauth2/introspect", token=refreshed["access_token"]
    ).json()
    assert introspection["active"] is True, introspection
    assert introspection["client_id"] == client_id, introspection

    revoked = session.revoke_token(f"{url}/api/v3/auth/revoke", token=refreshed["access_token"])
    assert revoked.status_code == 200, revoked.text
    after = session.introspect_token(f"{url}/oauth2/introspect", token=refreshed["access_token"])
    assert after.json() == {"active": False}, after.text

    wrong = OAuth2Session(client_id, "jwtk_wrong")
    try:
        wrong.fetch_token(token_url, grant_type="client_credentials")
    except OAuthError as error:
        assert error.error == "invalid_client", error
    else:
        raise AssertionError("a wrong secret was accepted")
    print("authlib: client credentials, refresh, introspection, revocation: ok")


if __name__ == "__main__":
    main(*sys.argv[1:4])
