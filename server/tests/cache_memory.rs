//! The verified-token cache holds to its budget in bytes: measured with a counting allocator
//! (this test binary's global one), the heap an authenticator keeps after far more tokens than fit
//! stays within the budget it was given — the claims' JSON view included, which a route
//! builds when it reads a claim.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::alloc::System;
use std::sync::Arc;

use jwtkit_core::{Algorithm, FixedClock, Key, KeySet, Signer, UnixTime, Validation, Verifier};
use jwtkit_server::filters::Authenticator;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static ALLOCATOR: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const NOW: i64 = 1_800_000_000;

#[test]
fn the_cache_keeps_no_more_heap_than_its_budget() {
    let key = Key::generate(Algorithm::HS256).unwrap();
    let policy = Validation::builder()
        .expect_type("at+jwt")
        .expect_issuer("jwtkit")
        .expect_audience("jwtkit-api")
        .require_claim("sub")
        .build()
        .unwrap();
    let clock = Arc::new(FixedClock(UnixTime::from_secs(NOW).unwrap()));
    let signer = Signer::new(key.clone()).typ("at+jwt");
    // Like the tokens jwtkit issues: short ones, and some with many roles.
    let tokens: Vec<String> = (0..12_000)
        .map(|i| {
            let roles: Vec<String> = (0..i % 7 * 4).map(|r| format!("role-{r}")).collect();
            signer
                .sign(&serde_json::json!({
                    "iss": "jwtkit", "sub": format!("client-{i}"), "aud": "jwtkit-api",
                    "iat": NOW - 10, "nbf": NOW - 10, "exp": NOW + 170,
                    "jti": format!("{i:032x}"), "sid": format!("{:032x}", i * 7),
                    "roles": roles, "scope": "read write",
                }))
                .unwrap()
        })
        .collect();
    for budget in [256 << 10, 1 << 20] {
        let region = Region::new(ALLOCATOR);
        let auth = Authenticator::with_cache_budget(
            Verifier::new(KeySet::from(key.clone()), policy.clone()),
            clock.clone(),
            budget,
        );
        for token in &tokens {
            // Twice, as clients do: a token is stored at its second verification.
            for _ in 0..2 {
                let claims = auth.verify(token).unwrap();
                assert!(claims.get("roles").is_some());
            }
        }
        let stats = auth.cache_stats();
        let change = region.change();
        let kept = change.bytes_allocated - change.bytes_deallocated;
        println!("budget {budget}: {stats:?}, heap kept {kept} bytes");
        assert!(stats.bytes <= budget && stats.evictions > 0, "{stats:?}");
        assert!(
            kept <= budget,
            "{kept} bytes kept for a budget of {budget}: {stats:?}"
        );
        // And not far below it: the estimate is not wildly pessimistic.
        assert!(kept >= budget / 2, "{kept} of {budget}: {stats:?}");
    }
}
