//! The README's embedding example as a program: create, import and describe key pairs
//! with the in-memory store.

use keypair_core::{
    AccountId, CreateKeyPair, DescribeKeyPairs, ImportKeyPair, KeyPairService, Product, Scope,
};
use keypair_memory::MemoryStore;
use std::sync::Arc;

fn main() -> Result<(), keypair_core::Error> {
    futures::executor::block_on(async {
        let service = KeyPairService::builder(Arc::new(MemoryStore::new())).build();
        let scope = Scope::new(AccountId::parse("1250000001")?, Product::Cvm);
        let created = service
            .create(
                &scope,
                CreateKeyPair {
                    name: "deploy".into(),
                    ..Default::default()
                },
            )
            .await?;
        println!("CreateKeyPair -> {}", created.key_pair.id);
        println!(
            "  public key:  {}",
            created.key_pair.public_key.as_openssh()
        );
        println!(
            "  fingerprint: {}",
            created.key_pair.public_key.fingerprint()
        );
        println!(
            "  private key: {} bytes of PKCS#1 PEM, returned once",
            created.private_key.expose().len()
        );
        let public_key = created.key_pair.public_key.as_openssh().to_owned();
        match service
            .import(
                &scope,
                ImportKeyPair {
                    name: "copy".into(),
                    public_key,
                    ..Default::default()
                },
            )
            .await
        {
            Err(e) => println!("ImportKeyPair of the same key -> refused: {e}"),
            Ok(kp) => println!("ImportKeyPair -> {} (unexpected)", kp.id),
        }
        let page = service
            .describe(&scope, &DescribeKeyPairs::default())
            .await?;
        println!("DescribeKeyPairs -> TotalCount {}", page.total);
        for kp in page.items {
            println!("  {} {} created {}", kp.id, kp.name, kp.created_at);
        }
        Ok(())
    })
}
