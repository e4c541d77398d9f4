//! The fleet-wide admission ports on a real PostgreSQL: several servers (each its own
//! store and pools) sharing one database share one nonce ledger and one rate count.

use keypair_core::{AccountId, Action, NonceLedger, NonceVerdict, Product, RateCounter, RateKey};
use keypair_postgres::{test_server, PgAdmission, Postgres};
use std::sync::Arc;

/// Three "servers" on one fresh database, each with its own pools.
async fn fleet(test: &str) -> Vec<Arc<PgAdmission>> {
    let url = test_server::fresh_database(test).await;
    let mut servers = Vec::new();
    for _ in 0..3 {
        let store = Postgres::connect(&url).await.expect("connect");
        servers.push(Arc::new(store.admission().expect("admission pools")));
    }
    servers
}

keypair_postgres::postgres_test! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_nonce_is_single_use_across_servers_until_it_expires() {
        let servers = fleet("a_nonce_is_single_use_across_servers").await;
        let now = 1_800_000_000;
        // 30 concurrent uses of one nonce, spread over the three servers: one wins.
        let tries = (0..30).map(|i| {
            let server = servers[i % 3].clone();
            tokio::spawn(async move { server.record("AKIDfleet", u64::MAX, now, now + 600).await })
        });
        let mut fresh = 0;
        for t in tries {
            match t.await.expect("task").expect("ledger answers") {
                NonceVerdict::Fresh => fresh += 1,
                NonceVerdict::Replayed => {}
                other => panic!("unexpected verdict {other:?}"),
            }
        }
        assert_eq!(fresh, 1, "exactly one use of the nonce is fresh");
        // Another SecretId's same nonce is its own.
        let other = servers[1]
            .record("AKIDother", u64::MAX, now, now + 600)
            .await;
        assert_eq!(other.unwrap(), NonceVerdict::Fresh);
        // Within the window it stays used; once expired it may be used again, once.
        let still = servers[2]
            .record("AKIDfleet", u64::MAX, now + 599, now + 1199)
            .await;
        assert_eq!(still.unwrap(), NonceVerdict::Replayed);
        let again = servers[2]
            .record("AKIDfleet", u64::MAX, now + 600, now + 1200)
            .await;
        assert_eq!(again.unwrap(), NonceVerdict::Fresh);
        let replay = servers[0]
            .record("AKIDfleet", u64::MAX, now + 601, now + 1201)
            .await;
        assert_eq!(replay.unwrap(), NonceVerdict::Replayed);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_rate_holds_across_servers() {
        let servers = fleet("a_rate_holds_across_servers").await;
        let key = RateKey {
            account: AccountId::parse("1250000001").unwrap(),
            product: Product::Cvm,
            action: Action::Create,
        };
        let t0 = 1_800_000_000_000i64;
        // 30 concurrent calls in one second over three servers, against a rate of 10.
        let calls = (0..30).map(|i| {
            let (server, key) = (servers[i % 3].clone(), key.clone());
            tokio::spawn(async move { server.admit(&key, 10, t0 + i as i64).await })
        });
        let mut admitted = 0;
        for c in calls {
            admitted += usize::from(c.await.expect("task").expect("counter answers"));
        }
        assert_eq!(admitted, 10, "the fleet shares one count per second");
        // The next second has its own window; other keys have their own counts.
        assert!(servers[1].admit(&key, 10, t0 + 1000).await.unwrap());
        let other = RateKey {
            action: Action::Describe,
            ..key.clone()
        };
        assert!(servers[2].admit(&other, 10, t0).await.unwrap());
        // A server whose clock is behind counts into the newest window, not an old one.
        let mut late = 0;
        for _ in 0..12 {
            late += usize::from(servers[0].admit(&key, 10, t0 + 500).await.unwrap());
        }
        assert_eq!(late, 9, "one of the newest window's 10 was already taken");
    }
}
