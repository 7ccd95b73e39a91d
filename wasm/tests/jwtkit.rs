//! The npm package's exports, run unchanged in Node.js, headless Chrome and headless Firefox.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use js_sys::{Date, Function, Object, Promise, Reflect};
use jwtkit_wasm::{
    TokenSession, decode_unverified, is_expired, now_seconds, seconds_until_expiry, set_clock,
};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test as test;

const EXP: f64 = 1_800_000_000.0;

fn b64(text: &str) -> String {
    URL_SAFE_NO_PAD.encode(text)
}

fn token(header: &str, payload: &str) -> JsValue {
    JsValue::from(format!("{}.{}.c2ln", b64(header), b64(payload)))
}

fn good() -> JsValue {
    token(
        r#"{"alg":"HS256","typ":"at+jwt"}"#,
        &format!(
            r#"{{"sub":"ann","iat":{},"exp":{EXP},"aud":["a","b"]}}"#,
            EXP - 180.0
        ),
    )
}

fn get(value: &JsValue, path: &str) -> JsValue {
    path.split('.').fold(value.clone(), |v, name| {
        Reflect::get(&v, &name.into()).unwrap()
    })
}

fn code(error: JsValue) -> String {
    assert!(error.is_instance_of::<js_sys::Error>(), "a real Error");
    assert_eq!(get(&error, "name").as_string().as_deref(), Some("JwtError"));
    get(&error, "code").as_string().unwrap()
}

fn options(pairs: &[(&str, JsValue)]) -> JsValue {
    let object = Object::new();
    for (name, value) in pairs {
        Reflect::set(&object, &(*name).into(), value).unwrap();
    }
    object.into()
}

fn now(secs: f64) -> JsValue {
    options(&[("now", secs.into())])
}

#[test]
fn decodes_header_and_claims_as_plain_objects() {
    let decoded = decode_unverified(good()).unwrap();
    assert_eq!(
        get(&decoded, "header.alg").as_string().as_deref(),
        Some("HS256")
    );
    assert_eq!(
        get(&decoded, "claims.sub").as_string().as_deref(),
        Some("ann")
    );
    assert_eq!(get(&decoded, "claims.exp").as_f64(), Some(EXP));
    assert!(js_sys::Array::is_array(&get(&decoded, "claims.aud")));
    assert!(
        !get(&decoded, "claims").is_instance_of::<js_sys::Map>(),
        "plain objects, not Maps"
    );
}

