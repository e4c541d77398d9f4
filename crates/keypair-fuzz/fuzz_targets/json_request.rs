//! Fuzz target: `keypair_http::fuzzing::json_request`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| keypair_http::fuzzing::json_request(data));
