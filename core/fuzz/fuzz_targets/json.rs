//! `cargo fuzz run json`: see `jwtkit_core::fuzzing::json`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| jwtkit_core::fuzzing::json(data));
