//! What a session's driver is given: the rules of its token (`SessionRules`), the package's
//! coded errors (`Errors`) and the session protocol the server speaks. Handed to the driver
//! only (`private`: the package's module does not export them, and its TypeScript
//! declarations do not name them).

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Date, Object, Reflect};
use jwtkit_core::protocol;
use wasm_bindgen::prelude::*;

use super::state::{Fresh, State};
use crate::clock::local_now;
use crate::error::{JsError, js_error, set};

/// The session protocol for the driver: the server's paths, the CSRF header, and the
/// refresh refusals that end a session (code → the reason a page is told).
pub(super) fn protocol() -> JsValue {
    let object = Object::new();
    let put = |target: &Object, name: &str, value: &JsValue| {
        Reflect::set(target, &name.into(), value).ok();
    };
    put(&object, "authPath", &protocol::AUTH_PATH.into());
    put(&object, "refreshPath", &protocol::REFRESH_PATH.into());
    put(&object, "logoutPath", &protocol::LOGOUT_PATH.into());
    put(&object, "csrfHeader", &protocol::CSRF_HEADER.into());
    let ending = Object::new();
    for (code, reason) in protocol::SESSION_ENDING_REFUSALS {
        put(&ending, code, &reason.into());
    }
    put(&object, "endingCodes", &ending);
    object.into()
}

/// The rules of a session's token, for its driver (not part of the package's API).
#[doc(hidden)]
#[wasm_bindgen(private, skip_typescript)]
pub struct SessionRules {
    pub(super) state: Rc<RefCell<State>>,
}

/// The package's coded errors, for the driver (not part of the package's API).
#[doc(hidden)]
#[wasm_bindgen(private, skip_typescript)]
pub struct Errors;

#[wasm_bindgen]
impl Errors {
    /// The error of `kind`: invalid (`detail`: the problem), origin (`detail`: the origin),
    /// ended, unauthorized, fetch (`detail`: the message; `extra`: the cause), server
    /// (`detail`: the server's code; `extra`: its message), and a sign-in's (`detail`: what
    /// happened): discovery, issuer, issMissing, state, denied, token, signature, idToken;
    /// dpop (`detail`: why no DPoP key could be had).
    pub fn error(&self, kind: &str, detail: Option<String>, extra: JsValue) -> JsValue {
        let detail = detail.unwrap_or_default();
        match kind {
            "origin" => JsError::OriginNotAllowed { origin: detail }.into(),
            "ended" => JsError::SessionEnded.into(),
            "unauthorized" => JsError::Unauthorized.into(),
            "fetch" => {
                let error: JsValue = JsError::FetchFailed { message: detail }.into();
                set(&error, "cause", &extra);
                error
            }
            "discovery" => JsError::OidcDiscoveryFailed { detail }.into(),
            "issuer" => JsError::OidcIssuerMismatch { detail }.into(),
            "issMissing" => JsError::OidcIssMissing { detail }.into(),
            "state" => JsError::OidcStateMismatch { detail }.into(),
            "denied" => JsError::OidcAuthorizationError { detail }.into(),
            "token" => JsError::OidcTokenRequestFailed { detail }.into(),
            "signature" => JsError::IdTokenSignatureInvalid { detail }.into(),
            "idToken" => JsError::IdTokenInvalid { detail }.into(),
            "dpop" => JsError::DpopKeyUnavailable { detail }.into(),
            "server" => {
                let message = extra
                    .as_string()
                    .unwrap_or_else(|| JsError::Unauthorized.to_string());
                js_error(&detail, &message)
            }
            _ => JsError::InvalidArgument {
                problem: detail.into(),
            }
            .into(),
        }
    }
}

#[wasm_bindgen]
impl SessionRules {
    /// Throws `ERR_JWT_EXPIRED` or `ERR_SESSION_ENDED` unless the token is good now.
    pub fn check(&self) -> Result<(), JsValue> {
        self.state.borrow().check(None)
    }

    /// Whether the token is within its refresh margin (or past it).
    pub fn due(&self) -> Result<bool, JsValue> {
        Ok(self.state.borrow().until_refresh(None)? == 0.0)
    }

    #[wasm_bindgen(getter)]
    pub fn token(&self) -> String {
        self.state.borrow().token.clone()
    }

    #[wasm_bindgen(getter)]
    pub fn sid(&self) -> Option<String> {
        self.state.borrow().sid.clone()
    }

    /// Server clock minus local clock, in seconds.
    #[wasm_bindgen(getter)]
    pub fn offset(&self) -> f64 {
        self.state.borrow().offset
    }

    #[wasm_bindgen(getter)]
    pub fn version(&self) -> u32 {
        self.state.borrow().version
    }

    #[wasm_bindgen(getter)]
    pub fn ended(&self) -> bool {
        self.state.borrow().ended
    }

    /// Takes the token of a refresh response just received, with its `Date` header.
    pub fn take(&self, token: JsValue, date: Option<String>) -> Result<(), JsValue> {
        let fresh = Fresh::decode(&token)?;
        let date = date.as_deref().and_then(parse_date);
        self.state.borrow_mut().renew(fresh, date, local_now()?);
        Ok(())
    }

    /// Takes the access token of a token endpoint's answer (`access_token`, `expires_in`): a
    /// JWT judged by its `exp`, an opaque one by `expires_in` from the answer's `Date` (or
    /// now). From another tab (`date` undefined, `expires_in` counting from now), only an
    /// access token that lives longer is taken. Whether it was.
    #[wasm_bindgen(js_name = takeTokenResponse)]
    pub fn take_token_response(
        &self,
        body: JsValue,
        date: Option<String>,
        from_tab: bool,
    ) -> Result<bool, JsValue> {
        let date = date.as_deref().and_then(parse_date);
        let local = local_now()?;
        let mut state = self.state.borrow_mut();
        let fresh = Fresh::from_token_response(&body, date.unwrap_or(local + state.offset))?;
        if from_tab && (state.ended || fresh.exp <= state.exp) {
            return Ok(false);
        }
        state.renew(fresh, date, local);
        Ok(true)
    }

    /// Takes another tab's token for this session, if it is newer: whether it did.
    #[wasm_bindgen(js_name = takeFromTab)]
    pub fn take_from_tab(&self, token: JsValue) -> bool {
        let (Ok(fresh), Ok(local)) = (Fresh::decode(&token), local_now()) else {
            return false;
        };
        let mut state = self.state.borrow_mut();
        if state.ended || fresh.sid != state.sid || fresh.exp <= state.exp {
            return false;
        }
        state.renew(fresh, None, local);
        true
    }

    /// Ends the session: `false` when it had ended already.
    pub fn end(&self) -> bool {
        self.state.borrow_mut().end()
    }
}

/// An HTTP date as seconds since the epoch.
pub(super) fn parse_date(text: &str) -> Option<f64> {
    let millis = Date::parse(text);
    millis.is_finite().then_some(millis / 1000.0)
}
