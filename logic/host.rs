// SPDX-License-Identifier: GPL-2.0
//! Host build of ipvs-defense's director logic.
//!
//! The kernel module includes `logic/mod.rs` as `mod logic;`; this crate includes the same
//! file so that `cargo test` exercises exactly the code the module runs. `#![no_std]` here
//! proves the logic needs nothing beyond `core`.
#![no_std]

#[path = "mod.rs"]
pub mod logic;

pub use logic::*;
