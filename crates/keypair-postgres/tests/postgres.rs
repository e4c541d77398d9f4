//! PostgreSQL-specific promises: several servers (pools) starting at once on one fresh
//! database and racing on one name, and refusal of a newer schema.

use keypair_core::KeyPairStore;
use keypair_postgres::{test_server, ConnectError, Postgres, SCHEMA_VERSION};
use std::sync::Arc;

use test_server::fresh_database;

keypair_postgres::postgres_test! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn several_servers_on_one_database_admit_one_name() {
        let url = fresh_database("several_servers_on_one_database_admit_one_name").await;
        // Four servers start at once on an empty database: the migrations race too.
        let connects = (0..4).map(|_| {
            let url = url.clone();
            tokio::spawn(async move { Postgres::connect(&url).await })
        });
        let mut stores: Vec<Arc<dyn KeyPairStore>> = Vec::new();
        for c in connects {
            stores.push(Arc::new(
                c.await.expect("task").expect("connect and migrate"),
            ));
        }
        keypair_core::testkit::concurrent_inserts_across_stores_admit_one(&stores).await;
    }

    #[tokio::test]
    async fn a_newer_schema_is_refused() {
        let url = fresh_database("a_newer_schema_is_refused").await;
        drop(Postgres::connect(&url).await.expect("create schema"));
        let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .expect("connect");
        tokio::spawn(conn);
        client
            .execute(
                "INSERT INTO schema_version (version) VALUES ($1)",
                &[&(SCHEMA_VERSION + 1)],
            )
            .await
            .expect("bump");
        let err = Postgres::connect(&url).await.err().expect("must refuse");
        assert!(
            matches!(err, ConnectError::NewerSchema { found, .. } if found == SCHEMA_VERSION + 1),
            "{err}"
        );
    }
}

#[tokio::test]
async fn a_bad_url_is_reported() {
    let err = Postgres::connect("postgres://user@host:notaport/db")
        .await
        .err()
        .expect("must fail");
    assert!(matches!(err, ConnectError::Url(_)), "{err}");
}

/// Outside a tokio runtime the store says it needs one, before touching the network.
#[test]
fn outside_tokio_the_store_says_it_needs_tokio() {
    let result =
        futures::executor::block_on(Postgres::connect("postgres://nobody@127.0.0.1:1/none"));
    assert!(matches!(result, Err(ConnectError::NoTokioRuntime)));
    let message = result.err().unwrap().to_string();
    assert!(message.contains("needs a tokio runtime"), "{message}");
}

#[tokio::test]
async fn a_failed_connection_says_where_and_why_but_not_the_password() {
    // A socket directory that does not exist: nothing is created, nothing listens.
    let missing = std::env::temp_dir().join(format!("keypair-no-server-{}", std::process::id()));
    let url = format!(
        "host={} port=5999 user=keypair password=hunter2 dbname=keys",
        missing.display()
    );
    let Err(e) = Postgres::connect(&url).await else {
        panic!("connected to a socket directory that does not exist");
    };
    assert!(matches!(e, ConnectError::Connect(_)), "{e:?}");
    let message = e.to_string();
    for part in [
        missing.to_str().unwrap(),
        "5999",
        "keypair",
        "keys",
        "No such file",
    ] {
        assert!(message.contains(part), "{part:?} missing from {message:?}");
    }
    assert!(!message.contains("hunter2"), "{message}");
}
