// SPDX-License-Identifier: GPL-2.0

//! IPv4 output routes.
//!
//! C header: [`include/net/route.h`](srctree/include/net/route.h)

use crate::{bindings, error::from_err_ptr, prelude::*, sync::rcu::Guard};
use core::{
    ptr::NonNull,
    sync::atomic::{AtomicPtr, Ordering},
};

/// A route's type (`RTN_*` of include/uapi/linux/rtnetlink.h).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RouteType {
    /// `RTN_UNICAST`: a route to a gateway or a directly connected host.
    Unicast,
    /// `RTN_LOCAL`: the destination is one of this host's addresses.
    Local,
    /// `RTN_BROADCAST`: a broadcast address, sent as broadcast.
    Broadcast,
    /// `RTN_MULTICAST`: a multicast address.
    Multicast,
    /// Any other type (anycast, blackhole, unreachable, prohibit, throw, NAT, external),
    /// by its number; the FIB answers the lookup of most of these with an error instead.
    Other(u16),
}

impl RouteType {
    fn from_raw(t: u16) -> Self {
        match u32::from(t) {
            bindings::RTN_UNICAST => Self::Unicast,
            bindings::RTN_LOCAL => Self::Local,
            bindings::RTN_BROADCAST => Self::Broadcast,
            bindings::RTN_MULTICAST => Self::Multicast,
            _ => Self::Other(t),
        }
    }
}

/// A looked-up output route, holding a reference on it.
///
/// # Invariants
///
/// `0` points to a valid `rtable` on which this object holds one reference.
pub struct Route(NonNull<bindings::rtable>);

// SAFETY: Route references may be held and released on any CPU.
unsafe impl Send for Route {}
// SAFETY: `&Route` only reads immutable route fields.
unsafe impl Sync for Route {}

impl Route {
    /// Looks up the route to `daddr` (network-order bytes) in the initial namespace.
    ///
    /// Fails with the FIB's error: `EHOSTUNREACH` (unreachable), `EACCES` (prohibit),
    /// `EINVAL` (blackhole), `ENETUNREACH` (no route).
    pub fn output(daddr: [u8; 4]) -> Result<Self> {
        // SAFETY: `init_net` lives forever; the lookup has no other preconditions and
        // returns a referenced route or an error pointer.
        let rt = from_err_ptr(unsafe {
            bindings::ip_route_output(
                core::ptr::addr_of_mut!(bindings::init_net),
                u32::from_ne_bytes(daddr),
                0,
                0,
                0,
                bindings::rt_scope_t_RT_SCOPE_UNIVERSE as u8,
            )
        })?;
        // INVARIANT: a successful lookup returns a valid route with a reference for us.
        NonNull::new(rt)
            .map(Self)
            .ok_or(Error::from_errno(-(bindings::ENETUNREACH as i32)))
    }

    /// The route, borrowed.
    pub fn get(&self) -> RouteRef<'_> {
        // SAFETY: By the type invariant the route is valid while we hold our reference,
        // which the borrow of `self` keeps.
        RouteRef(unsafe { self.0.as_ref() })
    }

    /// Gives up ownership of the reference, as the route's `dst_entry`.
    pub(crate) fn into_dst(self) -> *mut bindings::dst_entry {
        let p = self.0.as_ptr();
        core::mem::forget(self);
        // SAFETY: `p` is valid; `dst` is its first field.
        unsafe { core::ptr::addr_of_mut!((*p).dst) }
    }
}

impl Drop for Route {
    fn drop(&mut self) {
        // SAFETY: By the type invariant we hold one reference, released here once.
        unsafe { bindings::ip_rt_put(self.0.as_ptr()) };
    }
}

/// A route borrowed for `'a`: from a [`Route`], or from a [`RouteCache`] for an RCU
/// read-side critical section.
///
/// # Invariants
///
/// The `rtable` stays valid (not freed) for `'a`; nothing else is promised: no reference is
/// held.
#[derive(Clone, Copy)]
pub struct RouteRef<'a>(&'a bindings::rtable);

impl<'a> RouteRef<'a> {
    /// The route's type.
    pub fn route_type(self) -> RouteType {
        RouteType::from_raw(self.0.rt_type)
    }

