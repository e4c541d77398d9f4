//! Fuzz target: `keypair_http::fuzzing::authorization`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| keypair_http::fuzzing::authorization(data));
