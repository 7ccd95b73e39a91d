//! `TokenSession` refreshing ahead of expiry against an injected server (the `fetch` option):
//! single-flight, the retry of a 401, the origin allow-list, the end of a session, and tabs
//! sharing one cookie session — in Node.js, Chrome and Firefox. The clock rules (which
//! `Date` is believed, the margin) are judged at injected times.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use js_sys::{Array, Date, Function, Object, Promise, Reflect};
use jwtkit_wasm::TokenSession;
use wasm_bindgen::convert::TryFromJsValue;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test as test;

/// A jwtkit server in JavaScript, as far as a session sees it: `/refresh` rotates (slowly
/// enough for callers to overlap), `/logout` ends, anything else answers 200; `script[url]`
/// queues other answers (`[status, body]`, or `"throw"` for a network error). Tokens last
/// `lifetime` seconds; `calls` records what each request carried.
const SERVER: &str = r#"
const b64 = (v) => btoa(JSON.stringify(v)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const server = { calls: [], refreshes: 0, generation: 0, lifetime: 60, cookie: false, script: {} };
server.mint = (left = server.lifetime) => {
  const now = Math.floor(Date.now() / 1000);
  server.generation += 1;
  const claims = { sub: 'ann', sid: 's1', g: server.generation, iat: now - (server.lifetime - left), exp: now + left };
  return b64({ alg: 'HS256' }) + '.' + b64(claims) + '.c2ln';
};
const json = (status, body) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
server.fetch = async (input, init = {}) => {
  const url = String(typeof input === 'object' && 'url' in input ? input.url : input);
  const headers = new Headers(init.headers);
  server.calls.push({ url, method: init.method || 'GET', authorization: headers.get('authorization'),
    csrf: headers.get('x-jwtkit-csrf'), credentials: init.credentials || null, body: init.body || null });
  const scripted = server.script[url];
  if (scripted && scripted.length) {
    const next = scripted.shift();
    if (next === 'throw') throw new TypeError('Failed to fetch');
    return json(next[0], next[1]);
  }
  if (url.endsWith('/refresh')) {
    server.refreshes += 1;
    await new Promise((resolve) => setTimeout(resolve, 20));
    const data = { token: server.mint() };
    if (server.cookie) data.refresh_token_delivery = 'cookie';
    else data.refresh_token = 'jwtr_' + server.generation;
    return json(200, { data });
  }
  if (url.endsWith('/logout')) return json(200, { data: { code: 200 } });
  return json(200, { data: { ok: true } });
};
return server;
"#;

fn server() -> JsValue {
    Function::new_no_args(SERVER).call0(&JsValue::NULL).unwrap()
}

fn get(value: &JsValue, path: &str) -> JsValue {
    path.split('.').fold(value.clone(), |v, name| {
        Reflect::get(&v, &name.into()).unwrap()
    })
}

fn number(value: &JsValue, path: &str) -> f64 {
    get(value, path).as_f64().unwrap()
}

fn options(pairs: &[(&str, JsValue)]) -> JsValue {
    let object = Object::new();
    for (name, value) in pairs {
        Reflect::set(&object, &(*name).into(), value).unwrap();
    }
    object.into()
}

fn code(error: JsValue) -> String {
    get(&error, "code").as_string().unwrap()
}

/// The `calls` of `server` to URLs ending with `suffix`, as `[method, authorization]`.
fn calls(server: &JsValue, suffix: &str) -> Vec<(String, Option<String>)> {
    let calls: Array = get(server, "calls").dyn_into().unwrap();
    calls
        .iter()
        .filter(|c| get(c, "url").as_string().unwrap().ends_with(suffix))
        .map(|c| {
            (
                get(&c, "method").as_string().unwrap(),
                get(&c, "authorization").as_string(),
            )
        })
        .collect()
}

/// Queues `answer` (`[status, body]` JSON, or `"throw"`) for the next request to `url`.
fn script(server: &JsValue, url: &str, answer: &str) {
    let script = get(server, "script");
    let queue = Reflect::get(&script, &url.into()).unwrap();
    let queue: Array = if queue.is_undefined() {
        let queue = Array::new();
        Reflect::set(&script, &url.into(), &queue).unwrap();
        queue
    } else {
        queue.dyn_into().unwrap()
    };
    let answer = if answer == "throw" {
        answer.into()
    } else {
        js_sys::JSON::parse(answer).unwrap()
    };
    queue.push(&answer);
}

/// A token from `server` with `left` seconds to go.
fn mint(server: &JsValue, left: f64) -> JsValue {
    let mint: Function = get(server, "mint").dyn_into().unwrap();
    mint.call1(server, &left.into()).unwrap()
}

/// A session of `server` whose token has `left` seconds to go (of 60), received now with a
/// `Date` of now, refreshing by body or cookie, on its own channel.
fn session(server: &JsValue, left: f64, cookie: bool, channel: &str) -> TokenSession {
    let token = mint(server, left);
    let data = if cookie {
        Reflect::set(server, &"cookie".into(), &true.into()).unwrap();
        options(&[
            ("token", token),
            ("refresh_token_delivery", "cookie".into()),
        ])
    } else {
        options(&[("token", token), ("refresh_token", "jwtr_0".into())])
    };
    let now = Date::now() / 1000.0;
    TokenSession::from_auth_response(
        options(&[("data", data)]),
        options(&[
            ("fetch", get(server, "fetch")),
            ("serverDate", now.into()),
            ("channelName", channel.into()),
        ]),
    )
    .unwrap()
}

async fn settle(promise: Promise) -> Result<JsValue, JsValue> {
    JsFuture::from(promise).await
}

async fn sleep(ms: u32) {
    let promise = Promise::new(&mut |resolve, _| {
        let set_timeout: Function = get(&js_sys::global(), "setTimeout").dyn_into().unwrap();
        set_timeout
            .call2(&JsValue::NULL, &resolve, &ms.into())
            .unwrap();
    });
    JsFuture::from(promise).await.unwrap();
}

/// A listener recording each event as `type:detail`, and what it recorded.
fn recorder() -> (Function, Array) {
    let events = Array::new();
    let make = Function::new_with_args(
        "events",
        "return (e) => { events.push(e.type + ':' + (e.source ?? e.reason ?? e.kind)); };",
    );
    let listener = make.call1(&JsValue::NULL, &events).unwrap();
    (listener.dyn_into().unwrap(), events)
}

fn recorded(events: &Array) -> Vec<String> {
    events.iter().map(|e| e.as_string().unwrap()).collect()
}

fn listen(session: &TokenSession) -> Array {
    let (listener, events) = recorder();
    for kind in ["refreshed", "loggedout", "refreshfailed"] {
        session
            .add_event_listener(kind.into(), listener.clone())
            .unwrap();
    }
    events
}

const EXP: f64 = 1_800_000_000.0;

/// An auth response for a token issued at `EXP - 180`, expiring at `EXP`, with a refresh
/// token.
fn auth_response(lifetime: f64) -> JsValue {
    let b64 = |v: &str| {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v)
    };
    let claims = format!(r#"{{"sub":"ann","iat":{},"exp":{EXP}}}"#, EXP - lifetime);
    let token = format!("{}.{}.c2ln", b64(r#"{"alg":"HS256"}"#), b64(&claims));
    options(&[(
        "data",
        options(&[("token", token.into()), ("refresh_token", "jwtr_0".into())]),
    )])
}

fn received(local: f64, date: Option<f64>) -> JsValue {
    let mut pairs = vec![("now", JsValue::from(local))];
    if let Some(date) = date {
        let header = Date::new(&(date * 1000.0).into()).to_utc_string();
        pairs.push(("serverDate", header.into()));
    }
    options(&pairs)
}

#[test]
fn a_date_is_believed_only_when_the_fresh_token_agrees() {
    // Received at EXP - 300 on the local clock; the token was issued at EXP - 180.
    let at = |date| {
        let session =
            TokenSession::from_auth_response(auth_response(180.0), received(EXP - 300.0, date))
                .unwrap();
        (session.clock_offset_seconds(), session.clock_source())
    };
    // The server's clock is taken as a second past the whole-second Date (or iat).
    assert_eq!(at(Some(EXP - 178.0)), (123.0, "date".into()));
    // Written a little before iat (whole seconds, clocks): still believed.
    assert_eq!(at(Some(EXP - 184.0)), (117.0, "date".into()));
    // An hour behind would send expired tokens for an hour: the token's iat instead.
    assert_eq!(at(Some(EXP - 3780.0)), (121.0, "iat".into()));
    // At or past exp would make every fresh token look expired (and renew forever).
    assert_eq!(at(Some(EXP)), (121.0, "iat".into()));
    assert_eq!(at(Some(EXP + 3600.0)), (121.0, "iat".into()));
    assert_eq!(at(None), (121.0, "iat".into()));
}

#[test]
fn the_margin_is_taken_from_exp_and_the_leeway_added_to_it() {
    let fresh = |lifetime: f64, extra: &[(&str, JsValue)]| {
        let mut pairs = vec![("now", JsValue::from(EXP - lifetime))];
        pairs.extend(extra.iter().cloned());
        TokenSession::from_auth_response(auth_response(lifetime), options(&pairs)).unwrap()
    };
    // Judged on the server's clock: a second past the local one here (iat's rounding).
    let until = |session: &TokenSession, at: f64| {
        session
            .seconds_until_refresh(JsValue::from(at - 1.0))
            .unwrap()
    };
    // 30 s, or a fifth of the lifetime if that is less.
    assert_eq!(until(&fresh(180.0, &[]), EXP - 180.0), 150.0);
    assert_eq!(until(&fresh(60.0, &[]), EXP - 60.0), 48.0);
    assert_eq!(
        until(
            &fresh(180.0, &[("refreshMarginSeconds", 5.into())]),
            EXP - 180.0
        ),
        175.0
    );
    assert_eq!(until(&fresh(180.0, &[]), EXP - 10.0), 0.0, "due");
    // The leeway lets the server accept a little after exp; it never delays a refresh.
    let lenient = fresh(180.0, &[("leewaySeconds", 60.into())]);
    assert_eq!(until(&lenient, EXP - 180.0), 150.0);
    assert!(!lenient.is_expired(JsValue::from(EXP + 58.0)).unwrap());
    assert!(lenient.is_expired(JsValue::from(EXP + 59.0)).unwrap());
    for bad in [JsValue::from(-1), JsValue::from(f64::NAN), "5".into()] {
        let error = TokenSession::from_auth_response(
            auth_response(180.0),
            options(&[("refreshMarginSeconds", bad)]),
        )
        .err()
        .unwrap();
        assert_eq!(code(error), "ERR_INVALID_ARGUMENT");
    }
}

#[test]
async fn concurrent_callers_share_one_refresh_ahead_of_expiry() {
    let server = server();
    let session = session(&server, 10.0, false, "single-flight");
    assert_eq!(session.refresh_delivery(), "body");
    let events = listen(&session);
    let before = session.token();
    let waiting: Vec<Promise> = (0..5)
        .map(|_| session.get_access_token())
        .chain((0..3).map(|_| session.fetch("/api/v3/secret".into(), JsValue::UNDEFINED)))
        .collect();
    let results = settle(Promise::all(&waiting.into_iter().collect::<Array>()))
        .await
        .unwrap();
    assert_eq!(
        number(&server, "refreshes"),
        1.0,
        "one refresh for eight callers"
    );
    let after = session.token();
    assert_ne!(after, before);
    let results: Array = results.dyn_into().unwrap();
    for token in results.iter().take(5) {
        assert_eq!(token.as_string().unwrap(), after);
    }
    let bearer = Some(format!("Bearer {after}"));
    assert_eq!(
        calls(&server, "/api/v3/secret"),
        vec![("GET".into(), bearer); 3]
    );
    let refresh = get(&get(&server, "calls"), "0");
    assert_eq!(get(&refresh, "method").as_string().unwrap(), "POST");
    assert_eq!(
        get(&refresh, "body").as_string().unwrap(),
        r#"{"refresh_token":"jwtr_0"}"#
    );
    assert_eq!(recorded(&events), ["refreshed:this-tab"]);
    // Fresh now: no refresh. Forced: the rotated refresh token is the one sent.
    settle(session.get_access_token()).await.unwrap();
    assert_eq!(number(&server, "refreshes"), 1.0);
    settle(session.refresh()).await.unwrap();
    let calls: Array = get(&server, "calls").dyn_into().unwrap();
    let last = calls.get(calls.length() - 1);
    assert_eq!(
        get(&last, "body").as_string().unwrap(),
        r#"{"refresh_token":"jwtr_2"}"#
    );
}

#[test]
async fn a_401_for_expiry_is_refreshed_and_retried_once_for_idempotent_methods() {
    let server = server();
    let session = session(&server, 50.0, false, "retry");
    let expired = r#"[401, {"code": "ERR_JWT_EXPIRED", "message": "expired"}]"#;
    script(&server, "/x", expired);
    let response = settle(session.fetch("/x".into(), JsValue::UNDEFINED))
        .await
        .unwrap();
    assert_eq!(number(&response, "status"), 200.0);
    assert_eq!(number(&server, "refreshes"), 1.0);
    let sent = calls(&server, "/x");
    assert_eq!(sent.len(), 2);
    assert_ne!(sent[0].1, sent[1].1, "retried with the new token");
    // Twice expired: one retry only, then the server's error.
    script(&server, "/x", expired);
    script(&server, "/x", expired);
    let error = settle(session.fetch("/x".into(), JsValue::UNDEFINED))
        .await
        .unwrap_err();
    assert_eq!(code(error), "ERR_JWT_EXPIRED");
    assert_eq!(calls(&server, "/x").len(), 4);
    // A POST is not repeated.
    script(&server, "/x", expired);
    let post = options(&[("method", "POST".into())]);
    let error = settle(session.fetch("/x".into(), post)).await.unwrap_err();
    assert_eq!(code(error), "ERR_JWT_EXPIRED");
    assert_eq!(calls(&server, "/x").len(), 5);
    assert_eq!(number(&server, "refreshes"), 2.0);
}

#[test]
async fn the_token_goes_only_to_the_page_origin_or_an_allowed_one() {
    let server = server();
    let session = session(&server, 50.0, false, "origins");
    for url in [
        "https://evil.example/x",
        "https://evil.example:443/x",
        "//evil.example/x",
    ] {
        let error = settle(session.fetch(url.into(), JsValue::UNDEFINED))
            .await
            .unwrap_err();
        let code = code(error);
        assert!(
            code == "ERR_ORIGIN_NOT_ALLOWED"
                || (url.starts_with("//") && code == "ERR_INVALID_ARGUMENT"),
            "{url}: {code}"
        );
    }
    assert_eq!(
        number(&get(&server, "calls"), "length"),
        0.0,
        "nothing sent"
    );
    // The page's own origin (a path), and listed origins exactly.
    let allowed = TokenSession::from_auth_response(
        options(&[(
            "data",
            options(&[
                ("token", mint(&server, 50.0)),
                ("refresh_token", "r".into()),
            ]),
        )]),
        options(&[
            ("fetch", get(&server, "fetch")),
            (
                "allowedOrigins",
                Array::of1(&"https://api.example".into()).into(),
            ),
        ]),
    )
    .unwrap();
    for url in ["/x", "https://api.example/x"] {
        settle(allowed.fetch(url.into(), JsValue::UNDEFINED))
            .await
            .unwrap();
    }
    let error = settle(allowed.fetch("https://api.example.evil/x".into(), JsValue::UNDEFINED))
        .await
        .unwrap_err();
    assert_eq!(code(error), "ERR_ORIGIN_NOT_ALLOWED");
    let sent = calls(&server, "/x");
    assert_eq!(sent.len(), 2);
    assert!(sent.iter().all(|(_, bearer)| bearer.is_some()));
    // An entry must be an origin, nothing more.
    for entry in ["https://api.example/path", "api.example", "*"] {
        let error = TokenSession::new(
            mint(&server, 50.0),
            options(&[("allowedOrigins", Array::of1(&entry.into()).into())]),
        )
        .err()
        .unwrap();
        assert_eq!(code(error), "ERR_INVALID_ARGUMENT", "{entry}");
    }
}

#[test]
async fn a_refused_refresh_ends_the_session_and_a_failed_one_keeps_a_good_token() {
    let server = server();
    let session = session(&server, 10.0, false, "failures");
    let events = listen(&session);
    let before = session.token();
    // A network error: the token (10 s left) is still good, and used.
    script(&server, "/api/v3/auth/refresh", "throw");
    let token = settle(session.get_access_token()).await.unwrap();
    assert_eq!(token.as_string().unwrap(), before);
    // A server error: refused for now, not for good.
    script(
        &server,
        "/api/v3/auth/refresh",
        r#"[503, {"code": "ERR_STORE_UNAVAILABLE", "message": "later"}]"#,
    );
    settle(session.get_access_token()).await.unwrap();
    // Reuse detected: the session is over, here and for every later call.
    script(
        &server,
        "/api/v3/auth/refresh",
        r#"[401, {"code": "ERR_REFRESH_TOKEN_REUSED", "message": "reused"}]"#,
    );
    let error = settle(session.get_access_token()).await.unwrap_err();
    assert_eq!(code(error), "ERR_REFRESH_TOKEN_REUSED");
    assert!(session.ended());
    let error = settle(session.fetch("/x".into(), JsValue::UNDEFINED))
        .await
        .unwrap_err();
    assert_eq!(code(error), "ERR_SESSION_ENDED");
    assert_eq!(
        recorded(&events),
        [
            "refreshfailed:network",
            "refreshfailed:network",
            "loggedout:reused"
        ]
    );
    assert!(calls(&server, "/x").is_empty());
}

#[test]
async fn expiry_handling_is_called_once_however_many_requests_wait() {
    let server = server();
    let counter = Array::new();
    let fresh = mint(&server, 50.0);
    let on_expired = Function::new_with_args("counter, fresh", "return () => { counter.push(1); return new Promise((r) => setTimeout(() => r(fresh), 20)); };")
        .call2(&JsValue::NULL, &counter, &fresh)
        .unwrap();
    let expired = mint(&server, -5.0);
    let session = TokenSession::new(
        expired,
        options(&[("onExpired", on_expired), ("fetch", get(&server, "fetch"))]),
    )
    .unwrap();
    let waiting: Array = (0..4)
        .map(|_| JsValue::from(session.fetch("/x".into(), JsValue::UNDEFINED)))
        .collect();
    settle(Promise::all(&waiting)).await.unwrap();
    assert_eq!(counter.length(), 1);
    let bearer = Some(format!("Bearer {}", fresh.as_string().unwrap()));
    assert_eq!(calls(&server, "/x"), vec![("GET".into(), bearer); 4]);
}

#[test]
async fn logout_ends_the_session_at_the_server_and_here() {
    let server = server();
    let session = session(&server, 50.0, false, "logout");
    let events = listen(&session);
    let token = session.token();
    settle(session.logout()).await.unwrap();
    assert_eq!(
        calls(&server, "/api/v3/auth/logout"),
        vec![("POST".into(), Some(format!("Bearer {token}")))]
    );
    assert!(session.ended());
    assert_eq!(recorded(&events), ["loggedout:local"]);
    let error = settle(session.get_access_token()).await.unwrap_err();
    assert_eq!(code(error), "ERR_SESSION_ENDED");
    settle(session.logout()).await.unwrap();
    assert_eq!(calls(&server, "/logout").len(), 1, "once");
}

#[test]
async fn a_refresh_answered_after_logout_leaves_the_session_ended() {
    let server = server();
    let session = session(&server, 50.0, false, "late-answer");
    let events = listen(&session);
    let refreshing = session.refresh(); // the server answers after 20 ms
    settle(session.logout()).await.unwrap();
    let error = settle(refreshing).await.unwrap_err();
    assert_eq!(code(error), "ERR_SESSION_ENDED");
    assert_eq!(number(&server, "refreshes"), 1.0);
    assert!(session.ended());
    assert_eq!(recorded(&events), ["loggedout:local"], "no refreshed event");
    let error = settle(session.get_access_token()).await.unwrap_err();
    assert_eq!(code(error), "ERR_SESSION_ENDED");
}

#[test]
async fn tabs_share_one_cookie_session() {
    let server = server();
    let a = session(&server, 10.0, true, "tabs");
    let b = session(&server, 10.0, true, "tabs");
    assert_eq!(a.refresh_delivery(), "cookie");
    let (a_events, b_events) = (listen(&a), listen(&b));
    settle(a.get_access_token()).await.unwrap();
    let refresh = get(&get(&server, "calls"), "0");
    assert_eq!(get(&refresh, "credentials").as_string().unwrap(), "include");
    assert_eq!(get(&refresh, "csrf").as_string().unwrap(), "1");
    assert!(get(&refresh, "body").is_null(), "nothing but the cookie");
    // The other tab takes the new token instead of refreshing.
    sleep(50).await;
    assert_eq!(b.token(), a.token());
    assert_eq!(recorded(&b_events), ["refreshed:other-tab"]);
    settle(b.get_access_token()).await.unwrap();
    assert_eq!(number(&server, "refreshes"), 1.0);

    // Both due at once: one refresh with the Web Locks API, one per tab without it.
    let c = session(&server, 10.0, true, "tabs-at-once");
    let d = session(&server, 10.0, true, "tabs-at-once");
    let both = Array::of2(&c.get_access_token(), &d.get_access_token());
    settle(Promise::all(&both)).await.unwrap();
    let locks = get(&js_sys::global(), "navigator")
        .dyn_into::<Object>()
        .ok()
        .is_some_and(|n| !get(&n, "locks").is_undefined());
    let expected = if locks { 2.0 } else { 3.0 };
    assert_eq!(number(&server, "refreshes"), expected, "Web Locks: {locks}");
    sleep(50).await;
    if locks {
        assert_eq!(c.token(), d.token());
    }

    // Logout in one tab ends the other.
    settle(a.logout()).await.unwrap();
    sleep(50).await;
    assert!(b.ended());
    assert_eq!(
        recorded(&a_events),
        ["refreshed:this-tab", "loggedout:local"]
    );
    assert_eq!(
        recorded(&b_events),
        ["refreshed:other-tab", "loggedout:other-tab"]
    );
    for session in [a, b, c, d] {
        session.close();
    }
}

/// Holds the Web Lock `name` from outside any session (a tab that hung while refreshing)
/// until the returned function is called; `null` where there is no Web Locks API.
const HOLD_LOCK: &str = r#"
const locks = globalThis.navigator?.locks;
if (!locks) return Promise.resolve(null);
let release;
const held = new Promise((resolve) => { release = resolve; });
return new Promise((acquired) => {
  locks.request(name, () => { acquired(); return held; });
}).then(() => release);
"#;

#[test]
async fn a_tab_waiting_past_the_lock_timeout_refreshes_alone() {
    let server = server();
    let token = mint(&server, 10.0);
    Reflect::set(&server, &"cookie".into(), &true.into()).unwrap();
    let session = TokenSession::from_auth_response(
        options(&[(
            "data",
            options(&[
                ("token", token),
                ("refresh_token_delivery", "cookie".into()),
            ]),
        )]),
        options(&[
            ("fetch", get(&server, "fetch")),
            ("serverDate", (Date::now() / 1000.0).into()),
            ("channelName", "stuck-lock".into()),
            ("lockTimeoutMs", 300.into()),
        ]),
    )
    .unwrap();
    let hold = Function::new_with_args("name", HOLD_LOCK);
    let release = settle(
        hold.call1(&JsValue::NULL, &"stuck-lock".into())
            .unwrap()
            .dyn_into()
            .unwrap(),
    )
    .await
    .unwrap();
    let in_node = get(&js_sys::global(), "window").is_undefined();
    assert!(
        !release.is_null() || in_node,
        "browsers have the Web Locks API"
    );
    let (before, started) = (session.token(), Date::now());
    settle(session.get_access_token()).await.unwrap();
    let waited = Date::now() - started;
    assert_eq!(number(&server, "refreshes"), 1.0, "it refreshed on its own");
    assert_ne!(session.token(), before);
    if let Ok(release) = release.dyn_into::<Function>() {
        // It waited for the lock as long as it was told, then no longer.
        assert!((290.0..3000.0).contains(&waited), "{waited} ms");
        release.call0(&JsValue::NULL).unwrap();
    }
    session.close();
}

#[test]
async fn a_revoked_token_ends_the_session_in_every_tab() {
    let server = server();
    let a = session(&server, 50.0, true, "revoked-tabs");
    let b = session(&server, 50.0, true, "revoked-tabs");
    let (a_events, b_events) = (listen(&a), listen(&b));
    script(
        &server,
        "/x",
        r#"[401, {"code": "ERR_JWT_REVOKED", "message": "the token has been revoked"}]"#,
    );
    let error = settle(a.fetch("/x".into(), JsValue::UNDEFINED))
        .await
        .unwrap_err();
    assert_eq!(code(error), "ERR_JWT_REVOKED");
    sleep(50).await;
    assert!(a.ended() && b.ended(), "the session ended in both tabs");
    assert_eq!(recorded(&a_events), ["loggedout:revoked"]);
    assert_eq!(recorded(&b_events), ["loggedout:other-tab"]);
    // Neither tab sends its token again.
    for tab in [&a, &b] {
        assert_eq!(
            code(
                settle(tab.fetch("/x".into(), JsValue::UNDEFINED))
                    .await
                    .unwrap_err()
            ),
            "ERR_SESSION_ENDED"
        );
    }
    assert_eq!(calls(&server, "/x").len(), 1);
    a.close();
    b.close();
}

#[test]
async fn a_tab_opening_takes_the_current_token_of_an_open_tab_or_refreshes_with_the_cookie() {
    let server = server();
    Reflect::set(&server, &"cookie".into(), &true.into()).unwrap();
    // Paths, which a DPoP proof cannot name outside a page: a bearer session (the package's
    // Node.js tests prove keys).
    let resume = |channel: &str| {
        TokenSession::resume(options(&[
            ("fetch", get(&server, "fetch")),
            ("channelName", channel.into()),
            ("dpop", false.into()),
        ]))
    };
    // No tab open: one refresh with the cookie.
    let first: TokenSession =
        TokenSession::try_from_js_value(settle(resume("opening")).await.unwrap()).unwrap();
    assert_eq!(number(&server, "refreshes"), 1.0);
    assert_eq!(first.refresh_delivery(), "cookie");
    assert_eq!(first.clock_source(), "iat");
    let refresh = get(&get(&server, "calls"), "0");
    assert_eq!(get(&refresh, "credentials").as_string().unwrap(), "include");
    assert_eq!(get(&refresh, "csrf").as_string().unwrap(), "1");

    // A second tab: the first one's token and clock offset, no rotation.
    let second: TokenSession =
        TokenSession::try_from_js_value(settle(resume("opening")).await.unwrap()).unwrap();
    assert_eq!(number(&server, "refreshes"), 1.0, "no second rotation");
    assert_eq!(second.token(), first.token());
    assert_eq!(second.clock_source(), "tab");
    assert_eq!(second.clock_offset_seconds(), first.clock_offset_seconds());

    // An ended tab answers nothing; with no session at all, the server's refusal.
    settle(first.logout()).await.unwrap();
    second.close();
    script(
        &server,
        "/api/v3/auth/refresh",
        r#"[400, {"code": "ERR_REFRESH_TOKEN_MISSING", "message": "no refresh token"}]"#,
    );
    let error = settle(resume("opening")).await.unwrap_err();
    assert_eq!(code(error), "ERR_REFRESH_TOKEN_MISSING");
    first.close();
}

#[test]
async fn resuming_sends_the_cookie_only_to_an_allowed_origin() {
    let server = server();
    Reflect::set(&server, &"cookie".into(), &true.into()).unwrap();
    let resume = |url: &str| {
        TokenSession::resume(options(&[
            ("fetch", get(&server, "fetch")),
            ("channelName", "resume-origin".into()),
            ("refreshUrl", url.into()),
            (
                "allowedOrigins",
                Array::of1(&"https://api.example".into()).into(),
            ),
        ]))
    };
    let error = settle(resume("https://evil.example/api/v3/auth/refresh"))
        .await
        .unwrap_err();
    assert_eq!(code(error), "ERR_ORIGIN_NOT_ALLOWED");
    assert_eq!(
        number(&get(&server, "calls"), "length"),
        0.0,
        "refused before the first credentialed request"
    );
    let allowed: TokenSession = TokenSession::try_from_js_value(
        settle(resume("https://api.example/api/v3/auth/refresh"))
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(number(&server, "refreshes"), 1.0);
    allowed.close();
}
