//! Fuzz target: `keypair_wire::fuzzing::json_request`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| keypair_wire::fuzzing::json_request(data));