    /// Whether the output device is up, running and has carrier.
    pub fn device_up(self) -> bool {
        // SAFETY: Both members of this union are the output device pointer (plain and
        // `__rcu` views).
        let dev = unsafe { self.0.dst.__bindgen_anon_1.dev };
        if dev.is_null() {
            return false;
        }
        // A route holds a reference on its device until `dst_dev_put` moves it to the
        // blackhole device, which is never freed; either is valid while the route is.
        // SAFETY: `dev` is valid, as just said; both only test bits of its state.
        unsafe { bindings::netif_running(dev) && bindings::netif_carrier_ok(dev) }
    }

    /// The index of the route's output device (0 if it has none).
    pub fn ifindex(self) -> i32 {
        // SAFETY: `dst` is the route's embedded, valid `dst_entry`; its device is valid
        // while the route is (see `device_up`).
        unsafe { bindings::ipvsd_dst_ifindex(&self.0.dst) }
    }

    /// The route's MTU.
    pub fn mtu(self) -> u32 {
        // SAFETY: `dst` is the route's embedded, valid `dst_entry`.
        unsafe { bindings::dst_mtu(&self.0.dst) }
    }

    /// Whether the route is still what a lookup would return: the FIB has not changed
    /// since (`dst_check`; IPv4 routes are stamped with the namespace's route generation,
    /// which every change to the FIB, an address or a device's state bumps) and no PMTU
    /// exception or device removal made it obsolete.
    pub fn is_current(self) -> bool {
        let dst = core::ptr::from_ref(&self.0.dst).cast_mut();
        // SAFETY: `dst` is valid (type invariant); `ipv4_dst_check` reads its generation
        // and `obsolete` mark and returns it or null, changing nothing.
        !unsafe { bindings::dst_check(dst, 0) }.is_null()
    }

    /// A reference of our own on the route, to keep it past `'a`.
    pub fn to_owned(self) -> Route {
        let rt = core::ptr::from_ref(self.0).cast_mut();
        // SAFETY: The route is valid (type invariant), so its count is above zero and
        // `dst_hold` may take one more.
        unsafe { bindings::dst_hold(core::ptr::addr_of_mut!((*rt).dst)) };
        // INVARIANT: the reference just taken is the new `Route`'s.
        Route(NonNull::from(self.0))
    }

    pub(crate) fn as_dst(self) -> *mut bindings::dst_entry {
        core::ptr::from_ref(&self.0.dst).cast_mut()
    }
}

/// A route for a packet to leave by: one with a reference of its own, or one borrowed from
/// a [`RouteCache`] for the RCU read-side section in which the packet is sent.
pub enum OutRoute<'a> {
    /// Holds its reference.
    Owned(Route),
    /// Borrowed for `'a`; the packet takes no reference (`skb_dst_set_noref`).
    Cached(RouteRef<'a>),
}

impl OutRoute<'_> {
    /// The route, borrowed.
    pub fn get(&self) -> RouteRef<'_> {
        match self {
            OutRoute::Owned(r) => r.get(),
            OutRoute::Cached(r) => *r,
        }
    }

    /// The route with a reference of its own.
    pub fn into_owned(self) -> Route {
        match self {
            OutRoute::Owned(r) => r,
            OutRoute::Cached(r) => r.to_owned(),
        }
    }
}

/// A cached route and the RCU head that frees it once replaced.
#[repr(C)]
struct CachedNode {
    /// First, so that the callback finds the node at the head's address.
    rcu: bindings::callback_head,
    route: Route,
}

/// Frees a node a [`RouteCache`] replaced, releasing its route.
///
/// # Safety
///
/// `head` is the `rcu` field of a `CachedNode` made by `KBox::into_raw`, given to
/// `call_rcu` once and no longer reachable by any reader.
unsafe extern "C" fn free_node(head: *mut bindings::callback_head) {
    // SAFETY: `rcu` is the first field of the `#[repr(C)]` node (see the safety section).
    drop(unsafe { KBox::from_raw(head.cast::<CachedNode>()) });
}

/// One destination's route, kept between packets and checked on every use, as IPVS keeps
/// one in each real server (`ip_vs_dest_dst`).
///
/// Readers on any CPU, under an RCU read guard, get the route borrowed ([`RouteCache::get`])
/// with no lock and no reference taken; when it is stale, one of them looks up a new one
/// and replaces it ([`RouteCache::set`]). A replaced route is released only after a grace
/// period, so a reader that got it may use it until its read-side section ends, packets it
/// sent without a reference included.
///
/// # Invariants
///
/// `node` is null or points to a `CachedNode` made by `KBox::into_raw` and owned by the
/// cache. A node taken out of `node` while the cache is shared is freed only through
/// `call_rcu` ([`free_node`]).
pub struct RouteCache {
    node: AtomicPtr<CachedNode>,
}

