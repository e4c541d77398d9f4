//! A service plugging its own instance inventory into `keypair-core`: association asks
//! the inventory whether an instance exists, its state and its OS, and `ForceStop` stops
//! it through the inventory. Here the inventory is a map behind a lock; in a real
//! service it would be the service's own database or API.
//!
//! Run: `cargo run -p keypair-examples --example inventory`

use async_trait::async_trait;
use futures::executor::block_on;
use keypair_core::{
    AccountId, CreateKeyPair, Error, Instance, InstanceBinding, InstanceDirectory, InstanceId,
    InstanceState, KeyPairService, OsFamily, Product, Scope,
};
use keypair_memory::MemoryStore;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The service's own view of its machines, by instance id.
#[derive(Default)]
struct Inventory(Mutex<HashMap<String, Instance>>);

impl Inventory {
    fn add(&self, id: &str, state: InstanceState, os: OsFamily) {
        self.0
            .lock()
            .unwrap()
            .insert(id.to_owned(), Instance::new(state, os));
    }
}

#[async_trait]
impl InstanceDirectory for Inventory {
    async fn lookup(
        &self,
        _scope: &Scope,
        id: &InstanceId,
    ) -> keypair_core::Result<Option<Instance>> {
        Ok(self.0.lock().unwrap().get(id.as_str()).copied())
    }

    async fn force_stop(&self, _scope: &Scope, id: &InstanceId) -> keypair_core::Result<()> {
        if let Some(i) = self.0.lock().unwrap().get_mut(id.as_str()) {
            // A real inventory would ask the hypervisor and wait for the stop here.
            i.state = InstanceState::Stopped;
        }
        Ok(())
    }
}

fn main() -> Result<(), Error> {
    let inventory = Arc::new(Inventory::default());
    inventory.add("ins-web00001", InstanceState::Running, OsFamily::Linux);
    inventory.add("ins-win00001", InstanceState::Stopped, OsFamily::Windows);
    let service = KeyPairService::builder(Arc::new(MemoryStore::new()))
        .instances(inventory.clone())
        .build();
    let scope = Scope::new(AccountId::parse("1250000001")?, Product::Cvm);
    block_on(async {
        let req = CreateKeyPair {
            name: "ops".into(),
            ..Default::default()
        };
        let key = service.create(&scope, req).await?.key_pair.id.to_string();
        let bind = |instance: &str, force_stop: bool| InstanceBinding {
            key_ids: vec![key.clone()],
            instance_ids: vec![instance.into()],
            force_stop: Some(force_stop),
            ..Default::default()
        };
        for (instance, force) in [
            ("ins-nothere1", false),
            ("ins-win00001", false),
            ("ins-web00001", false),
            ("ins-web00001", true),
        ] {
            match service.associate(&scope, &bind(instance, force)).await {
                Ok(()) => println!("{instance} (ForceStop {force}): bound"),
                Err(e) => println!("{instance} (ForceStop {force}): refused: {e}"),
            }
        }
        let state = inventory.0.lock().unwrap()["ins-web00001"].state;
        assert_eq!(
            state,
            InstanceState::Stopped,
            "ForceStop went through the inventory"
        );
        println!("ins-web00001 is now {state}");
        Ok(())
    })
}
