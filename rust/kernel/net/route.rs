// SPDX-License-Identifier: GPL-2.0

//! IPv4 output routes.
//!
//! C header: [`include/net/route.h`](srctree/include/net/route.h)

use crate::{bindings, error::from_err_ptr, prelude::*};
use core::ptr::NonNull;

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

    fn rt(&self) -> &bindings::rtable {
        // SAFETY: By the type invariant the route is valid while we hold our reference.
        unsafe { self.0.as_ref() }
    }

    /// The route's type.
    pub fn route_type(&self) -> RouteType {
        RouteType::from_raw(self.rt().rt_type)
    }

    /// Whether the output device is up, running and has carrier.
    pub fn device_up(&self) -> bool {
        // SAFETY: Both members of this union are the output device pointer (plain and
        // `__rcu` views); the route holds a reference on the device.
        let dev = unsafe { self.rt().dst.__bindgen_anon_1.dev };
        if dev.is_null() {
            return false;
        }
        // SAFETY: A route holds a reference on its output device.
        unsafe { bindings::netif_running(dev) && bindings::netif_carrier_ok(dev) }
    }

    /// The index of the route's output device (0 if it has none).
    pub fn ifindex(&self) -> i32 {
        // SAFETY: `dst` is the route's embedded, valid `dst_entry`; the route holds a
        // reference on its device, so the helper may read its index.
        unsafe { bindings::ipvsd_dst_ifindex(&self.rt().dst) }
    }

    /// The route's MTU.
    pub fn mtu(&self) -> u32 {
        // SAFETY: `dst` is the route's embedded, valid `dst_entry`.
        unsafe { bindings::dst_mtu(&self.rt().dst) }
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
