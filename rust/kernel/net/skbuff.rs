// SPDX-License-Identifier: GPL-2.0

//! Socket buffers (`struct sk_buff`), as netfilter hooks see them.
//!
//! C header: [`include/linux/skbuff.h`](srctree/include/linux/skbuff.h)

use crate::{bindings, error::code::*, error::to_result, prelude::*, types::Opaque};

/// A packet handed to a netfilter hook.
///
/// The hook borrows it for the duration of the callback: it may read and (after
/// [`SkBuff::writable_network`]) rewrite its headers, but it never frees it; netfilter does
/// that according to the verdict.
///
/// # Invariants
///
/// The wrapped `sk_buff` is valid for as long as the reference to this `SkBuff` lives, and
/// the holder of a `&mut SkBuff` is the only one who touches its data in that time (the
/// netfilter core passes each packet to one hook at a time).
#[repr(transparent)]
pub struct SkBuff(Opaque<bindings::sk_buff>);

impl SkBuff {
    /// Creates a reference to an [`SkBuff`] from a valid pointer.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a valid `sk_buff` whose network header is set, and no other code
    /// may access the buffer's data or metadata for the lifetime `'a`.
    pub unsafe fn from_raw<'a>(ptr: *mut bindings::sk_buff) -> &'a mut Self {
        // SAFETY: `SkBuff` is `repr(transparent)` over `Opaque<sk_buff>`, which has the layout
        // of `sk_buff`; the caller guarantees validity and exclusivity for `'a`.
        unsafe { &mut *ptr.cast::<Self>() }
    }

    /// Returns the raw pointer, for other abstractions in this crate.
    pub(crate) fn as_raw(&self) -> *mut bindings::sk_buff {
        self.0.get()
    }

    /// Total length of the packet from `skb->data` (linear and paged parts).
    pub fn len(&self) -> u32 {
        // SAFETY: By the type invariant the `sk_buff` is valid.
        unsafe { (*self.0.get()).len }
    }

    /// Whether the packet has no bytes at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of bytes from the network (IP) header to the end of the packet.
    pub fn network_len(&self) -> u32 {
        let off = self.network_offset();
        // `data` can lie after the network header only in hooks we do not use; saturate to
        // stay correct anyway.
        if off >= 0 {
            self.len().saturating_sub(off as u32)
        } else {
            self.len().saturating_add(off.unsigned_abs())
        }
    }

    fn network_offset(&self) -> i32 {
        // SAFETY: By the type invariant the `sk_buff` is valid.
        unsafe { bindings::skb_network_offset(self.0.get()) }
    }

    /// The first `len` bytes from the network header: borrowed from the linear part when they
    /// lie there (most packets: no copy), else copied into `buf`, as `skb_header_pointer`
    /// does. `None` when the packet is shorter or `buf` cannot hold them.
    pub fn network_bytes<'a>(&'a self, len: usize, buf: &'a mut [u8]) -> Option<&'a [u8]> {
        let off = self.network_offset();
        // SAFETY: By the type invariant the `sk_buff` is valid.
        let headlen = unsafe { bindings::skb_headlen(self.0.get()) };
        let linear = usize::try_from(off)
            .ok()
            .and_then(|o| o.checked_add(len))
            .is_some_and(|end| end <= headlen as usize);
        if linear {
            // The linear part holds `headlen` bytes from `data`, the network header is `off`
            // bytes into it, and `off + len <= headlen`; the data cannot change while `self`
            // is borrowed (type invariant: only the holder of `&mut SkBuff` writes it).
            // SAFETY: `skb_network_header` is `head + network_header`, valid for `len` reads
            // as just said, for the lifetime of the borrow.
            return Some(unsafe {
                core::slice::from_raw_parts(bindings::skb_network_header(self.0.get()), len)
            });
        }
        let b = buf.get_mut(..len)?;
        self.copy_network(0, b).ok()?;
        Some(b)
    }

    /// Copies `buf.len()` bytes starting `offset` bytes after the network header into `buf`,
    /// whether they lie in the linear part or in page fragments.
    ///
    /// Returns `EINVAL` if the packet is shorter than that.
    pub fn copy_network(&self, offset: u32, buf: &mut [u8]) -> Result {
        let len = i32::try_from(buf.len()).map_err(|_| EINVAL)?;
        let start = i32::try_from(offset)
            .ok()
            .and_then(|o| o.checked_add(self.network_offset()))
            .ok_or(EINVAL)?;
        // SAFETY: By the type invariant the `sk_buff` is valid; `buf` is valid for writes of
        // `len` bytes; `skb_copy_bits` checks the range against the packet and fails otherwise.
        to_result(unsafe {
            bindings::skb_copy_bits(self.0.get(), start, buf.as_mut_ptr().cast(), len)
        })
    }

