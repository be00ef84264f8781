// SPDX-License-Identifier: GPL-2.0

//! Netfilter hooks.
//!
//! A [`Registration`] owns one registered `nf_hook_ops` and the handler it calls; dropping it
//! unregisters the hook, then waits for a grace period (`synchronize_net`) so that no CPU
//! still runs the handler when it is freed.
//!
//! C header: [`include/linux/netfilter.h`](srctree/include/linux/netfilter.h)

use crate::{
    bindings,
    error::to_result,
    net::route::OutRoute,
    net::skbuff::SkBuff,
    prelude::*,
    sync::rcu::{self, Guard},
    types::Opaque,
};
use core::ffi::c_void;

/// `NFPROTO_IPV4` lives in an anonymous C enum whose generated Rust name is not stable.
const NFPROTO_IPV4: u8 = 2;

/// What a hook decides about a packet; `'a` is the hook's RCU read-side section.
pub enum Verdict<'a> {
    /// Let the packet continue through the stack.
    Accept,
    /// Drop the packet; netfilter frees it.
    Drop,
    /// Send the (rewritten) packet out through the route ourselves (`ip_local_out`),
    /// instead of letting it continue through the stack (`NF_STOLEN`). The adapter does it
    /// after the handler returned, still inside the read-side section, so the handler never
    /// touches a packet it no longer owns and a cached route needs no reference. The packet
    /// is one that arrived: it is prepared as forwarding would prepare it
    /// ([`SkBuff::prepare_forward`]).
    Transmit(OutRoute<'a>),
}

/// Carries out a verdict on `skb`.
///
/// # Safety
///
/// `skb` must be the valid packet the hook was called with, owned by the netfilter core
/// until this returns; `net` its namespace.
unsafe fn apply<'a>(
    verdict: Verdict<'a>,
    skb: &mut SkBuff,
    net: *mut bindings::net,
    _guard: &'a Guard,
) -> u32 {
    let route = match verdict {
        Verdict::Accept => return bindings::NF_ACCEPT,
        Verdict::Drop => return bindings::NF_DROP,
        Verdict::Transmit(route) => route,
    };
    skb.prepare_forward();
    let skb = skb.as_raw();
    // SAFETY: `skb` is valid and ours for the call.
    unsafe { bindings::skb_dst_drop(skb) };
    match route {
        // SAFETY: `skb_dst_set` takes over our route's reference.
        OutRoute::Owned(r) => unsafe { bindings::skb_dst_set(skb, r.into_dst()) },
        // The route stays valid while `_guard`'s section lasts, which covers the output
        // below; where the stack keeps the packet past it (a qdisc, a neighbour's queue,
        // an nf_queue), it takes a reference first (`skb_dst_force`), as for IPVS's routes.
        // SAFETY: `skb` is valid and the RCU read lock is held (`_guard`).
        OutRoute::Cached(r) => unsafe { bindings::skb_dst_set_noref(skb, r.as_dst()) },
    }
    // SAFETY: `skb` is valid with its route set; `ip_local_out` consumes the packet in every
    // case (hence `NF_STOLEN`).
    unsafe { bindings::ip_local_out(net, core::ptr::null_mut(), skb) };
    bindings::NF_STOLEN
}

/// The IPv4 hook points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hook {
    /// Before routing (`NF_INET_PRE_ROUTING`).
    PreRouting,
    /// Packets for a local address (`NF_INET_LOCAL_IN`).
    LocalIn,
    /// Packets routed through this host (`NF_INET_FORWARD`).
    Forward,
    /// Locally generated packets (`NF_INET_LOCAL_OUT`).
    LocalOut,
    /// After routing, on the way out (`NF_INET_POST_ROUTING`).
    PostRouting,
}

impl Hook {
    fn to_raw(self) -> u32 {
        match self {
            Hook::PreRouting => bindings::nf_inet_hooks_NF_INET_PRE_ROUTING,
            Hook::LocalIn => bindings::nf_inet_hooks_NF_INET_LOCAL_IN,
            Hook::Forward => bindings::nf_inet_hooks_NF_INET_FORWARD,
            Hook::LocalOut => bindings::nf_inet_hooks_NF_INET_LOCAL_OUT,
            Hook::PostRouting => bindings::nf_inet_hooks_NF_INET_POST_ROUTING,
        }
    }
}

/// What the netfilter core tells a hook about where a packet is.
///
/// # Invariants
///
/// `self.0` points to a valid `nf_hook_state` for the lifetime `'a`.
pub struct HookState<'a>(&'a bindings::nf_hook_state);

impl HookState<'_> {
    /// Index of the input device, or 0 when there is none (locally generated packets).
    pub fn in_ifindex(&self) -> i32 {
        if self.0.in_.is_null() {
            0
        } else {
            // SAFETY: A non-null `in_` points to a device the core holds for the hook's duration.
            unsafe { (*self.0.in_).ifindex }
        }
    }

    /// Index of the output device, or 0 when it is not known yet.
    pub fn out_ifindex(&self) -> i32 {
        if self.0.out.is_null() {
            0
        } else {
            // SAFETY: A non-null `out` points to a device the core holds for the hook's duration.
            unsafe { (*self.0.out).ifindex }
        }
    }
}

/// A netfilter hook's behaviour.
///
/// `handle` runs in softirq context (or with bottom halves disabled) on any CPU, possibly on
/// several CPUs at once: it must not sleep, and shared state needs atomics or a bh-safe lock.
pub trait Handler: Send + Sync {
    /// Decides what happens to `skb`, inside the RCU read-side section of `guard`, which
    /// lasts until the verdict is carried out.
    fn handle<'a>(
        &'a self,
        skb: &mut SkBuff,
        state: &HookState<'_>,
        guard: &'a Guard,
    ) -> Verdict<'a>;

    /// Whether `skb`, an IPv4 fragment, is to be reassembled before [`Handler::handle`]
    /// sees it, as IPVS gathers fragments (`ip_defrag`): the fragments are held until the
    /// datagram is whole, and `handle` is called once, with the whole datagram. Called only
    /// for fragments; by default none is reassembled.
    fn reassemble(&self, _skb: &SkBuff) -> bool {
        false
    }
}