// SAFETY: The cache hands out `RouteRef`s (plain reads) and swaps nodes atomically; routes
// may be released on any CPU.
unsafe impl Send for RouteCache {}
// SAFETY: As above.
unsafe impl Sync for RouteCache {}

impl RouteCache {
    /// An empty cache.
    pub const fn new() -> Self {
        Self {
            node: AtomicPtr::new(core::ptr::null_mut()),
        }
    }

    /// The cached route, if there is one and it is current ([`RouteRef::is_current`]),
    /// borrowed for the read-side section of `_guard`.
    pub fn get<'a>(&'a self, _guard: &'a Guard) -> Option<RouteRef<'a>> {
        let node = self.node.load(Ordering::Acquire);
        if node.is_null() {
            return None;
        }
        // SAFETY: `node` was published by `set` (Release) and is freed only a grace period
        // after it is replaced; `_guard` holds a read-side section for `'a`.
        let rt = unsafe { (*node).route.0.as_ref() };
        // INVARIANT: valid for `'a`, as just said.
        let r = RouteRef(rt);
        r.is_current().then_some(r)
    }

    /// Caches `route` in place of the cached one, if any, and returns it borrowed for the
    /// read-side section of `_guard`. Allocates its node without sleeping; when that fails,
    /// gives `route` back and keeps the cache as it was.
    pub fn set<'a>(&'a self, route: Route, _guard: &'a Guard) -> Result<RouteRef<'a>, Route> {
        let rcu = bindings::callback_head {
            next: core::ptr::null_mut(),
            func: None,
        };
        let Ok(slot) = KBox::<CachedNode>::new_uninit(GFP_ATOMIC) else {
            return Err(route);
        };
        let node = KBox::into_raw(slot.write(CachedNode { rcu, route }));
        // SAFETY: `node` is ours until published below, and then freed only a grace period
        // after it is replaced; `_guard` holds a read-side section for `'a`.
        let r = RouteRef(unsafe { (*node).route.0.as_ref() });
        let old = self.node.swap(node, Ordering::AcqRel);
        self.retire(old);
        Ok(r)
    }

    /// Empties the cache (its route no longer fits).
    pub fn clear(&self) {
        let old = self.node.swap(core::ptr::null_mut(), Ordering::AcqRel);
        self.retire(old);
    }

    /// Frees `old`, a node just taken out of the cache, after a grace period.
    fn retire(&self, old: *mut CachedNode) {
        if old.is_null() {
            return;
        }
        // `old` came out of `node` by a swap: ours alone to free, and unreachable for readers
        // that start from now on; `free_node` runs once every earlier reader has left.
        // SAFETY: `old` is a valid node made by `KBox::into_raw`, given to `call_rcu` once.
        unsafe { bindings::call_rcu(core::ptr::addr_of_mut!((*old).rcu), Some(free_node)) };
    }
}

impl Default for RouteCache {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for RouteCache {
    fn drop(&mut self) {
        let node = *self.node.get_mut();
        if !node.is_null() {
            // `&mut self`: no reader can borrow from the cache any more, and one that reached
            // it through an RCU-protected owner left its section before the owner was freed.
            // SAFETY: The node is ours (type invariant) and unreachable, as just said.
            drop(unsafe { KBox::from_raw(node) });
        }
    }
}

/// The prefix length of the FIB entry that routes `daddr` (network-order bytes) in the
/// initial namespace: 0 for the default route, 32 for a host route. Fails with the FIB's
/// error, as [`Route::output`] does.
pub fn fib_prefix_len(daddr: [u8; 4]) -> Result<u8> {
    // SAFETY: `init_net` lives forever; the helper takes the RCU read lock for the lookup
    // and copies the prefix length out of it.
    let r = unsafe {
        bindings::ipvsd_fib_prefixlen(
            core::ptr::addr_of_mut!(bindings::init_net),
            u32::from_ne_bytes(daddr),
        )
    };
    if r < 0 {
        Err(Error::from_errno(r))
    } else {
        Ok(r as u8)
    }
}

/// Whether a rate-limited networking message may be printed now (`net_ratelimit()`).
pub fn net_ratelimit() -> bool {
    // SAFETY: No preconditions.
    unsafe { bindings::net_ratelimit() != 0 }
}
