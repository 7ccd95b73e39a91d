//! `TokenSession`: what a frontend keeps after `/api/v3/auth`. It judges the access token on
//! the server's clock, refreshes it ahead of expiry — once, across tabs — and never sends it
//! anywhere but the page's origin or an allowed one.
//!
//! The rules are Rust, the same as the server's: `state` (the token, strictly decoded, with
//! `exp` required; expiry with the leeway; the end of a session) and `clock` (which `Date` is
//! believed, the refresh margin). The moving of tokens is JavaScript, `driver.js`: requests,
//! the Web Lock and `BroadcastChannel` tabs share, events. Browser APIs are JavaScript's
//! own; written in Rust they tripled the size of the `.wasm` (docs/benchmarks.md).

mod rules;
mod server_clock;
mod session_options;
mod sign_in;
mod state;

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Date, Function, Promise};
use wasm_bindgen::prelude::*;

use crate::clock::local_now;
use crate::error::invalid;
use crate::options::{finite, get, leeway, now as read_now};
use crate::types::check_option_names;
use rules::{Errors, SessionRules, parse_date, protocol};
use server_clock::ClockSource;
use session_options::{margin, option, server_date};
use state::{Fresh, State};

#[wasm_bindgen(module = "/src/session/driver.js")]
extern "C" {
    /// The JavaScript half of a session (`driver.js`).
    #[derive(Clone)]
    type Driver;

    #[wasm_bindgen(constructor, catch)]
    fn new(
        rules: SessionRules,
        errors: Errors,
        protocol: &JsValue,
        delivery: &str,
        refresh_token: Option<String>,
        options: &JsValue,
    ) -> Result<Driver, JsValue>;

    #[wasm_bindgen(method, getter)]
    fn delivery(this: &Driver) -> String;

    #[wasm_bindgen(method, getter = idToken)]
    fn id_token(this: &Driver) -> Option<String>;

    #[wasm_bindgen(method, getter)]
    fn dpop(this: &Driver) -> JsValue;

    #[wasm_bindgen(method, getter)]
    fn bound(this: &Driver) -> bool;

    #[wasm_bindgen(method, getter = idTokenClaims)]
    fn id_token_claims(this: &Driver) -> JsValue;

    #[wasm_bindgen(method, js_name = accessToken)]
    fn access_token(this: &Driver, session: TokenSession) -> Promise;

    #[wasm_bindgen(method)]
    fn refresh(this: &Driver) -> Promise;

    #[wasm_bindgen(method)]
    fn fetch(this: &Driver, session: TokenSession, input: &JsValue, init: &JsValue) -> Promise;

    #[wasm_bindgen(method)]
    fn logout(this: &Driver) -> Promise;

    #[wasm_bindgen(method)]
    fn announce(this: &Driver);

    #[wasm_bindgen(method, catch)]
    fn listen(this: &Driver, kind: &str, listener: &Function, add: bool) -> Result<(), JsValue>;

    #[wasm_bindgen(method)]
    fn close(this: &Driver);

    #[wasm_bindgen(js_name = resumeRequest)]
    fn resume_request(
        errors: Errors,
        protocol: &JsValue,
        options: &JsValue,
        answers: Answers,
    ) -> Promise;

    #[wasm_bindgen(js_name = authRequest)]
    fn auth_request(
        errors: Errors,
        protocol: &JsValue,
        credentials: &JsValue,
        options: &JsValue,
        answers: Answers,
    ) -> Promise;
}

#[wasm_bindgen(module = "/src/session/dpop.js")]
extern "C" {
    /// The thumbprint of a session's DPoP key (`dpop.js`).
    #[wasm_bindgen(js_name = dpopThumbprint)]
    fn dpop_thumbprint(choice: &JsValue, errors: Errors) -> Promise;
}

/// The sessions of the answers `driver.js` receives for `authenticate` and `resume` (not part
/// of the package's API).
#[doc(hidden)]
#[wasm_bindgen(private, skip_typescript)]
pub struct Answers;

#[wasm_bindgen]
impl Answers {
    /// The session of an answer `{body, date, protocol, offset}` received just now: the
    /// body of `/api/v3/auth` or of a refresh (`cookie`: a refresh with the cookie), or
    /// another tab's token with its clock offset; `protocol` with the key the request
    /// proved (`dpop`) and the token's `tokenType`.
    pub fn session(
        &self,
        answer: JsValue,
        options: JsValue,
        cookie: bool,
    ) -> Result<TokenSession, JsValue> {
        let date = get(&answer, "date")?.as_string();
        let date = date.as_deref().and_then(parse_date);
        let offset = get(&answer, "offset")?.as_f64();
        let protocol = get(&answer, "protocol")?;
        let body = get(&answer, "body")?;
        let session = TokenSession::from_body(
            &body,
            &options,
            local_now()?,
            offset,
            date,
            cookie,
            &protocol,
        )?;
        // A token refreshed with the cookie is news for the other tabs; another tab's is not.
        if cookie && offset.is_none() {
            session.driver.announce();
        }
        Ok(session)
    }
}

