//! `cargo fuzz run jwk`: see `jwtkit_core::fuzzing::jwk`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| jwtkit_core::fuzzing::jwk(data));