    /// Makes the first `len` bytes from the network header linear, private to this packet
    /// (unshared, uncloned) and writable, and returns them.
    ///
    /// This is what a NAT rewrite needs: afterwards the IP and transport headers can be
    /// changed in place. Fails with `EINVAL` if the packet is shorter than `len`, or
    /// `ENOMEM` if the head could not be reallocated.
    pub fn writable_network(&mut self, len: u32) -> Result<&mut [u8]> {
        if len > self.network_len() {
            return Err(EINVAL);
        }
        let off = u32::try_from(self.network_offset()).map_err(|_| EINVAL)?;
        let write_len = off.checked_add(len).ok_or(EINVAL)?;
        // SAFETY: The `sk_buff` is valid and ours (type invariant); this may reallocate the
        // head, which is why the header pointer is computed only afterwards.
        to_result(unsafe { bindings::skb_ensure_writable(self.0.get(), write_len) })?;
        // SAFETY: The `sk_buff` is valid (type invariant).
        let hdr = unsafe { bindings::skb_network_header(self.0.get()) };
        // SAFETY: `len` bytes from the network header are now linear and ours to write; the
        // slice borrows `self` mutably, so no call can reallocate the head while it lives.
        Ok(unsafe { core::slice::from_raw_parts_mut(hdr, len as usize) })
    }

    /// How the packet's transport checksum stands (`skb->ip_summed`).
    pub fn checksum_state(&self) -> ChecksumState {
        // SAFETY: By the type invariant the `sk_buff` is valid.
        match u32::from(unsafe { bindings::skb_ip_summed(self.0.get()) }) {
            bindings::CHECKSUM_UNNECESSARY => ChecksumState::Unnecessary,
            bindings::CHECKSUM_COMPLETE => ChecksumState::Complete,
            bindings::CHECKSUM_PARTIAL => ChecksumState::Partial,
            _ => ChecksumState::None,
        }
    }

    /// Forgets a `CHECKSUM_COMPLETE` sum after the packet was rewritten (the checksum
    /// fields themselves are kept valid by the rewrite, so nothing needs it).
    pub fn drop_complete_checksum(&mut self) {
        if self.checksum_state() == ChecksumState::Complete {
            // SAFETY: By the type invariant the `sk_buff` is valid and ours.
            unsafe { bindings::skb_set_checksum_none(self.0.get()) };
        }
    }

    /// Sends the packet's source an ICMP "host unreachable", as a router does for a
    /// destination it has no usable route to (rate limited by the kernel). The packet must
    /// be as received (not yet rewritten).
    pub fn send_icmp_host_unreachable(&self) {
        self.send_unreachable(bindings::ICMP_HOST_UNREACH as i32, 0);
    }

    /// Sends the packet's source an ICMP "fragmentation needed" announcing `mtu`, as the
    /// forwarding path does for a DF packet larger than the route's MTU (rate limited by the
    /// kernel). The packet must be as received (not yet rewritten).
    pub fn send_icmp_frag_needed(&self, mtu: u32) {
        self.send_unreachable(bindings::ICMP_FRAG_NEEDED as i32, mtu.to_be());
    }

    fn send_unreachable(&self, code: i32, info: u32) {
        // SAFETY: By the type invariant the `sk_buff` is valid; `icmp_send` only reads it.
        unsafe {
            bindings::icmp_send(self.0.get(), bindings::ICMP_DEST_UNREACH as i32, code, info)
        };
    }

    /// Sends the packet's source an ICMP "time exceeded in transit", as a router does for
    /// a packet whose TTL ran out (rate limited by the kernel). The packet must be as
    /// received (not yet rewritten).
    pub fn send_icmp_time_exceeded(&self) {
        // SAFETY: By the type invariant the `sk_buff` is valid; `icmp_send` only reads it.
        unsafe {
            bindings::icmp_send(
                self.0.get(),
                bindings::ICMP_TIME_EXCEEDED as i32,
                bindings::ICMP_EXC_TTL as i32,
                0,
            )
        };
    }

    /// Prepares a packet that arrived for being sent on, as `ip_forward` and IPVS do: drops
    /// the socket early demux may have attached for its old destination (`skb_orphan`: a
    /// `TIME_WAIT` or request socket that a qdisc like fq would treat as a full socket, and
    /// that local delivery would hand the packet to), and clears the receive timestamp
    /// (`skb_clear_tstamp`: a qdisc would read it as a departure time).
    pub fn prepare_forward(&mut self) {
        self.orphan();
        // SAFETY: By the type invariant the `sk_buff` is valid and ours. `skb_clear_tstamp`
        // zeroes a receive stamp, leaving a delivery time alone.
        unsafe { bindings::skb_clear_tstamp(self.0.get()) };
    }

