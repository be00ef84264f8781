// SPDX-License-Identifier: GPL-2.0
//! Why the director drops a packet or refuses a connection: one counter per reason in every
//! scope (the director, each service, each real server), shown as a sysctl file, a netlink
//! attribute and a line of `ipvsdadm --defense` under one name
//! (Documentation/ipvs-defense.rst, "Drops and counters").

use super::names::ascii;
use super::proto::Attr;
use core::ffi::CStr;

/// Number of drop reasons.
pub const DROP_REASON_COUNT: usize = 8;

/// A reason to drop; its number is the index of its counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DropReason {
    /// A new-connection SYN dropped by the defense's rate.
    SynRate = 0,
    /// A half-open entry evicted to make room.
    Eviction = 1,
    /// The route lookup for a rewritten packet failed.
    Route = 2,
    /// A reply from a real server without an entry.
    Zombie = 3,
    /// A new connection refused because the table was full.
    TableFull = 4,
    /// A malformed packet for a service.
    Malformed = 5,
    /// A client ACK refused by ACK validation.
    BlindAck = 6,
    /// A packet of ours whose headers could not be made writable and rewritten.
    Rewrite = 7,
}

impl DropReason {
    /// Every reason, in the order of their numbers.
    pub const ALL: [DropReason; DROP_REASON_COUNT] = [
        DropReason::SynRate,
        DropReason::Eviction,
        DropReason::Route,
        DropReason::Zombie,
        DropReason::TableFull,
        DropReason::Malformed,
        DropReason::BlindAck,
        DropReason::Rewrite,
    ];

    /// The index of its counter (below [`DROP_REASON_COUNT`]).
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The netlink attribute that carries its counter.
    pub const fn attr(self) -> Attr {
        match self {
            DropReason::SynRate => Attr::DropSynRate,
            DropReason::Eviction => Attr::DropEvictions,
            DropReason::Route => Attr::DropRoute,
            DropReason::Zombie => Attr::DropZombie,
            DropReason::TableFull => Attr::DropTableFull,
            DropReason::Malformed => Attr::DropMalformed,
            DropReason::BlindAck => Attr::DropBlindAck,
            DropReason::Rewrite => Attr::DropRewrite,
        }
    }

    /// The name of its counter: the sysctl file of the director's count.
    pub const fn sysctl_name(self) -> &'static CStr {
        match self {
            DropReason::SynRate => c"syn_rate_drops",
            DropReason::Eviction => c"entry_evictions",
            DropReason::Route => c"route_errors",
            DropReason::Zombie => c"zombie_replies",
            DropReason::TableFull => c"table_full",
            DropReason::Malformed => c"malformed",
            DropReason::BlindAck => c"blind_acks",
            DropReason::Rewrite => c"rewrite_failures",
        }
    }

    /// The name of its counter as `str` (the tool's listing and JSON keys).
    pub const fn name(self) -> &'static str {
        ascii(self.sysctl_name().to_bytes())
    }
}
