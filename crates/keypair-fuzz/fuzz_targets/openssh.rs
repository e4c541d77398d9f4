//! Fuzz target: `keypair_http::fuzzing::openssh`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| keypair_http::fuzzing::openssh(data));