struct Inner<T> {
    ops: Opaque<bindings::nf_hook_ops>,
    handler: T,
}

/// A registered IPv4 netfilter hook in the initial network namespace.
///
/// # Invariants
///
/// `inner.ops` is registered with the netfilter core, with `priv_` pointing to
/// `inner.handler` and `hook` to [`Adapter::<T>::hook`], from construction until `drop`.
/// `inner` is pinned in the heap, so both addresses stay valid while registered, and it is
/// freed only after a grace period that follows the unregistration.
pub struct Registration<T: Handler> {
    inner: Pin<KBox<Inner<T>>>,
}

// SAFETY: The registration only holds the handler (which is `Send`) and the `nf_hook_ops`,
// which the netfilter core accesses under its own synchronisation.
unsafe impl<T: Handler> Send for Registration<T> {}
// SAFETY: `&Registration` gives access to nothing but `&T`, and `T: Sync`.
unsafe impl<T: Handler> Sync for Registration<T> {}

impl<T: Handler> Registration<T> {
    /// Registers `handler` at `hook` with `priority` (lower runs first; see
    /// `enum nf_ip_hook_priorities`) for IPv4 packets in the initial namespace.
    pub fn new(hook: Hook, priority: i32, handler: T) -> Result<Self> {
        let inner = KBox::pin(
            Inner {
                ops: Opaque::uninit(),
                handler,
            },
            GFP_KERNEL,
        )?;
        let ops = inner.ops.get();
        // SAFETY: `ops` is ours and unpublished; an all-zero `nf_hook_ops` is valid (nulls,
        // `None` callback, zero bitfields), then we fill in the fields the core needs.
        unsafe {
            core::ptr::write_bytes(ops, 0, 1);
            (*ops).hook = Some(Adapter::<T>::hook);
            (*ops).priv_ = core::ptr::from_ref(&inner.handler)
                .cast_mut()
                .cast::<c_void>();
            (*ops).pf = NFPROTO_IPV4;
            (*ops).hooknum = hook.to_raw();
            (*ops).priority = priority;
        }
        // SAFETY: `init_net` is the initial namespace, which lives forever; `ops` is fully
        // initialised and lives (pinned) in `inner` until `drop` unregisters it.
        to_result(unsafe {
            bindings::nf_register_net_hook(core::ptr::addr_of_mut!(bindings::init_net), ops)
        })?;
        // INVARIANT: the hook is registered with `priv_` and `hook` set as documented.
        Ok(Self { inner })
    }

    /// The handler this registration calls.
    pub fn handler(&self) -> &T {
        &self.inner.handler
    }
}

impl<T: Handler> Drop for Registration<T> {
    fn drop(&mut self) {
        // In 6.12 `nf_unregister_net_hook` does not wait for CPUs running the hook: it puts
        // `accept_all` in the blob readers see under RCU and frees the old blob with
        // `call_rcu` (net/netfilter/core.c, `__nf_unregister_net_hook`); hence the grace
        // period after it.
        // SAFETY: `ops` is registered in `init_net` (type invariant).
        unsafe {
            bindings::nf_unregister_net_hook(
                core::ptr::addr_of_mut!(bindings::init_net),
                self.inner.ops.get(),
            )
        };
        // Hooks run in an RCU read-side section (`NF_HOOK`'s callers) or in softirq, both of
        // which `synchronize_net` waits for: once it returns, no CPU is in the handler.
        // SAFETY: `drop` runs in process context (unload, init errors), as it needs.
        unsafe { bindings::synchronize_net() };
    }
}

struct Adapter<T>(core::marker::PhantomData<T>);

impl<T: Handler> Adapter<T> {
    /// # Safety
    ///
    /// Called only by the netfilter core for a hook registered by [`Registration::new`]:
    /// `priv_` is the registration's `&T`, `skb` a valid packet owned by the core for the
    /// call, `state` a valid hook state.
    unsafe extern "C" fn hook(
        priv_: *mut c_void,
        skb: *mut bindings::sk_buff,
        state: *const bindings::nf_hook_state,
    ) -> u32 {
        // `Registration::drop` frees the handler only after unregistering the hook and a
        // grace period, and this call is inside the RCU section in which the core found it.
        // SAFETY: `priv_` was set to `&inner.handler`, alive as said above.
        let handler = unsafe { &*priv_.cast::<T>() };
        // SAFETY: The core passes a valid packet with its network header set, and gives it to
        // one hook at a time.
        let skb = unsafe { SkBuff::from_raw(skb) };
        // SAFETY: `state` is valid for the call.
        let state = HookState(unsafe { &*state });
        let net = state.0.net;
        if skb.is_fragment() && handler.reassemble(skb) {
            // Non-zero: `ip_defrag` queued the fragment or freed it, so the packet is no
            // longer ours (`NF_STOLEN`); zero: `skb` is now the whole datagram, still ours.
            // SAFETY: `skb` is ours for the call and `net` its namespace.
            if unsafe { bindings::ipvsd_defrag(net, skb.as_raw()) } != 0 {
                return bindings::NF_STOLEN;
            }
        }
        let guard = rcu::read_lock();
        let verdict = handler.handle(skb, &state, &guard);
        // SAFETY: `skb` is the packet the core called us with; `net` its namespace.
        unsafe { apply(verdict, skb, net, &guard) }
    }
}
