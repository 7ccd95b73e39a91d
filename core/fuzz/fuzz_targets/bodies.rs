//! `cargo fuzz run bodies`: see `jwtkit_server::fuzzing::bodies`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| jwtkit_server::fuzzing::bodies(data));
