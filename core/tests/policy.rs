//! Every rule of the validation policy, each asserting the specific error code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use common::{at, token};
use jwtkit_core::{ClaimsError, ParseOptions, Validation, dangerous};

const NOW: i64 = 1_700_000_000;

/// Validates `payload` (with header `header`) under `policy` at `now`; "OK" or the code.
fn check_at(policy: &Validation, header: &str, payload: &str, now: i64) -> &'static str {
    let decoded =
        dangerous::decode_unverified(&token(header, payload), &ParseOptions::default()).unwrap();
    match policy.validate(decoded.header(), decoded.claims(), at(now)) {
        Ok(()) => "OK",
        Err(e) => e.code(),
    }
}

fn check(policy: &Validation, payload: &str) -> &'static str {
    check_at(policy, r#"{"alg":"HS256"}"#, payload, NOW)
}

fn strict() -> Validation {
    Validation::builder().build().unwrap()
}

#[test]
fn exp_is_required_unless_waived() {
    assert_eq!(check(&strict(), "{}"), "ERR_JWT_CLAIM_MISSING");
    let waived = Validation::builder()
        .allow_missing_expiration()
        .build()
        .unwrap();
    assert_eq!(check(&waived, "{}"), "OK");
    // Waiving the requirement does not waive the check.
    assert_eq!(check(&waived, r#"{"exp":1}"#), "ERR_JWT_EXPIRED");
}

#[test]
fn exp_boundaries() {
    let policy = strict();
    let exp = format!(r#"{{"exp":{NOW}}}"#);
    assert_eq!(check_at(&policy, r#"{"alg":"HS256"}"#, &exp, NOW - 1), "OK");
    assert_eq!(
        check_at(&policy, r#"{"alg":"HS256"}"#, &exp, NOW),
        "ERR_JWT_EXPIRED",
        "now == exp is expired"
    );
    let lenient = Validation::builder().leeway_seconds(30).build().unwrap();
    assert_eq!(
        check_at(&lenient, r#"{"alg":"HS256"}"#, &exp, NOW + 29),
        "OK"
    );
    assert_eq!(
        check_at(&lenient, r#"{"alg":"HS256"}"#, &exp, NOW + 30),
        "ERR_JWT_EXPIRED",
        "now == exp + leeway"
    );
    // Fractional NumericDates are honoured.
    let frac = format!(r#"{{"exp":{NOW}.5}}"#);
    assert_eq!(check_at(&policy, r#"{"alg":"HS256"}"#, &frac, NOW), "OK");
}

#[test]
fn expired_error_carries_context_but_no_token() {
    let decoded = dangerous::decode_unverified(
        &token(r#"{"alg":"HS256"}"#, r#"{"exp":10}"#),
        &ParseOptions::default(),
    )
    .unwrap();
    let err = strict()
        .validate(decoded.header(), decoded.claims(), at(20))
        .unwrap_err();
    assert_eq!(
        err,
        ClaimsError::Expired {
            exp: at(10),
            now: at(20)
        }
    );
    assert_eq!(
        err.to_string(),
        "token expired: \"exp\" is 10, the time is 20"
    );
}

#[test]
fn nbf_boundaries() {
    let nbf = format!(r#"{{"exp":{},"nbf":{NOW}}}"#, NOW + 100);
    let policy = strict();
    assert_eq!(
        check_at(&policy, r#"{"alg":"HS256"}"#, &nbf, NOW),
        "OK",
        "now == nbf is valid"
    );
    assert_eq!(
        check_at(&policy, r#"{"alg":"HS256"}"#, &nbf, NOW - 1),
        "ERR_JWT_NOT_YET_VALID"
    );
    let lenient = Validation::builder().leeway_seconds(5).build().unwrap();
    assert_eq!(
        check_at(&lenient, r#"{"alg":"HS256"}"#, &nbf, NOW - 5),
        "OK",
        "now == nbf - leeway"
    );
    assert_eq!(
        check_at(&lenient, r#"{"alg":"HS256"}"#, &nbf, NOW - 6),
        "ERR_JWT_NOT_YET_VALID"
    );
}

#[test]
fn iat_in_the_future_is_rejected() {
    let iat = format!(r#"{{"exp":{},"iat":{}}}"#, NOW + 100, NOW + 1);
    assert_eq!(check(&strict(), &iat), "ERR_JWT_ISSUED_IN_FUTURE");
    let lenient = Validation::builder().leeway_seconds(1).build().unwrap();
    assert_eq!(check(&lenient, &iat), "OK");
    assert_eq!(
        check(&strict(), &format!(r#"{{"exp":{},"iat":{NOW}}}"#, NOW + 1)),
        "OK"
    );
}

#[test]
fn issuer_expectation() {
    let exp = NOW + 60;
    let policy = Validation::builder()
        .expect_issuer("https://auth.example")
        .build()
        .unwrap();
    assert_eq!(
        check(
            &policy,
            &format!(r#"{{"exp":{exp},"iss":"https://auth.example"}}"#)
        ),
        "OK"
    );
    assert_eq!(
        check(&policy, &format!(r#"{{"exp":{exp}}}"#)),
        "ERR_JWT_CLAIM_MISSING"
    );
    assert_eq!(
        check(
            &policy,
            &format!(r#"{{"exp":{exp},"iss":"https://AUTH.example"}}"#)
        ),
        "ERR_JWT_ISSUER_MISMATCH"
    );
    assert_eq!(
        check(
            &policy,
            &format!(r#"{{"exp":{exp},"iss":"https://auth.example/"}}"#)
        ),
        "ERR_JWT_ISSUER_MISMATCH"
    );
    // Not expected: a token naming an issuer is refused unless the issuer is ignored.
    assert_eq!(
        check(&strict(), &format!(r#"{{"exp":{exp},"iss":"x"}}"#)),
        "ERR_JWT_ISSUER_UNEXPECTED"
    );
    let ignoring = Validation::builder().ignore_issuer().build().unwrap();
    assert_eq!(
        check(&ignoring, &format!(r#"{{"exp":{exp},"iss":"x"}}"#)),
        "OK"
    );
}

#[test]
fn audience_expectation() {
    let exp = NOW + 60;
    let policy = Validation::builder()
        .expect_audience("api")
        .build()
        .unwrap();
    assert_eq!(
        check(&policy, &format!(r#"{{"exp":{exp},"aud":"api"}}"#)),
        "OK"
    );
    assert_eq!(
        check(&policy, &format!(r#"{{"exp":{exp},"aud":["web","api"]}}"#)),
        "OK"
    );
    assert_eq!(
        check(&policy, &format!(r#"{{"exp":{exp}}}"#)),
        "ERR_JWT_CLAIM_MISSING"
    );
    assert_eq!(
        check(&policy, &format!(r#"{{"exp":{exp},"aud":["web"]}}"#)),
        "ERR_JWT_AUDIENCE_MISMATCH"
    );
    assert_eq!(
        check(&policy, &format!(r#"{{"exp":{exp},"aud":"API"}}"#)),
        "ERR_JWT_AUDIENCE_MISMATCH"
    );
    // RFC 7519 §4.1.3: a token with an audience is refused where none is expected.
    assert_eq!(
        check(&strict(), &format!(r#"{{"exp":{exp},"aud":"api"}}"#)),
        "ERR_JWT_AUDIENCE_UNEXPECTED"
    );
    let ignoring = Validation::builder().ignore_audience().build().unwrap();
    assert_eq!(
        check(&ignoring, &format!(r#"{{"exp":{exp},"aud":"api"}}"#)),
        "OK"
    );
}

#[test]
fn type_expectation_is_a_media_type_comparison() {
    let payload = format!(r#"{{"exp":{}}}"#, NOW + 60);
    let policy = Validation::builder().expect_type("at+jwt").build().unwrap();
    for typ in [
        "at+jwt",
        "AT+JWT",
        "application/at+jwt",
        "Application/At+Jwt",
    ] {
        let header = format!(r#"{{"alg":"HS256","typ":"{typ}"}}"#);
        assert_eq!(check_at(&policy, &header, &payload, NOW), "OK", "{typ}");
    }
    for typ in [
        "JWT",
        "jwt",
        "application/jwt",
        "at+jwt ",
        "x/at+jwt",
        "id_token+jwt",
    ] {
        let header = format!(r#"{{"alg":"HS256","typ":"{typ}"}}"#);
        assert_eq!(
            check_at(&policy, &header, &payload, NOW),
            "ERR_JWT_TYPE_MISMATCH",
            "{typ}"
        );
    }
    assert_eq!(
        check_at(&policy, r#"{"alg":"HS256"}"#, &payload, NOW),
        "ERR_JWT_TYPE_MISMATCH",
        "missing typ"
    );
    assert_eq!(
        check_at(&strict(), r#"{"alg":"HS256","typ":"JWT"}"#, &payload, NOW),
        "ERR_JWT_TYPE_UNEXPECTED"
    );
    let ignoring = Validation::builder().ignore_type().build().unwrap();
    assert_eq!(
        check_at(&ignoring, r#"{"alg":"HS256","typ":"JWT"}"#, &payload, NOW),
        "OK"
    );
}

#[test]
fn required_claims() {
    let policy = Validation::builder()
        .require_claim("sub")
        .require_claim("roles")
        .build()
        .unwrap();
    let exp = NOW + 60;
    assert_eq!(
        check(&policy, &format!(r#"{{"exp":{exp},"sub":"a","roles":[]}}"#)),
        "OK"
    );
    assert_eq!(
        check(&policy, &format!(r#"{{"exp":{exp},"roles":[]}}"#)),
        "ERR_JWT_CLAIM_MISSING"
    );
    assert_eq!(
        check(&policy, &format!(r#"{{"exp":{exp},"sub":"a"}}"#)),
        "ERR_JWT_CLAIM_MISSING"
    );
}

#[test]
fn builder_refuses_inconsistent_policies() {
    let code = |r: Result<Validation, jwtkit_core::PolicyError>| r.unwrap_err().code();
    assert_eq!(
        code(Validation::builder().leeway_seconds(601).build()),
        "ERR_POLICY_INVALID"
    );
    assert!(Validation::builder().leeway_seconds(600).build().is_ok());
    assert_eq!(
        code(Validation::builder().expect_issuer("").build()),
        "ERR_POLICY_INVALID"
    );
    assert_eq!(
        code(Validation::builder().expect_audience("").build()),
        "ERR_POLICY_INVALID"
    );
    assert_eq!(
        code(Validation::builder().expect_type("").build()),
        "ERR_POLICY_INVALID"
    );
    assert_eq!(
        code(Validation::builder().require_claim("").build()),
        "ERR_POLICY_INVALID"
    );
    assert_eq!(
        code(Validation::builder().max_token_bytes(0).build()),
        "ERR_POLICY_INVALID"
    );
}

#[test]
fn unverified_expiry_helpers_use_the_same_rule() {
    let decoded = dangerous::decode_unverified(
        &token(r#"{"alg":"HS256"}"#, r#"{"exp":100}"#),
        &ParseOptions::default(),
    )
    .unwrap();
    assert_eq!(decoded.is_expired(at(99), 0), Ok(false));
    assert_eq!(decoded.is_expired(at(100), 0), Ok(true));
    assert_eq!(decoded.is_expired(at(100), 1), Ok(false));
    assert_eq!(decoded.is_expired(at(101), 1), Ok(true));
    // A leeway of 10 000 s is taken as 600 s: expired from exp + 600 on, not exp + 10 000.
    assert_eq!(decoded.is_expired(at(100 + 599), 10_000), Ok(false));
    assert_eq!(
        decoded.is_expired(at(100 + 600), 10_000),
        Ok(true),
        "leeway is capped at 600 s"
    );
    assert_eq!(
        decoded.check_expiry(at(100), 0).unwrap_err().code(),
        "ERR_JWT_EXPIRED"
    );
    assert_eq!(decoded.seconds_until_expiry(at(40)), Some(60.0));
    assert_eq!(decoded.seconds_until_expiry(at(160)), Some(-60.0));
    let no_exp =
        dangerous::decode_unverified(&token(r#"{"alg":"HS256"}"#, "{}"), &ParseOptions::default())
            .unwrap();
    // Without exp a token is not "unexpired": the policy the server applies requires it.
    assert_eq!(
        no_exp.is_expired(at(NOW), 0).unwrap_err().code(),
        "ERR_JWT_CLAIM_MISSING"
    );
    assert_eq!(no_exp.seconds_until_expiry(at(NOW)), None);
}