#[test]
fn the_last_token_remembered_is_never_taken_for_another() {
    let expired = token(
        r#"{"alg":"HS256"}"#,
        &format!(r#"{{"exp":{}}}"#, EXP - 10.0),
    );
    let at = || now(EXP - 1.0);
    let first = decode_unverified(good()).unwrap();
    assert!(!is_expired(good(), at()).unwrap(), "the remembered token");
    assert!(is_expired(expired.clone(), at()).unwrap(), "another token");
    assert!(!is_expired(good(), at()).unwrap(), "the first one again");
    let malformed = JsValue::from("a.b");
    assert_eq!(
        code(is_expired(malformed, at()).unwrap_err()),
        "ERR_JWT_MALFORMED"
    );
    assert_eq!(
        code(is_expired(JsValue::from_f64(1.0), at()).unwrap_err()),
        "ERR_INVALID_ARGUMENT"
    );
    // Each decode returns its own objects: changing one leaves the next untouched.
    Reflect::set(&get(&first, "claims"), &"sub".into(), &"mallory".into()).unwrap();
    let second = decode_unverified(good()).unwrap();
    assert_eq!(
        get(&second, "claims.sub").as_string().as_deref(),
        Some("ann")
    );
}

#[test]
fn malformed_tokens_throw_errors_with_the_core_codes() {
    let cases: Vec<(JsValue, &str)> = vec![
        (JsValue::from("abc"), "ERR_JWT_MALFORMED"),
        (JsValue::from("a.b.c.d.e"), "ERR_JWE_UNSUPPORTED"),
        (
            JsValue::from(format!("{}.e30=.c2ln", b64(r#"{"alg":"HS256"}"#))),
            "ERR_JWT_INVALID_CHARACTER",
        ),
        (
            JsValue::from(format!("{}.e31.c2ln", b64(r#"{"alg":"HS256"}"#))),
            "ERR_JWT_NON_CANONICAL_BASE64",
        ),
        (
            token(r#"{"alg":"HS256","alg":"none"}"#, "{}"),
            "ERR_JWT_DUPLICATE_MEMBER",
        ),
        (
            token(r#"{"alg":"HS256"}"#, r#"{"exp":1,"exp":2}"#),
            "ERR_JWT_DUPLICATE_MEMBER",
        ),
        (
            token(r#"{"alg":"HS256"}"#, r#"{"exp":"1800000000"}"#),
            "ERR_JWT_CLAIM_INVALID",
        ),
        (
            token(r#"{"alg":"HS256"}"#, r#"{"exp":-1}"#),
            "ERR_JWT_CLAIM_INVALID",
        ),
        (
            token(r#"{"alg":"HS256"}"#, r#"{"nbf":null}"#),
            "ERR_JWT_CLAIM_INVALID",
        ),
        (token(r#"{"typ":"JWT"}"#, "{}"), "ERR_JWS_ALG_MISSING"),
        (
            token(r#"{"alg":"HS256","crit":["exp"]}"#, "{}"),
            "ERR_JWS_CRIT_UNSUPPORTED",
        ),
        (token(r#"{"alg":"HS256"}"#, "[]"), "ERR_JWT_NOT_AN_OBJECT"),
        (token(r#"{"alg":"HS256"}"#, "{"), "ERR_JWT_INVALID_JSON"),
        (
            token("\u{feff}{\"alg\":\"HS256\"}", "{}"),
            "ERR_JWT_INVALID_UTF8",
        ),
        (JsValue::from("a".repeat(9000)), "ERR_JWT_TOO_LARGE"),
        (JsValue::from_f64(7.0), "ERR_INVALID_ARGUMENT"),
        (JsValue::UNDEFINED, "ERR_INVALID_ARGUMENT"),
    ];
    for (token, expected) in cases {
        assert_eq!(
            code(decode_unverified(token.clone()).unwrap_err()),
            expected,
            "{token:?}"
        );
        assert_eq!(
            code(is_expired(token.clone(), JsValue::UNDEFINED).unwrap_err()),
            expected
        );
        assert_eq!(
            code(seconds_until_expiry(token, JsValue::UNDEFINED).unwrap_err()),
            expected
        );
    }
}

#[test]
fn expiry_boundary_is_the_servers() {
    assert!(!is_expired(good(), now(EXP - 1.0)).unwrap());
    assert!(
        is_expired(good(), now(EXP)).unwrap(),
        "now == exp is expired"
    );
    assert!(!is_expired(good(), now(EXP - 0.001)).unwrap());
    let lenient = |t: f64| options(&[("now", t.into()), ("leewaySeconds", 30.into())]);
    assert!(!is_expired(good(), lenient(EXP + 29.0)).unwrap());
    assert!(
        is_expired(good(), lenient(EXP + 30.0)).unwrap(),
        "now == exp + leeway"
    );
    let date = options(&[(
        "now",
        Date::new(&JsValue::from_f64((EXP - 1.0) * 1000.0)).into(),
    )]);
    assert!(!is_expired(good(), date).unwrap(), "a Date works as now");
    // The server's clock is 60 s ahead of ours.
    let offset = options(&[
        ("now", (EXP - 30.0).into()),
        ("clockOffsetSeconds", 60.into()),
    ]);
    assert!(is_expired(good(), offset).unwrap());
    // Without `now` the real clock is used: 2027 is in the future of any test run before it.
    assert!(
        is_expired(
            token(r#"{"alg":"HS256"}"#, r#"{"exp":1}"#),
            JsValue::UNDEFINED
        )
        .unwrap()
    );
    assert_eq!(seconds_until_expiry(good(), now(EXP - 90.0)).unwrap(), 90.0);
    assert_eq!(seconds_until_expiry(good(), now(EXP + 5.0)).unwrap(), -5.0);
    // Every jwtkit server refuses a token without exp: it is not "unexpired".
    let no_exp = token(r#"{"alg":"HS256"}"#, "{}");
    assert_eq!(
        code(is_expired(no_exp.clone(), now(EXP)).unwrap_err()),
        "ERR_JWT_CLAIM_MISSING"
    );
    assert_eq!(
        code(seconds_until_expiry(no_exp.clone(), now(EXP)).unwrap_err()),
        "ERR_JWT_CLAIM_MISSING"
    );
    assert_eq!(
        code(TokenSession::new(no_exp, JsValue::UNDEFINED).err().unwrap()),
        "ERR_JWT_CLAIM_MISSING"
    );
}

/// A clock function reading `secs` seconds since the epoch.
fn clock_at(secs: f64) -> JsValue {
    Function::new_no_args(&format!("return {};", secs * 1000.0)).into()
}

#[test]
fn one_clock_serves_every_export_and_can_be_replaced() {
    // Synchronous from set to restore, so no other test runs in between.
    set_clock(clock_at(EXP - 1.0)).unwrap();
    let judged = (
        now_seconds().unwrap(),
        is_expired(good(), JsValue::UNDEFINED).unwrap(),
        seconds_until_expiry(good(), JsValue::UNDEFINED).unwrap(),
    );
    let response = options(&[("data", options(&[("token", good())]))]);
    let session = TokenSession::from_auth_response(response, JsValue::UNDEFINED).unwrap();
    let session_judged = (
        session.clock_offset_seconds(),
        session.server_now(JsValue::UNDEFINED).unwrap(),
        session.seconds_left(JsValue::UNDEFINED).unwrap(),
    );
    set_clock(clock_at(EXP)).unwrap();
    let later = (
        is_expired(good(), JsValue::UNDEFINED).unwrap(),
        session.is_expired(JsValue::UNDEFINED).unwrap(),
    );
    let broken = Function::new_no_args("return 'soon';");
    set_clock(broken.into()).unwrap();
    let broken = is_expired(good(), JsValue::UNDEFINED).map_err(code);
    set_clock(JsValue::NULL).unwrap();

    assert_eq!(judged, (EXP - 1.0, false, 1.0));
    // A fresh token's iat (EXP - 180, whole seconds: the server's clock is taken a second
    // past it) against a clock at EXP - 1: the server is 178 s behind.
    assert_eq!(session_judged, (-178.0, EXP - 179.0, 179.0));
    assert_eq!(
        later,
        (true, false),
        "the session judges on the server's clock"
    );
    assert_eq!(broken, Err("ERR_INVALID_ARGUMENT".to_owned()));
    assert!(
        (now_seconds().unwrap() - Date::now() / 1000.0).abs() < 5.0,
        "null restores Date.now"
    );
    assert_eq!(
        code(set_clock(JsValue::from(5)).unwrap_err()),
        "ERR_INVALID_ARGUMENT"
    );
}

#[test]
fn options_are_validated() {
    let bad = [
        options(&[("leewaySeconds", 601.into())]),
        options(&[("leewaySeconds", 1.5.into())]),
        options(&[("leewaySeconds", (-1).into())]),
        options(&[("leewaySeconds", "5".into())]),
        options(&[("now", f64::NAN.into())]),
        options(&[("now", Date::new(&"not a date".into()).into())]),
        options(&[("now", (-1e12).into())]),
        options(&[("clockOffsetSeconds", f64::INFINITY.into())]),
        JsValue::from("options"),
    ];
    for options in bad {
        assert_eq!(
            code(is_expired(good(), options.clone()).unwrap_err()),
            "ERR_INVALID_ARGUMENT",
            "{options:?}"
        );
    }
}

#[test]
fn session_offset_comes_from_the_server_date_or_a_fresh_iat() {
    let response = options(&[("data", options(&[("token", good())]))]);
    // Received at EXP - 300 by our clock; the token says it was issued at EXP - 180 (whole
    // seconds: up to a second more): the server is taken as 121 s ahead.
    let session = TokenSession::from_auth_response(response.clone(), now(EXP - 300.0)).unwrap();
    assert_eq!(session.clock_offset_seconds(), 121.0);
    assert_eq!(
        session
            .seconds_left(JsValue::from_f64(EXP - 300.0))
            .unwrap(),
        179.0
    );
    // A Date header that fits the fresh token wins over iat.
    let date = Date::new(&JsValue::from_f64((EXP - 178.0) * 1000.0));
    let header = date.to_utc_string().as_string().unwrap();
    let with_date = options(&[("now", (EXP - 300.0).into()), ("serverDate", header.into())]);
    let session = TokenSession::from_auth_response(response.clone(), with_date).unwrap();
    assert_eq!(session.clock_offset_seconds(), 123.0);
    assert_eq!(session.clock_source(), "date");
    let with_date_object = options(&[("now", (EXP - 300.0).into()), ("serverDate", date.into())]);
    assert_eq!(
        TokenSession::from_auth_response(response, with_date_object)
            .unwrap()
            .clock_offset_seconds(),
        123.0
    );
    // A bare {token} works; a response without a token does not.
    let bare = options(&[("token", good())]);
    assert!(TokenSession::from_auth_response(bare, now(EXP)).is_ok());
    assert_eq!(
        code(
            TokenSession::from_auth_response(options(&[]), JsValue::UNDEFINED)
                .err()
                .unwrap()
        ),
        "ERR_INVALID_ARGUMENT"
    );
}

#[test]
fn session_constructor_never_re_estimates_the_offset() {
    // A token restored from storage, issued long ago: no offset unless given.
    let session = TokenSession::new(good(), JsValue::UNDEFINED).unwrap();
    assert_eq!(session.clock_offset_seconds(), 0.0);
    let session =
        TokenSession::new(good(), options(&[("clockOffsetSeconds", (-60).into())])).unwrap();
    assert!(!session.is_expired(JsValue::from_f64(EXP + 59.0)).unwrap());
    assert!(session.is_expired(JsValue::from_f64(EXP + 60.0)).unwrap());
    let expires_at: Date = session.expires_at().dyn_into().unwrap();
    assert_eq!(expires_at.get_time(), EXP * 1000.0);
    assert_eq!(session.token(), good().as_string().unwrap());
    assert_eq!(
        session
            .authorization_header(JsValue::from_f64(EXP))
            .unwrap(),
        format!("Bearer {}", good().as_string().unwrap())
    );
    assert_eq!(
        code(
            session
                .authorization_header(JsValue::from_f64(EXP + 60.0))
                .unwrap_err()
        ),
        "ERR_JWT_EXPIRED"
    );
    assert_eq!(
        code(
            TokenSession::new("nope".into(), JsValue::UNDEFINED)
                .err()
                .unwrap()
        ),
        "ERR_JWT_MALFORMED"
    );
    assert_eq!(
        code(
            TokenSession::new(good(), options(&[("onExpired", 1.into())]))
                .err()
                .unwrap()
        ),
        "ERR_INVALID_ARGUMENT"
    );
}

/// Replaces the global `fetch` with a stub answering `status` with a JSON body, and records
/// the Authorization header of each call in `globalThis.__seen`.
fn stub_fetch(status: u16, body: &str) {
    let stub = Function::new_with_args(
        "input, init",
        &format!(
            "globalThis.__seen.push(new Headers(init.headers).get('authorization'));\
             return Promise.resolve(new Response({body:?}, {{ status: {status}, headers: {{ 'content-type': 'application/json' }} }}));"
        ),
    );
    let global = js_sys::global();
    Reflect::set(&global, &"__seen".into(), &js_sys::Array::new()).unwrap();
    Reflect::set(&global, &"fetch".into(), &stub).unwrap();
}

fn seen() -> Vec<String> {
    let seen: js_sys::Array = Reflect::get(&js_sys::global(), &"__seen".into())
        .unwrap()
        .dyn_into()
        .unwrap();
    seen.iter()
        .map(|v| v.as_string().unwrap_or_default())
        .collect()
}

async fn settle(promise: Promise) -> Result<JsValue, JsValue> {
    JsFuture::from(promise).await
}

fn fresh_token(exp: f64) -> String {
    token(
        r#"{"alg":"HS256"}"#,
        &format!(r#"{{"sub":"ann","exp":{exp}}}"#),
    )
    .as_string()
    .unwrap()
}

#[test]
async fn fetch_adds_the_header_and_refuses_expired_tokens_before_sending() {
    let live = fresh_token(Date::now() / 1000.0 + 600.0);
    stub_fetch(200, r#"{"data":{}}"#);
    let session = TokenSession::new(live.clone().into(), JsValue::UNDEFINED).unwrap();
    let response = settle(session.fetch("/api/v3/secret".into(), JsValue::UNDEFINED))
        .await
        .unwrap();
    assert_eq!(get(&response, "status").as_f64(), Some(200.0));
    assert_eq!(seen(), vec![format!("Bearer {live}")]);

    stub_fetch(200, "{}");
    let dead = TokenSession::new(fresh_token(1.0).into(), JsValue::UNDEFINED).unwrap();
    let error = settle(dead.fetch("/api/v3/secret".into(), JsValue::UNDEFINED))
        .await
        .unwrap_err();
    assert_eq!(code(error), "ERR_JWT_EXPIRED");
    assert!(seen().is_empty(), "nothing was sent");
}

#[test]
async fn fetch_renews_through_on_expired() {
    let renewed = fresh_token(Date::now() / 1000.0 + 600.0);
    let callback =
        Function::new_with_args("session", &format!("return Promise.resolve({renewed:?});"));
    let session = TokenSession::new(
        fresh_token(1.0).into(),
        options(&[("onExpired", callback.into())]),
    )
    .unwrap();
    stub_fetch(200, "{}");
    let init = options(&[("headers", options(&[("X-Trace", "1".into())]))]);
    settle(session.fetch("/api/v3/secret".into(), init))
        .await
        .unwrap();
    assert_eq!(seen(), vec![format!("Bearer {renewed}")]);
    assert_eq!(
        session.token(),
        renewed,
        "the session keeps the fresh token"
    );

    let gives_up = Function::new_with_args("session", "return null;");
    let session = TokenSession::new(
        fresh_token(1.0).into(),
        options(&[("onExpired", gives_up.into())]),
    )
    .unwrap();
    let error = settle(session.fetch("/x".into(), JsValue::UNDEFINED))
        .await
        .unwrap_err();
    assert_eq!(code(error), "ERR_JWT_EXPIRED");
}

#[test]
async fn fetch_turns_a_401_into_the_servers_error() {
    let session = TokenSession::new(
        fresh_token(Date::now() / 1000.0 + 600.0).into(),
        JsValue::UNDEFINED,
    )
    .unwrap();
    stub_fetch(
        401,
        r#"{"error":"invalid_token","code":"ERR_JWT_AUDIENCE_MISMATCH","message":"aud differs"}"#,
    );
    let error = settle(session.fetch("/x".into(), JsValue::UNDEFINED))
        .await
        .unwrap_err();
    assert_eq!(get(&error, "status").as_f64(), Some(401.0));
    assert_eq!(
        get(&error, "message").as_string().as_deref(),
        Some("aud differs")
    );
    assert_eq!(code(error), "ERR_JWT_AUDIENCE_MISMATCH");
    // A failing fetch (here: invalid headers) rejects with a coded Error, not a bare TypeError.
    let bad_init = options(&[("headers", JsValue::from_f64(5.0))]);
    let error = settle(session.fetch("/x".into(), bad_init))
        .await
        .unwrap_err();
    assert_eq!(code(error), "ERR_FETCH_FAILED");
    // A 403 is an answer, not an error: it resolves.
    stub_fetch(403, r#"{"code":"ERR_INSUFFICIENT_SCOPE"}"#);
    let response = settle(session.fetch("/x".into(), JsValue::UNDEFINED))
        .await
        .unwrap();
    assert_eq!(get(&response, "status").as_f64(), Some(403.0));
}
