//! Replays the committed fuzz corpora and crash reproducers
//! (crates/keypair-fuzz/{corpus,artifacts}/<target>/) through the fuzz entry points, so
//! every input the fuzzer ever found interesting stays a regression test.

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) -> usize {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("../keypair-fuzz");
    let mut n = 0;
    for dir in ["corpus", "artifacts"] {
        let Ok(entries) = std::fs::read_dir(base.join(dir).join(target)) else {
            continue;
        };
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            // A live fuzzing run may remove a file between listing and reading it.
            let Ok(data) = std::fs::read(entry.path()) else {
                continue;
            };
            run(&data);
            n += 1;
        }
    }
    n
}

#[test]
fn openssh_corpus() {
    assert!(replay("openssh", keypair_wire::fuzzing::openssh) > 0);
}

#[test]
fn json_request_corpus() {
    assert!(replay("json_request", keypair_wire::fuzzing::json_request) > 0);
}

#[test]
fn form_request_corpus() {
    assert!(replay("form_request", keypair_wire::fuzzing::form_request) > 0);
}

#[test]
fn authorization_corpus() {
    assert!(replay("authorization", keypair_wire::fuzzing::authorization) > 0);
}
