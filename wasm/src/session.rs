//! `TokenSession`: what a frontend keeps after `/api/v3/auth`.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Date, Function, Object, Promise, Reflect};
use jwtkit_core::{UnixTime, check_expiry};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, future_to_promise};

use crate::clock::local_now;
use crate::decode;
use crate::error::{JsError, from_core, invalid, js_error, set};
use crate::options::{finite, get, leeway, now as read_now};

/// A token with its clock offset: judges expiry on the server's clock, refuses to send an
/// expired token, and turns the server's RFC 6750 401 into an `Error` with the server's code.
#[wasm_bindgen]
#[derive(Clone)]
pub struct TokenSession {
    state: Rc<RefCell<State>>,
}

struct State {
    token: String,
    exp: Option<UnixTime>,
    iat: Option<UnixTime>,
    offset: f64,
    leeway: u32,
    on_expired: Option<Function>,
}

impl State {
    fn new(
        token: &JsValue,
        offset: f64,
        leeway: u32,
        on_expired: Option<Function>,
    ) -> Result<Self, JsValue> {
        let decoded = decode(token)?;
        // `decode` took it: a string.
        let token = token
            .as_string()
            .ok_or_else(|| invalid("the token must be a string"))?;
        let claims = decoded.claims();
        Ok(Self {
            token,
            exp: claims.exp(),
            iat: claims.iat(),
            offset,
            leeway,
            on_expired,
        })
    }

    /// The server's time for a local time (`now` or the package clock).
    fn server_now(&self, now: Option<f64>) -> Result<UnixTime, JsValue> {
        let local = match now {
            Some(now) => now,
            None => local_now()?,
        };
        UnixTime::from_secs_f64(local + self.offset)
            .ok_or_else(|| invalid("the time is out of range"))
    }

    fn check(&self, now: Option<f64>) -> Result<(), JsValue> {
        match self.exp {
            Some(exp) => check_expiry(exp, self.server_now(now)?, self.leeway).map_err(from_core),
            None => Ok(()),
        }
    }
}

fn on_expired(options: &JsValue) -> Result<Option<Function>, JsValue> {
    if options.is_undefined() || options.is_null() {
        return Ok(None);
    }
    let value = get(options, "onExpired")?;
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    value
        .dyn_into::<Function>()
        .map(Some)
        .map_err(|_| invalid("onExpired must be a function"))
}

fn option(options: &JsValue, name: &str) -> Result<JsValue, JsValue> {
    if options.is_undefined() || options.is_null() {
        Ok(JsValue::UNDEFINED)
    } else if options.is_object() {
        get(options, name)
    } else {
        Err(invalid("options must be an object"))
    }
}

