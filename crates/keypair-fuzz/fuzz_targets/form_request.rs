//! Fuzz target: `keypair_wire::fuzzing::form_request`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| keypair_wire::fuzzing::form_request(data));
