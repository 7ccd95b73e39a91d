//! Signing a person in with an OpenID provider — any provider — as a public client: the
//! authorization code flow with PKCE (`TokenSession.signIn`, `TokenSession.handleRedirect`)
//! and RP-initiated logout (`session.signOut`). The browser's part — discovery, the one-time
//! values of the round trip, the redirects, the token request, the ID token's signature
//! through WebCrypto — is `sign_in.js`; the ID token's registered claims are judged here,
//! with the strict parser. The session that results refreshes at the provider's token
//! endpoint with its refresh token in memory.

use js_sys::Promise;
use jwtkit_core::{UnixTime, check_expiry};
use wasm_bindgen::prelude::*;

use super::rules::{Errors, parse_date};
use super::server_clock::ClockSource;
use super::session_options::{margin, option};
use super::state::{Fresh, State};
use super::{Driver, TokenSession};
use crate::clock::local_now;
use crate::error::{JsError, invalid};
use crate::options::{get, leeway};
use crate::types::check_option_names;

#[wasm_bindgen(module = "/src/session/sign_in.js")]
extern "C" {
    #[wasm_bindgen(js_name = signIn)]
    fn begin(options: &JsValue, errors: Errors) -> Promise;

    #[wasm_bindgen(js_name = completeSignIn)]
    fn complete(options: &JsValue, errors: Errors, rules: IdTokenRules) -> Promise;

    #[wasm_bindgen(js_name = resumeSignIn)]
    fn resume(options: &JsValue, errors: Errors, rules: IdTokenRules) -> Promise;

    #[wasm_bindgen(js_name = endSession)]
    fn end_session(driver: &Driver, options: &JsValue, errors: Errors) -> Promise;
}

/// The ID token's rules, for the sign-in's JavaScript half (not part of the package's API).
#[doc(hidden)]
#[wasm_bindgen(private, skip_typescript)]
pub struct IdTokenRules;

#[wasm_bindgen]
impl IdTokenRules {
    /// The session of a completed sign-in (`{tokens, date, protocol}`: the token
    /// endpoint's answer, its `Date`, and how the driver refreshes and signs out), with the
    /// options of `handleRedirect`.
    pub fn session(&self, answer: JsValue, options: JsValue) -> Result<TokenSession, JsValue> {
        let tokens = get(&answer, "tokens")?;
        let date = get(&answer, "date")?.as_string();
        let date = date.as_deref().and_then(parse_date);
        // Another tab's session comes with that tab's clock offset.
        let offset = get(&answer, "offset")?.as_f64();
        let local = local_now()?;
        let issued = date.unwrap_or(local + offset.unwrap_or(0.0));
        let fresh = Fresh::from_token_response(&tokens, issued)?;
        let mut state = State::new(
            fresh,
            offset,
            date,
            local,
            leeway(&option(&options, "leewaySeconds")?)?,
            margin(&options)?,
        );
        if offset.is_some() {
            state.clock_source = ClockSource::Tab;
        }
        let refresh_token = get(&tokens, "refresh_token")?.as_string();
        let delivery = if refresh_token.is_some() {
            "oidc"
        } else {
            "none"
        };
        TokenSession::start(
            state,
            delivery,
            refresh_token,
            &options,
            &get(&answer, "protocol")?,
        )
    }

    /// The registered claims of a sign-in's ID token (OpenID Connect Core §3.1.3.7), strictly
    /// decoded: `iss` the provider's, `aud` naming `client_id`, `exp` not passed and `iat`
    /// not ahead, on the provider's clock (its answer's `date`, else the package clock) with
    /// `leeway`. Its `{header, claims}`, for the signature and the checks only the sign-in
    /// can make.
    #[wasm_bindgen(js_name = checkIdToken)]
    pub fn check_id_token(
        &self,
        token: JsValue,
        issuer: &str,
        client_id: &str,
        date: Option<String>,
        leeway_seconds: JsValue,
    ) -> Result<JsValue, JsValue> {
        let refused = |detail: String| -> JsValue { JsError::IdTokenInvalid { detail }.into() };
        let decoded = crate::decode(&token)?;
        let claims = decoded.claims();
        if claims.iss() != Some(issuer) {
            return Err(refused(
                "the ID token's iss is not the provider's".to_owned(),
            ));
        }
        if !claims.aud().is_some_and(|aud| aud.contains(client_id)) {
            return Err(refused(
                "the ID token's aud does not name this client".to_owned(),
            ));
        }
        let leeway = leeway(&leeway_seconds)?;
        let now = match date.as_deref().and_then(parse_date) {
            Some(date) => date,
            None => local_now()?,
        };
        let now =
            UnixTime::from_secs_f64(now).ok_or_else(|| invalid("the time is out of range"))?;
        let exp = claims
            .exp()
            .ok_or_else(|| refused("the ID token has no exp".to_owned()))?;
        check_expiry(exp, now, leeway).map_err(|e| refused(format!("the ID token: {e}")))?;
        let iat = claims
            .iat()
            .ok_or_else(|| refused("the ID token has no iat".to_owned()))?;
        if iat.as_secs_f64() > now.as_secs_f64() + f64::from(leeway) {
            return Err(refused(
                "the ID token's iat is ahead of the provider's clock".to_owned(),
            ));
        }
        crate::decode_unverified(token)
    }
}

