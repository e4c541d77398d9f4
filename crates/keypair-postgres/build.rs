//! Decides, for the `test-server` feature, whether the PostgreSQL tests of this
//! workspace can run: with no server binaries and no `KEYPAIR_TEST_POSTGRES_URL` it sets
//! `keypair_postgres_absent`, and `postgres_test!` then marks those tests ignored, so
//! `cargo test` lists them as such instead of passing them silently. With
//! `KEYPAIR_REQUIRE_POSTGRES=1` they are never ignored, and fail without a server.

#[allow(dead_code, unreachable_pub)]
#[path = "src/pg_bin.rs"]
mod pg_bin;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(keypair_postgres_absent)");
    println!("cargo::rerun-if-env-changed=KEYPAIR_TEST_POSTGRES_URL");
    println!("cargo::rerun-if-env-changed=KEYPAIR_REQUIRE_POSTGRES");
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var_os("CARGO_FEATURE_TEST_SERVER").is_none() {
        return;
    }
    // Installing the server binaries changes this directory (or its parent, first).
    let watched = ["/usr/lib/postgresql", "/usr/lib"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists());
    if let Some(dir) = watched {
        println!("cargo::rerun-if-changed={dir}");
    }
    let required = std::env::var("KEYPAIR_REQUIRE_POSTGRES").as_deref() == Ok("1");
    let url = std::env::var_os("KEYPAIR_TEST_POSTGRES_URL").is_some();
    if !required && !url && pg_bin::bin_dir().is_none() {
        println!("cargo::rustc-cfg=keypair_postgres_absent");
    }
}
