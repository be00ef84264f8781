// SPDX-License-Identifier: GPL-2.0
//! The director's pure logic: `core` only, safe Rust, no allocation, no floating point
//! (it runs in the kernel), and no panics on any input.
//!
//! The kernel module includes this file as `mod logic;` and the host crate (`host.rs`)
//! includes it for `cargo test`.
//!
//! Modules, in the order a packet meets them:
//! - [`packet`]: parse IPv4 + TCP/UDP/ICMP headers from bytes, rewrite addresses and ports;
//! - [`checksum`]: Internet checksums, full and incremental (RFC 1624);
//! - [`cookie`]: SYN cookies, for answering a SYN without keeping state;
//! - [`hash`]: SipHash-2-4, for flow keys and Maglev;
//! - [`entry`]: the connection entry the table stores;
//! - [`tcp_options`]: the TCP options of a handshake, read and written;
//! - [`tcp_state`]: TCP states and the normal and secure transition tables;
//! - [`timeouts`]: per-state timeouts, normal and defense;
//! - [`wheel`]: expiry of entries by a timer wheel over entry indices;
//! - [`fifo`]: a bounded queue, for the half-open entries in the order to evict them;
//! - [`sizing`]: the table's capacity, shards and buckets, and its bytes per entry;
//! - [`defense`]: the defense level controller, the SYN drop rate and ACK validation;
//! - [`drops`]: the reasons to drop, each with its counter's names;
//! - [`sched`]: the schedulers rr, wrr, lc, wlc and mh (Maglev);
//! - [`synproxy`]: what a SYN proxy translates in the segments of its connections;
//! - [`ratelimit`]: a lock-free limit of events per period (the resets to zombies);
//! - [`sysctl`]: parsing of sysctl writes;
//! - [`proto`]: the `IPVS_DEFENSE` generic netlink protocol.

pub mod checksum;
pub mod cookie;
pub mod defense;
pub mod drops;
pub mod entry;
pub mod fifo;
pub mod hash;
pub mod known;
pub mod names;
pub mod packet;
pub mod proto;
pub mod ratelimit;
pub mod sched;
pub mod sizing;
pub mod sort;
pub mod synproxy;
pub mod sysctl;
pub mod tcp_options;
pub mod tcp_state;
pub mod timeouts;
pub mod wheel;