#[wasm_bindgen(js_class = TokenSession)]
impl TokenSession {
    /// Signs a person in with the OpenID provider `issuer`: discovery (its metadata must
    /// name exactly that issuer), PKCE S256 with a verifier from the platform's CSPRNG,
    /// `state` and `nonce` kept in `sessionStorage` for the round trip only, then a
    /// top-level redirect to the provider. The page is left; `handleRedirect` on
    /// `redirectUri` completes it.
    #[wasm_bindgen(js_name = signIn, unchecked_return_type = "Promise<void>")]
    pub fn sign_in(
        #[wasm_bindgen(unchecked_param_type = "SignInOptions")] options: JsValue,
    ) -> Result<Promise, JsValue> {
        check_option_names(&options, "SignInOptions")?;
        Ok(begin(&options, Errors))
    }

    /// Completes a sign-in on the redirect URI: checks `state` and the RFC 9207 `iss`
    /// (required when the provider announces it), redeems the code, verifies the ID token
    /// (signature with WebCrypto against the provider's JWK Set; `iss`, `aud`, `azp`,
    /// `exp`, `iat`, `nonce`, `at_hash`), removes the code from the address bar, and
    /// returns the session; `null` when the address is no sign-in's answer. Every refusal
    /// is a coded error (`ERR_OIDC_*`, `ERR_ID_TOKEN_*`).
    #[wasm_bindgen(js_name = handleRedirect, unchecked_return_type = "Promise<TokenSession | null>")]
    pub fn handle_redirect(
        #[wasm_bindgen(unchecked_optional_param_type = "RedirectOptions")] options: JsValue,
    ) -> Result<Promise, JsValue> {
        check_option_names(&options, "RedirectOptions")?;
        Ok(complete(&options, Errors, IdTokenRules))
    }

    /// A new tab or a reload of a page signed in with `issuer` as `clientId`: the session of
    /// another open tab of it when one answers (nothing is sent to the provider), else a
    /// silent sign-in (`prompt: "none"`): the page leaves for the provider, whose own
    /// session answers at once, and `handleRedirect` completes it on the redirect URI (with
    /// `ERR_OIDC_AUTHORIZATION_ERROR`, `error: "login_required"`, when there is none).
    /// Resolves to the session, or to `null` as the page leaves.
    #[wasm_bindgen(js_name = resumeSignIn, unchecked_return_type = "Promise<TokenSession | null>")]
    pub fn resume_sign_in(
        #[wasm_bindgen(unchecked_param_type = "ResumeSignInOptions")] options: JsValue,
    ) -> Result<Promise, JsValue> {
        check_option_names(&options, "ResumeSignInOptions")?;
        Ok(resume(&options, Errors, IdTokenRules))
    }

    /// The ID token of a session from `handleRedirect` or another tab's (undefined
    /// otherwise, and after a reload that resumed from the provider's cookie).
    #[wasm_bindgen(getter = idToken)]
    pub fn id_token(&self) -> Option<String> {
        self.driver.id_token()
    }

    /// The claims of that ID token, verified (undefined otherwise).
    #[wasm_bindgen(getter = idTokenClaims, unchecked_return_type = "JwtClaims | undefined")]
    pub fn id_token_claims(&self) -> JsValue {
        self.driver.id_token_claims()
    }

    /// Ends a sign-in's session here and in every tab, then leaves for the provider's
    /// `end_session_endpoint` (RP-initiated logout) with the ID token as `id_token_hint` —
    /// a session resumed from the provider's cookie has none, and the provider asks the
    /// person — which ends the provider's session and returns to `postLogoutRedirectUri`.
    /// A session of no sign-in is refused (use `logout`).
    #[wasm_bindgen(js_name = signOut, unchecked_return_type = "Promise<void>")]
    pub fn sign_out(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "SignOutOptions")] options: JsValue,
    ) -> Result<Promise, JsValue> {
        check_option_names(&options, "SignOutOptions")?;
        Ok(end_session(&self.driver, &options, Errors))
    }
}
