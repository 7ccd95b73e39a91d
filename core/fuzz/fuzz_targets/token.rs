//! `cargo fuzz run token`: see `jwtkit_core::fuzzing::token`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| jwtkit_core::fuzzing::token(data));