/// A session: the access token with its clock offset and, when the server gave one, the
/// means to refresh it (a refresh token in memory, or the `HttpOnly` cookie).
#[wasm_bindgen]
#[derive(Clone)]
pub struct TokenSession {
    state: Rc<RefCell<State>>,
    driver: Driver,
}

impl TokenSession {
    /// A session for `fresh`, refreshing by `delivery` (with `refresh_token` in the body, or
    /// at an OpenID provider's token endpoint) as `protocol` says.
    fn start(
        state: State,
        delivery: &str,
        refresh_token: Option<String>,
        options: &JsValue,
        protocol: &JsValue,
    ) -> Result<Self, JsValue> {
        let state = Rc::new(RefCell::new(state));
        let rules = SessionRules {
            state: state.clone(),
        };
        let driver = Driver::new(rules, Errors, protocol, delivery, refresh_token, options)?;
        Ok(Self { state, driver })
    }

    /// A session from an auth (or refresh) response body received at `local`, following
    /// `protocol` (with the key its request proved, `dpop`, and the token's `tokenType`).
    fn from_body(
        json: &JsValue,
        options: &JsValue,
        local: f64,
        offset: Option<f64>,
        date: Option<f64>,
        cookie: bool,
        protocol: &JsValue,
    ) -> Result<Self, JsValue> {
        if !json.is_object() {
            return Err(invalid("the auth response must be an object"));
        }
        let data = get(json, "data")?;
        let body = if data.is_object() { data } else { json.clone() };
        let token = get(&body, "token")?;
        if token.as_string().is_none() {
            // A refusal's body (`{"code", "message"}`): the server's own error, not a puzzle.
            if let (Some(code), Some(message)) = (
                get(json, "code")?.as_string(),
                get(json, "message")?.as_string(),
            ) {
                return Err(crate::error::js_error(&code, &message));
            }
            return Err(invalid(
                "the auth response has no token (expected data.token or token)",
            ));
        }
        let refresh_token = get(&body, "refresh_token")?.as_string();
        let delivery = match (
            &refresh_token,
            get(&body, "refresh_token_delivery")?.as_string(),
        ) {
            (Some(_), _) => "body",
            (None, Some(d)) if d == "cookie" => "cookie",
            _ if cookie => "cookie",
            _ => "none",
        };
        let mut state = State::new(
            Fresh::decode(&token)?,
            offset,
            date,
            local,
            leeway(&option(options, "leewaySeconds")?)?,
            margin(options)?,
        );
        if offset.is_some() {
            state.clock_source = ClockSource::Tab;
        }
        Self::start(state, delivery, refresh_token, options, protocol)
    }
}

