//! `cargo fuzz run base64url`: see `jwtkit_core::fuzzing::base64url`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| jwtkit_core::fuzzing::base64url(data));
