//! The owner lock (`SqliteOptions::owner`): one process at a time serves or writes a
//! file; readers that take no lock (exports, backups) still open it.

use keypair_sqlite::{owner_lock_path, OpenError, Sqlite, SqliteOptions};

fn owned_by(who: &str) -> SqliteOptions {
    SqliteOptions {
        owner: Some(who.to_owned()),
        ..SqliteOptions::default()
    }
}

#[tokio::test]
async fn a_second_owner_is_refused_with_the_file_and_the_holder_named() {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let path = dir.path().join("keys.db");
    let first = Sqlite::open_with(&path, owned_by("keypaird serve"))
        .await
        .unwrap();

    let refused = Sqlite::open_with(&path, owned_by("keypaird import")).await;
    let Err(e @ OpenError::Owned { .. }) = refused else {
        panic!("a second owner was let in");
    };
    let message = e.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(
        message.contains(&format!("pid {}: keypaird serve", std::process::id())),
        "{message}"
    );

    // A reader without the lock still opens it, and the owner's lock file says who.
    let reader = Sqlite::open(&path).await.unwrap();
    drop(reader);
    let recorded = std::fs::read_to_string(owner_lock_path(&path)).unwrap();
    assert!(recorded.contains("keypaird serve"), "{recorded}");

    // Once the owner is gone, the next one gets in.
    drop(first);
    Sqlite::open_with(&path, owned_by("keypaird import"))
        .await
        .unwrap();
}