#[wasm_bindgen]
impl TokenSession {
    /// A session for `token` with an explicit clock offset (server clock minus client clock,
    /// seconds). The offset is never re-estimated from the token's `iat`: a token restored
    /// from storage is not fresh.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "string")] token: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "TokenSessionOptions")] options: JsValue,
    ) -> Result<TokenSession, JsValue> {
        let offset = finite(
            &option(&options, "clockOffsetSeconds")?,
            "clockOffsetSeconds must be a finite number",
        )?
        .unwrap_or(0.0);
        let leeway = leeway(&option(&options, "leewaySeconds")?)?;
        let state = State::new(&token, offset, leeway, on_expired(&options)?)?;
        Ok(Self {
            state: Rc::new(RefCell::new(state)),
        })
    }

    /// A session from the JSON body of `/api/v3/auth`, received just now. The clock offset is
    /// estimated at this moment: from `serverDate` (the response's `Date` header) when given,
    /// else from the fresh token's `iat`.
    #[wasm_bindgen(js_name = fromAuthResponse)]
    pub fn from_auth_response(
        #[wasm_bindgen(unchecked_param_type = "AuthResponse")] json: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "AuthResponseOptions")] options: JsValue,
    ) -> Result<TokenSession, JsValue> {
        if !json.is_object() {
            return Err(invalid("the auth response must be an object"));
        }
        let data = get(&json, "data")?;
        let token = if data.is_object() {
            get(&data, "token")?
        } else {
            get(&json, "token")?
        };
        if token.as_string().is_none() {
            return Err(invalid(
                "the auth response has no token (expected data.token or token)",
            ));
        }
        let local = match read_now(&option(&options, "now")?)? {
            Some(now) => now,
            None => local_now()?,
        };
        let server = server_date(&option(&options, "serverDate")?)?;
        let leeway = leeway(&option(&options, "leewaySeconds")?)?;
        let mut state = State::new(&token, 0.0, leeway, on_expired(&options)?)?;
        let reference = match server {
            Some(server) => Some(server),
            None => state.iat.map(UnixTime::as_secs_f64),
        };
        state.offset = reference.map_or(0.0, |server| server - local);
        Ok(Self {
            state: Rc::new(RefCell::new(state)),
        })
    }

    /// The token.
    #[wasm_bindgen(getter)]
    pub fn token(&self) -> String {
        self.state.borrow().token.clone()
    }

    /// When the token expires (its `exp`), or `null` without one.
    #[wasm_bindgen(getter = expiresAt, unchecked_return_type = "Date | null")]
    pub fn expires_at(&self) -> JsValue {
        match self.state.borrow().exp {
            Some(exp) => Date::new(&JsValue::from_f64(exp.as_secs_f64() * 1000.0)).into(),
            None => JsValue::NULL,
        }
    }

    /// Server clock minus client clock, in seconds.
    #[wasm_bindgen(getter = clockOffsetSeconds)]
    pub fn clock_offset_seconds(&self) -> f64 {
        self.state.borrow().offset
    }

    /// Whether the token is expired on the server's clock (`now >= exp + leeway`).
    #[wasm_bindgen(js_name = isExpired)]
    pub fn is_expired(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "Date | number")] now: JsValue,
    ) -> Result<bool, JsValue> {
        let now = read_now(&now)?;
        let state = self.state.borrow();
        match state.exp {
            Some(exp) => Ok(check_expiry(exp, state.server_now(now)?, state.leeway).is_err()),
            None => Ok(false),
        }
    }

    /// The time on the server's clock, in seconds since the epoch (the package clock, or
    /// `now`, plus this session's clock offset): what its expiry is judged against.
    #[wasm_bindgen(js_name = serverNow)]
    pub fn server_now(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "Date | number")] now: JsValue,
    ) -> Result<f64, JsValue> {
        let now = read_now(&now)?;
        Ok(self.state.borrow().server_now(now)?.as_secs_f64())
    }

    /// Seconds until `exp` on the server's clock (negative once passed; `Infinity` without).
    #[wasm_bindgen(js_name = secondsLeft)]
    pub fn seconds_left(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "Date | number")] now: JsValue,
    ) -> Result<f64, JsValue> {
        let now = read_now(&now)?;
        let state = self.state.borrow();
        let server_now = state.server_now(now)?;
        Ok(state.exp.map_or(f64::INFINITY, |exp| {
            exp.as_secs_f64() - server_now.as_secs_f64()
        }))
    }

    /// `"Bearer <token>"`, or throws an `Error` with code `ERR_JWT_EXPIRED` when the token has
    /// expired — before anything is sent.
    #[wasm_bindgen(js_name = authorizationHeader)]
    pub fn authorization_header(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "Date | number")] now: JsValue,
    ) -> Result<String, JsValue> {
        let state = self.state.borrow();
        state.check(read_now(&now)?)?;
        Ok(format!("Bearer {}", state.token))
    }

    /// The global `fetch` with `Authorization: Bearer <token>` added. An expired token is
    /// never sent: `onExpired` may supply a fresh one, else the promise rejects with
    /// `ERR_JWT_EXPIRED`. A 401 from the server rejects with the server's error `code`
    /// (and `status`, `response`); other responses resolve as they are.
    #[wasm_bindgen(unchecked_return_type = "Promise<Response>")]
    pub fn fetch(
        &self,
        #[wasm_bindgen(unchecked_param_type = "RequestInfo | URL")] input: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "RequestInit")] init: JsValue,
    ) -> Promise {
        let session = self.clone();
        future_to_promise(async move {
            let header = session.fresh_header().await?;
            let response = send(&input, &init, &header).await.map_err(fetch_failed)?;
            let status = Reflect::get(&response, &"status".into())?
                .as_f64()
                .unwrap_or(0.0);
            if status == 401.0 {
                return Err(unauthorized(&response).await);
            }
            Ok(response)
        })
    }
}

