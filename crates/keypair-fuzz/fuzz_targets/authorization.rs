//! Fuzz target: `keypair_wire::fuzzing::authorization`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| keypair_wire::fuzzing::authorization(data));
