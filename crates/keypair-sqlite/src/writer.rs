//! The store's one writer: a thread with a connection of its own that commits the writes
//! waiting for it in groups, one transaction and one fsync per group (group commit).
//!
//! Why: SQLite has one writer at a time. With every connection thread free to write, the
//! losers of the write lock waited in SQLite's busy handler, which sleeps for 1 to 100 ms
//! at a time, and each write paid its own fsync: under a mix of reads and writes, writes
//! took 16 ms at the median and held up the reads queued behind them
//! (docs/benchmarks.md). One writer never waits for the lock inside this process, and a
//! group of N writes pays one fsync.
//!
//! Each write runs in a savepoint of its own inside the group's `BEGIN IMMEDIATE`
//! transaction: a write that fails is rolled back to its savepoint alone, so every write
//! is still all or nothing, and the writes of a group run one after another, as they
//! would one transaction each. No answer is sent before the group's `COMMIT` returns, so
//! an acknowledged write is as durable as before; if the commit fails, every write of the
//! group fails with its error and none of them took effect.

use crate::{Pool, SqliteTx};
use futures_channel::oneshot;
use keypair_core::StoreError;
use keypair_sql::Tx;
use rusqlite::Connection;
use std::panic::AssertUnwindSafe;
use std::sync::mpsc::Receiver;
use std::sync::Arc;

/// Most writes committed in one group: enough to fill an fsync, few enough that one
/// group's transaction stays short.
pub(crate) const GROUP_LIMIT: usize = 64;

/// A write waiting for the writer.
pub(crate) trait Write: Send {
    /// Runs the write inside the group's transaction; whether it succeeded (a failed
    /// write is rolled back to its savepoint).
    fn run(&mut self, tx: &mut dyn Tx) -> bool;
    /// Sends the write's answer: its own outcome if the group committed, else the
    /// group's error.
    fn finish(self: Box<Self>, group: Result<(), &str>);
}

/// A write and where its answer goes.
pub(crate) struct Pending<T, F> {
    write: Option<F>,
    outcome: Option<Result<T, StoreError>>,
    reply: Option<oneshot::Sender<Result<T, StoreError>>>,
}

impl<T, F> Pending<T, F> {
    /// `write`, answering on `reply`.
    pub(crate) fn new(write: F, reply: oneshot::Sender<Result<T, StoreError>>) -> Self {
        Pending {
            write: Some(write),
            outcome: None,
            reply: Some(reply),
        }
    }
}

impl<T, F> Write for Pending<T, F>
where
    T: Send,
    F: FnOnce(&mut dyn Tx) -> Result<T, StoreError> + Send,
{
    fn run(&mut self, tx: &mut dyn Tx) -> bool {
        let Some(write) = self.write.take() else {
            return false;
        };
        let outcome = write(tx);
        let ok = outcome.is_ok();
        self.outcome = Some(outcome);
        ok
    }

    fn finish(mut self: Box<Self>, group: Result<(), &str>) {
        let answer = match (group, self.outcome.take()) {
            (Ok(()), Some(outcome)) => outcome,
            (Err(e), _) => Err(StoreError::backend(e.to_owned())),
            (Ok(()), None) => Err(StoreError::backend("the write did not run")),
        };
        if let Some(reply) = self.reply.take() {
            let _ = reply.send(answer);
        }
    }
}

/// Runs one statement through the connection's statement cache.
fn exec(conn: &Connection, sql: &str) -> Result<(), String> {
    conn.prepare_cached(sql)
        .and_then(|mut s| s.execute([]))
        .map(drop)
        .map_err(|e| e.to_string())
}

/// Runs `group` in one transaction, each write in its own savepoint, and commits.
fn commit_group(
    pool: &Pool,
    slot: &mut Option<Connection>,
    group: &mut [Box<dyn Write>],
) -> Result<(), String> {
    let conn = pool.connection(slot).map_err(|e| e.to_string())?;
    exec(conn, "BEGIN IMMEDIATE")?;
    let run = |conn: &mut Connection, group: &mut [Box<dyn Write>]| -> Result<(), String> {
        for write in group.iter_mut() {
            exec(conn, "SAVEPOINT write")?;
            if !write.run(&mut SqliteTx { conn }) {
                exec(conn, "ROLLBACK TO write")?;
            }
            exec(conn, "RELEASE write")?;
        }
        exec(conn, "COMMIT")
    };
    run(conn, group).inspect_err(|_| {
        // A failed statement or COMMIT leaves the transaction open; end it so the
        // connection can be used again and nothing of the group remains.
        let _ = exec(conn, "ROLLBACK");
    })
}

/// The writer thread: commits groups of queued writes until every sender is gone, then
/// hands its connection back to be closed with the others.
pub(crate) fn writer_thread(
    pool: Arc<Pool>,
    queue: Receiver<Box<dyn Write>>,
) -> Option<Connection> {
    let mut conn = None;
    while let Ok(first) = queue.recv() {
        let mut group = vec![first];
        while group.len() < GROUP_LIMIT {
            match queue.try_recv() {
                Ok(write) => group.push(write),
                Err(_) => break,
            }
        }
        // A panic inside a write must not take the thread with it; the connection may
        // be mid-transaction, so drop it.
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
            commit_group(&pool, &mut conn, &mut group)
        }))
        .unwrap_or_else(|_| {
            conn = None;
            Err("a write panicked; its group was rolled back".to_owned())
        });
        for write in group {
            write.finish(outcome.as_ref().map(drop).map_err(String::as_str));
        }
    }
    conn
}
