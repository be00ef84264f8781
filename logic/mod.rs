//! The director's pure logic: `core` only, no `unsafe`, no allocation, no floating point
//! (it runs in the kernel), and no panics on any input.
//!
//! The kernel module includes this file as `mod logic;` and the host crate (`host.rs`)
//! includes it for `cargo test`.

pub mod proto;
pub mod sysctl;