impl TokenSession {
    /// The `Authorization` value, renewing the token through `onExpired` when it has expired.
    async fn fresh_header(&self) -> Result<String, JsValue> {
        let expired = self.state.borrow().check(None).err();
        let Some(error) = expired else {
            return Ok(format!("Bearer {}", self.state.borrow().token));
        };
        let callback = self.state.borrow().on_expired.clone();
        let Some(callback) = callback else {
            return Err(error);
        };
        let mut fresh = callback.call1(&JsValue::NULL, &JsValue::from(self.clone()))?;
        if let Some(promise) = fresh.dyn_ref::<Promise>() {
            fresh = JsFuture::from(promise.clone()).await?;
        }
        if fresh.as_string().is_none() {
            return Err(error);
        }
        let renewed = {
            let state = self.state.borrow();
            State::new(&fresh, state.offset, state.leeway, state.on_expired.clone())?
        };
        renewed.check(None)?;
        let header = format!("Bearer {}", renewed.token);
        *self.state.borrow_mut() = renewed;
        Ok(header)
    }
}

/// A failure of `fetch` itself (network error, invalid `init`) as an `Error` with code
/// `ERR_FETCH_FAILED`, keeping the original error as its `cause`.
fn fetch_failed(cause: JsValue) -> JsValue {
    let message = cause
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .unwrap_or_else(|| "no reason given".to_owned());
    let error = JsValue::from(JsError::FetchFailed { message });
    set(&error, "cause", &cause);
    error
}

/// `serverDate`: a `Date`, an HTTP-date string, or seconds since the epoch.
fn server_date(value: &JsValue) -> Result<Option<f64>, JsValue> {
    if let Some(text) = value.as_string() {
        let millis = Date::parse(&text);
        return if millis.is_finite() {
            Ok(Some(millis / 1000.0))
        } else {
            Err(invalid("serverDate is not a date"))
        };
    }
    read_now(value)
}

async fn send(input: &JsValue, init: &JsValue, authorization: &str) -> Result<JsValue, JsValue> {
    let global = js_sys::global();
    let headers_class: Function = Reflect::get(&global, &"Headers".into())?
        .dyn_into()
        .map_err(|_| invalid("this environment has no Headers class"))?;
    let fetch: Function = Reflect::get(&global, &"fetch".into())?
        .dyn_into()
        .map_err(|_| invalid("this environment has no fetch function"))?;
    let init = if init.is_undefined() || init.is_null() {
        Object::new()
    } else {
        Object::assign(&Object::new(), init.unchecked_ref())
    };
    let given = Reflect::get(&init, &"headers".into())?;
    let headers = Reflect::construct(&headers_class, &Array::of1(&given))?;
    let set: Function = Reflect::get(&headers, &"set".into())?.dyn_into()?;
    set.call2(&headers, &"Authorization".into(), &authorization.into())?;
    Reflect::set(&init, &"headers".into(), &headers)?;
    let promise: Promise = fetch.call2(&global, input, &init)?.dyn_into()?;
    JsFuture::from(promise).await
}

/// The error for a 401: the server's `code` and `message` when its body says so.
async fn unauthorized(response: &JsValue) -> JsValue {
    let body = async {
        let clone: Function = Reflect::get(response, &"clone".into())?.dyn_into()?;
        let copy = clone.call0(response)?;
        let json: Function = Reflect::get(&copy, &"json".into())?.dyn_into()?;
        let promise: Promise = json.call0(&copy)?.dyn_into()?;
        JsFuture::from(promise).await
    }
    .await
    .unwrap_or(JsValue::NULL);
    let text = |name: &str| {
        if body.is_object() {
            Reflect::get(&body, &name.into())
                .ok()
                .and_then(|v| v.as_string())
        } else {
            None
        }
    };
    let error = match text("code") {
        Some(code) => js_error(
            &code,
            &text("message").unwrap_or_else(|| JsError::Unauthorized.to_string()),
        ),
        None => JsError::Unauthorized.into(),
    };
    set(&error, "status", &JsValue::from_f64(401.0));
    set(&error, "response", response);
    error
}
