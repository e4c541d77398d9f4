//! Fuzz target: `keypair_wire::fuzzing::openssh`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| keypair_wire::fuzzing::openssh(data));
