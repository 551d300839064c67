//! Shared helpers.

use std::path::PathBuf;

use custody_core::id::{AccountId, Region};
use custody_sim::{SimAccount, World};

pub const TARGET: &str = "111122223333";
pub const FORENSIC: &str = "444455556666";

pub fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/worlds")
        .join(name)
}

pub fn fixture_text(name: &str) -> String {
    std::fs::read_to_string(fixture_path(name)).unwrap()
}

pub fn world(name: &str) -> World {
    World::from_json(&fixture_text(name)).unwrap()
}

pub fn account(world: &World, id: &str) -> SimAccount {
    SimAccount::new(
        world,
        &AccountId::parse(id).unwrap(),
        &Region::parse("us-east-1").unwrap(),
    )
    .unwrap()
}

pub fn target(world: &World) -> SimAccount {
    account(world, TARGET)
}

pub fn forensic(world: &World) -> SimAccount {
    account(world, FORENSIC)
}

/// A fixture with a change applied to its JSON.
pub fn patched(name: &str, patch: impl FnOnce(&mut serde_json::Value)) -> String {
    let mut v: serde_json::Value = serde_json::from_str(&fixture_text(name)).unwrap();
    patch(&mut v);
    v.to_string()
}