#[wasm_bindgen]
impl TokenSession {
    /// A session for `token` with an explicit clock offset (server clock minus client clock,
    /// seconds). The offset is never re-estimated from the token's `iat`: a token restored
    /// from elsewhere is not fresh. Such a session cannot refresh (`onExpired` may supply a
    /// new token).
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "string")] token: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "TokenSessionOptions")] options: JsValue,
    ) -> Result<TokenSession, JsValue> {
        check_option_names(&options, "TokenSessionOptions")?;
        let offset = finite(
            &option(&options, "clockOffsetSeconds")?,
            "clockOffsetSeconds must be a finite number",
        )?
        .unwrap_or(0.0);
        let state = State::new(
            Fresh::decode(&token)?,
            Some(offset),
            None,
            local_now()?,
            leeway(&option(&options, "leewaySeconds")?)?,
            margin(&options)?,
        );
        Self::start(state, "none", None, &options, &protocol())
    }

    /// A session from the JSON body of `/api/v3/auth`, received just now. With a
    /// `refresh_token` (or `"refresh_token_delivery": "cookie"`) it refreshes itself. The
    /// clock offset comes from `serverDate` (the response's `Date`) when it fits the fresh
    /// token, else from its `iat` (`clockSource` says which).
    #[wasm_bindgen(js_name = fromAuthResponse)]
    pub fn from_auth_response(
        #[wasm_bindgen(unchecked_param_type = "AuthResponse")] json: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "AuthResponseOptions")] options: JsValue,
    ) -> Result<TokenSession, JsValue> {
        check_option_names(&options, "AuthResponseOptions")?;
        let local = match read_now(&option(&options, "now")?)? {
            Some(now) => now,
            None => local_now()?,
        };
        let date = server_date(&option(&options, "serverDate")?)?;
        Self::from_body(&json, &options, local, None, date, false, &protocol())
    }

    /// Posts `credentials` (e.g. `{"api-key": key, refresh_token_delivery: "cookie"}`) to
    /// `/api/v3/auth` (or `authUrl`) and keeps the session it answers. Its tokens are bound to
    /// a non-extractable key of this browser (DPoP, RFC 9449), kept in IndexedDB for the
    /// origin's tabs, unless `dpop` is false: a stolen token is then useless without the key.
    /// Rejects with the server's code when it refuses.
    #[wasm_bindgen(unchecked_return_type = "Promise<TokenSession>")]
    pub fn authenticate(
        #[wasm_bindgen(unchecked_param_type = "Record<string, unknown>")] credentials: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "AuthenticateOptions")] options: JsValue,
    ) -> Promise {
        match check_option_names(&options, "AuthenticateOptions") {
            Ok(()) => auth_request(Errors, &protocol(), &credentials, &options, Answers),
            Err(error) => Promise::reject(&error),
        }
    }

    /// Resumes the session of the refresh-token cookie (a new tab, a reload): the current
    /// token of another open tab when one answers (with its clock offset: `clockSource` is
    /// `"tab"`), else one refresh with the cookie (with a proof of the origin's DPoP key,
    /// unless `dpop` is false), whose token the other tabs take too. Rejects (e.g.
    /// `ERR_REFRESH_TOKEN_MISSING`) when there is no session.
    #[wasm_bindgen(unchecked_return_type = "Promise<TokenSession>")]
    pub fn resume(
        #[wasm_bindgen(unchecked_optional_param_type = "ResumeOptions")] options: JsValue,
    ) -> Promise {
        match check_option_names(&options, "ResumeOptions") {
            Ok(()) => resume_request(Errors, &protocol(), &options, Answers),
            Err(error) => Promise::reject(&error),
        }
    }

    /// The current access token.
    #[wasm_bindgen(getter)]
    pub fn token(&self) -> String {
        self.state.borrow().token.clone()
    }

    /// When the access token expires (its `exp`).
    #[wasm_bindgen(getter = expiresAt, unchecked_return_type = "Date")]
    pub fn expires_at(&self) -> JsValue {
        let exp = self.state.borrow().exp;
        Date::new(&JsValue::from_f64(exp.as_secs_f64() * 1000.0)).into()
    }

    /// Server clock minus client clock, in seconds.
    #[wasm_bindgen(getter = clockOffsetSeconds)]
    pub fn clock_offset_seconds(&self) -> f64 {
        self.state.borrow().offset
    }

    /// Where the offset came from: `"date"` (the response's `Date`, consistent with the
    /// token), `"iat"` (the fresh token's), `"explicit"` (given) or `"tab"` (another tab's,
    /// with the token it passed on).
    #[wasm_bindgen(getter = clockSource, unchecked_return_type = "\"date\" | \"iat\" | \"explicit\" | \"tab\"")]
    pub fn clock_source(&self) -> String {
        self.state.borrow().clock_source.name().to_owned()
    }

    /// How the session refreshes: `"body"` (a refresh token in memory), `"cookie"` (the
    /// `HttpOnly` cookie), `"oidc"` (a refresh token in memory, at an OpenID provider's token
    /// endpoint) or `"none"`.
    #[wasm_bindgen(getter = refreshDelivery, unchecked_return_type = "\"body\" | \"cookie\" | \"oidc\" | \"none\"")]
    pub fn refresh_delivery(&self) -> String {
        self.driver.delivery()
    }

    /// Whether the session has ended (logout here or in another tab, or by the server).
    #[wasm_bindgen(getter)]
    pub fn ended(&self) -> bool {
        self.state.borrow().ended
    }

    /// Whether the access token is expired on the server's clock (`now >= exp + leeway`).
    #[wasm_bindgen(js_name = isExpired)]
    pub fn is_expired(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "Date | number")] now: JsValue,
    ) -> Result<bool, JsValue> {
        let now = read_now(&now)?;
        let state = self.state.borrow();
        let server_now = state.server_now(now)?;
        Ok(jwtkit_core::check_expiry(state.exp, server_now, state.leeway).is_err())
    }

    /// The time on the server's clock, in seconds since the epoch: what the token is judged
    /// against.
    #[wasm_bindgen(js_name = serverNow)]
    pub fn server_now(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "Date | number")] now: JsValue,
    ) -> Result<f64, JsValue> {
        let now = read_now(&now)?;
        Ok(self.state.borrow().server_now(now)?.as_secs_f64())
    }

    /// Seconds until `exp` on the server's clock (negative once passed).
    #[wasm_bindgen(js_name = secondsLeft)]
    pub fn seconds_left(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "Date | number")] now: JsValue,
    ) -> Result<f64, JsValue> {
        let now = read_now(&now)?;
        let state = self.state.borrow();
        Ok(state.exp.as_secs_f64() - state.server_now(now)?.as_secs_f64())
    }

    /// Seconds until the token is refreshed ahead of expiry (0 once due): `exp` minus the
    /// margin, on the server's clock.
    #[wasm_bindgen(js_name = secondsUntilRefresh)]
    pub fn seconds_until_refresh(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "Date | number")] now: JsValue,
    ) -> Result<f64, JsValue> {
        self.state.borrow().until_refresh(read_now(&now)?)
    }

    /// `"Bearer <token>"`, or throws (`ERR_JWT_EXPIRED`, `ERR_SESSION_ENDED`) before anything
    /// is sent. A DPoP-bound token needs a proof of its own with every request: for it this
    /// throws `ERR_INVALID_ARGUMENT` (use `fetch`).
    #[wasm_bindgen(js_name = authorizationHeader)]
    pub fn authorization_header(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "Date | number")] now: JsValue,
    ) -> Result<String, JsValue> {
        if self.driver.bound() {
            return Err(invalid(
                "a DPoP-bound token goes with a proof made for each request: send it with session.fetch",
            ));
        }
        let state = self.state.borrow();
        state.check(read_now(&now)?)?;
        Ok(format!("Bearer {}", state.token))
    }

    /// A valid access token, refreshed first when it is within its margin. Any number of
    /// concurrent calls (and `fetch`es) share one refresh, and tabs of the origin share one
    /// across them.
    #[wasm_bindgen(js_name = getAccessToken, unchecked_return_type = "Promise<string>")]
    pub fn get_access_token(&self) -> Promise {
        self.driver.access_token(self.clone())
    }

    /// Refreshes now (sharing a refresh under way).
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn refresh(&self) -> Promise {
        self.driver.refresh()
    }

    /// The global `fetch` (or the session's) with `Authorization: Bearer <token>` added (a
    /// DPoP session's: `Authorization: DPoP <token>` and a fresh `DPoP` proof), for
    /// the page's origin and `allowedOrigins` only (others reject with
    /// `ERR_ORIGIN_NOT_ALLOWED`, unsent). The token is refreshed ahead of expiry; an expired
    /// one is never sent. A 401 `ERR_JWT_EXPIRED` is refreshed and retried once for
    /// idempotent methods; other 401s reject with the server's `code` (and `status`,
    /// `response`), and `ERR_JWT_REVOKED` ends the session.
    #[wasm_bindgen(unchecked_return_type = "Promise<Response>")]
    pub fn fetch(
        &self,
        #[wasm_bindgen(unchecked_param_type = "RequestInfo | URL")] input: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "RequestInit")] init: JsValue,
    ) -> Promise {
        self.driver.fetch(self.clone(), &input, &init)
    }

    /// The RFC 7638 thumbprint of the key this session proves (its tokens' `cnf.jkt`): the
    /// same in every tab of the origin and after a reload; `null` without DPoP.
    #[wasm_bindgen(js_name = dpopThumbprint, unchecked_return_type = "Promise<string | null>")]
    pub fn dpop_thumbprint(&self) -> Promise {
        dpop_thumbprint(&self.driver.dpop(), Errors)
    }

    /// Ends the session at the server, here and in the other tabs.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn logout(&self) -> Promise {
        self.driver.logout()
    }

    /// Calls `listener` with `{type, ...}` on `"refreshed"` (`source`: this-tab, other-tab),
    /// `"loggedout"` (`reason`: local, other-tab, revoked, reused, expired) and
    /// `"refreshfailed"` (`kind`: network, refused; `error`).
    #[wasm_bindgen(js_name = addEventListener)]
    pub fn add_event_listener(
        &self,
        #[wasm_bindgen(unchecked_param_type = "SessionEventType")] kind: String,
        #[wasm_bindgen(unchecked_param_type = "(event: SessionEvent) => void")] listener: Function,
    ) -> Result<(), JsValue> {
        self.driver.listen(&kind, &listener, true)
    }

    /// Stops calling `listener` for `kind`.
    #[wasm_bindgen(js_name = removeEventListener)]
    pub fn remove_event_listener(
        &self,
        #[wasm_bindgen(unchecked_param_type = "SessionEventType")] kind: String,
        #[wasm_bindgen(unchecked_param_type = "(event: SessionEvent) => void")] listener: Function,
    ) -> Result<(), JsValue> {
        self.driver.listen(&kind, &listener, false)
    }

    /// Stops listening to the other tabs (the session stays usable here). Call it when a
    /// page drops a cookie session: an open channel keeps it alive.
    pub fn close(&self) {
        self.driver.close();
    }
}
