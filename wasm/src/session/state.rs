//! What a session holds: the current access token judged on the server's clock, and whether
//! the session has ended.

use jwtkit_core::{ClaimsError, UnixTime, check_expiry};
use wasm_bindgen::JsValue;

use super::server_clock::{ClockSource, estimate_offset, refresh_margin};
use crate::clock::local_now;
use crate::decode;
use crate::error::{JsError, from_core, invalid};

/// An access token, decoded with the strict parser: its `exp` (required), `iat`, `sid`.
pub(super) struct Fresh {
    pub(super) token: String,
    pub(super) exp: UnixTime,
    pub(super) iat: Option<UnixTime>,
    pub(super) sid: Option<String>,
}

impl Fresh {
    /// Decodes `token` (a string), refusing what every server refuses, a missing `exp` too.
    pub(super) fn decode(token: &JsValue) -> Result<Self, JsValue> {
        let decoded = decode(token)?;
        let claims = decoded.claims();
        let exp = claims
            .exp()
            .ok_or_else(|| from_core(ClaimsError::Missing { name: "exp".into() }))?;
        Ok(Self {
            token: token
                .as_string()
                .ok_or_else(|| invalid("the token must be a string"))?,
            exp,
            iat: claims.iat(),
            sid: claims.sid().map(str::to_owned),
        })
    }
}

impl Fresh {
    /// The access token of a token endpoint's answer received at `issued` (the response's
    /// `Date`, or the local time): a JWT with `exp` is judged by it; another (an opaque
    /// token, or a JWT without `exp`) lives `expires_in` seconds from `issued` (RFC 6749
    /// §5.1).
    pub(crate) fn from_token_response(body: &JsValue, issued: f64) -> Result<Self, JsValue> {
        let token = crate::options::get(body, "access_token")?;
        let Some(text) = token.as_string() else {
            return Err(invalid("the token response has no access_token"));
        };
        if let Ok(fresh) = Self::decode(&token) {
            return Ok(fresh);
        }
        let expires_in = crate::options::get(body, "expires_in")?
            .as_f64()
            .filter(|seconds| seconds.is_finite() && *seconds > 0.0)
            .ok_or_else(|| {
                invalid("the token response has an opaque access_token and no expires_in")
            })?;
        let time = |secs: f64| {
            UnixTime::from_secs_f64(secs).ok_or_else(|| invalid("the time is out of range"))
        };
        Ok(Self {
            token: text,
            exp: time(issued + expires_in)?,
            iat: Some(time(issued)?),
            sid: None,
        })
    }
}

/// The current access token and how it is judged.
pub(super) struct State {
    pub(super) token: String,
    pub(super) exp: UnixTime,
    pub(super) sid: Option<String>,
    /// Server clock minus local clock, in seconds.
    pub(super) offset: f64,
    pub(super) clock_source: ClockSource,
    pub(super) leeway: u32,
    /// The margin the page set, if any; else it follows each token's lifetime.
    pub(super) explicit_margin: Option<f64>,
    pub(super) margin: f64,
    /// Bumped at every new access token (here or from another tab) and at the end.
    pub(super) version: u32,
    pub(super) ended: bool,
}

impl State {
    /// A state for `fresh` received at `local`, with an explicit offset, or one estimated
    /// from `server_date` and the token.
    pub(super) fn new(
        fresh: Fresh,
        offset: Option<f64>,
        server_date: Option<f64>,
        local: f64,
        leeway: u32,
        explicit_margin: Option<f64>,
    ) -> Self {
        let (offset, clock_source) = match offset {
            Some(offset) => (offset, ClockSource::Explicit),
            None => estimate_offset(local, server_date, fresh.iat, fresh.exp),
        };
        Self {
            margin: refresh_margin(explicit_margin, fresh.iat, fresh.exp),
            token: fresh.token,
            exp: fresh.exp,
            sid: fresh.sid,
            offset,
            clock_source,
            leeway,
            explicit_margin,
            version: 0,
            ended: false,
        }
    }

    /// Takes a new access token received at `local` (with the response's `Date`).
    pub(super) fn renew(&mut self, fresh: Fresh, server_date: Option<f64>, local: f64) {
        if self.clock_source != ClockSource::Explicit {
            (self.offset, self.clock_source) =
                estimate_offset(local, server_date, fresh.iat, fresh.exp);
        }
        self.margin = refresh_margin(self.explicit_margin, fresh.iat, fresh.exp);
        self.token = fresh.token;
        self.exp = fresh.exp;
        self.sid = fresh.sid;
        self.version += 1;
    }

    /// The server's time for a local time (`now`, or the package clock).
    pub(super) fn server_now(&self, now: Option<f64>) -> Result<UnixTime, JsValue> {
        let local = match now {
            Some(now) => now,
            None => local_now()?,
        };
        UnixTime::from_secs_f64(local + self.offset)
            .ok_or_else(|| invalid("the time is out of range"))
    }

    /// `ERR_JWT_EXPIRED` once the token has expired (the server's rule, with the leeway);
    /// `ERR_SESSION_ENDED` once the session has.
    pub(super) fn check(&self, now: Option<f64>) -> Result<(), JsValue> {
        if self.ended {
            return Err(JsError::SessionEnded.into());
        }
        check_expiry(self.exp, self.server_now(now)?, self.leeway).map_err(from_core)
    }

    /// Seconds until the token is due for a refresh (0 once within its margin, or past it).
    pub(super) fn until_refresh(&self, now: Option<f64>) -> Result<f64, JsValue> {
        let left = self.exp.as_secs_f64() - self.margin - self.server_now(now)?.as_secs_f64();
        Ok(left.max(0.0))
    }

    /// Ends the session: `false` when it had ended already.
    pub(super) fn end(&mut self) -> bool {
        if self.ended {
            return false;
        }
        self.ended = true;
        self.version += 1;
        true
    }
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    #![allow(clippy::unwrap_used)]

    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn body(json: &str) -> JsValue {
        js_sys::JSON::parse(json).unwrap()
    }

    fn code(error: &JsValue) -> Option<String> {
        js_sys::Reflect::get(error, &"code".into())
            .ok()?
            .as_string()
    }

    /// A token endpoint's answer: an opaque access token lives `expires_in` seconds from the
    /// answer; a JWT by its own `exp`, whatever `expires_in` says; an opaque one without
    /// `expires_in` cannot be judged, and is refused.
    #[test]
    fn an_access_token_is_judged_by_its_exp_or_else_by_expires_in() {
        let opaque = Fresh::from_token_response(
            &body(r#"{"access_token": "an opaque one", "expires_in": 300}"#),
            1000.0,
        )
        .unwrap();
        assert_eq!(opaque.exp.as_secs_f64(), 1300.0);
        assert_eq!(opaque.iat.map(UnixTime::as_secs_f64), Some(1000.0));
        let jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjIwMDAsImlhdCI6MTAwMH0.\
                   AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
        let answer = format!(r#"{{"access_token": "{jwt}", "expires_in": 5}}"#);
        let fresh = Fresh::from_token_response(&body(&answer), 1000.0).unwrap();
        assert_eq!(fresh.exp.as_secs_f64(), 2000.0);
        for refused in [r#"{"access_token": "opaque"}"#, r#"{"expires_in": 300}"#] {
            let error = Fresh::from_token_response(&body(refused), 1000.0)
                .err()
                .unwrap();
            assert_eq!(
                code(&error).as_deref(),
                Some("ERR_INVALID_ARGUMENT"),
                "{refused}"
            );
        }
    }
}