    /// Drops the socket the packet carries, if any (`skb_orphan`): for a packet that
    /// arrived, the one early demux found for its destination before we rewrote it.
    pub fn orphan(&mut self) {
        // `skb_orphan` runs the destructor (for early demux `sock_edemux`, which puts the
        // socket reference) and clears `sk` and `destructor`.
        // SAFETY: By the type invariant the `sk_buff` is valid and ours.
        unsafe { bindings::skb_orphan(self.0.get()) };
    }

    /// Gives back the packet's conntrack entry, if any, and marks it untracked, as IPVS does
    /// for its flows (`ip_vs_notrack`): conntrack then neither creates nor confirms an
    /// entry for it, and NAT rules (a masquerade) leave it alone.
    pub fn untrack(&mut self) {
        // SAFETY: By the type invariant the `sk_buff` is valid and ours; the helper drops the
        // reference `_nfct` held (`nf_reset_ct`) before overwriting it.
        unsafe { bindings::ipvsd_skb_untrack(self.0.get()) };
    }

    /// Whether the packet is an IPv4 fragment (more fragments follow, or it is not the
    /// first: `ip_is_fragment`).
    pub fn is_fragment(&self) -> bool {
        let mut frag = [0u8; 2];
        self.copy_network(6, &mut frag).is_ok() && u16::from_be_bytes(frag) & 0x3fff != 0
    }

    /// Whether the packet is a GSO packet (`skb_is_gso`): segmented on output, so its
    /// length is not the length of a packet on the wire.
    pub fn is_gso(&self) -> bool {
        // SAFETY: By the type invariant the `sk_buff` is valid.
        unsafe { bindings::skb_is_gso(self.0.get()) }
    }

    /// Whether the packet arrived on a network device (`skb->skb_iif` is set when a device
    /// receives it) rather than being made by this host's stack. At `LOCAL_OUT` a packet
    /// that arrived is one a hook sends on (ours after DNAT, or another's), never what a
    /// local socket, the stack's reset or its ICMP error sends: those start with no input
    /// device.
    pub fn arrived(&self) -> bool {
        // SAFETY: By the type invariant the `sk_buff` is valid; the helper only reads it.
        unsafe { bindings::ipvsd_skb_iif(self.0.get()) != 0 }
    }
}

/// The state of a packet's transport checksum (`skb->ip_summed`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChecksumState {
    /// Nothing known; the checksum field must be correct.
    None,
    /// The device verified it.
    Unnecessary,
    /// `skb->csum` holds the sum of the packet.
    Complete,
    /// Offloaded: the field holds the pseudo-header sum, to be completed on transmit.
    Partial,
}

/// A packet built by us (a TCP reset, say), owned until sent.
///
/// # Invariants
///
/// `0` points to a valid `sk_buff` that we own, whose linear data holds `len` bytes starting
/// at its network header.
pub struct NewPacket {
    skb: core::ptr::NonNull<bindings::sk_buff>,
    len: u32,
}

// SAFETY: An owned `sk_buff` may be sent or freed from any CPU.
unsafe impl Send for NewPacket {}

impl NewPacket {
    /// Allocates an IPv4 packet of `len` zero bytes (atomic allocation: usable in hooks).
    pub fn alloc_ipv4(len: u32) -> Result<Self> {
        // SAFETY: Allocation has no preconditions.
        let skb = unsafe { bindings::alloc_ipv4_skb(len) };
        // INVARIANT: the helper returns an owned packet with `len` linear bytes, or null.
        let skb = core::ptr::NonNull::new(skb).ok_or(ENOMEM)?;
        Ok(Self { skb, len })
    }

    /// The packet's bytes, from the IP header on.
    pub fn data_mut(&mut self) -> &mut [u8] {
        // SAFETY: By the type invariant the linear data holds `len` bytes, and we own the
        // packet exclusively.
        unsafe {
            core::slice::from_raw_parts_mut(
                bindings::skb_data(self.skb.as_ptr()),
                self.len as usize,
            )
        }
    }

    /// Sends the packet through `route` (`ip_local_out` in the initial namespace).
    pub fn send(self, route: crate::net::route::Route) {
        let skb = self.skb.as_ptr();
        core::mem::forget(self);
        // SAFETY: We own `skb` (type invariant); `skb_dst_set` takes over the route's
        // reference and `ip_local_out` consumes the packet in every case.
        unsafe {
            bindings::skb_dst_set(skb, route.into_dst());
            bindings::ip_local_out(
                core::ptr::addr_of_mut!(bindings::init_net),
                core::ptr::null_mut(),
                skb,
            );
        }
    }
}

impl Drop for NewPacket {
    fn drop(&mut self) {
        // SAFETY: We own the packet (type invariant) and it was not sent.
        unsafe { bindings::kfree_skb(self.skb.as_ptr()) };
    }
}
