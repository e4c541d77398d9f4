//! Where the PostgreSQL server binaries are: shared by the test server and by the build
//! script, which decides whether PostgreSQL tests run or are listed as ignored.

use std::path::PathBuf;
use std::process::Command;

/// The newest `/usr/lib/postgresql/*/bin` holding `initdb`, else `pg_config --bindir`.
pub(crate) fn bin_dir() -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").exists())
        .collect();
    candidates.sort();
    candidates.pop().or_else(|| {
        let out = Command::new("pg_config").arg("--bindir").output().ok()?;
        let dir = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
        dir.join("initdb").exists().then_some(dir)
    })
}
