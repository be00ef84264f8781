// SPDX-License-Identifier: GPL-2.0

//! Generic netlink families.
//!
//! A [`Family`] describes the commands and the attribute policy; [`Registration`] registers
//! it, with strict attribute validation so that malformed requests are refused before the
//! handler runs, and unregisters it on drop. The operations that need `CAP_NET_ADMIN` are
//! checked here before the handler runs, with the test `GENL_ADMIN_PERM` makes, and refused
//! with `EPERM` and an extended-ack message (the core's own check gives none). The check
//! comes after the core's policy validation, so a malformed request gets `EINVAL` first.
//!
//! Handlers see a [`Request`] (attributes, extended-ack messages, a reply) for `doit`
//! commands and a [`Dump`] (attributes, a cursor kept between calls, messages) for dumps.
//!
//! C header: [`include/net/genetlink.h`](srctree/include/net/genetlink.h)

use crate::{
    bindings, container_of, error::code::*, prelude::*, str::CStr, types::Opaque, ThisModule,
};

/// The type of an attribute's payload.
#[derive(Clone, Copy, Debug)]
pub enum AttrType {
    /// An unused attribute number: requests carrying it are refused.
    Reject,
    /// `u8`.
    U8,
    /// `u16`.
    U16,
    /// `u32`.
    U32,
    /// `u64`.
    U64,
    /// A NUL-terminated string of at most `max_len` bytes before the NUL.
    NulString {
        /// The longest accepted string, in bytes, not counting the NUL.
        max_len: u16,
    },
}

/// How the kernel validates one attribute before a handler runs.
#[derive(Clone, Copy, Debug)]
pub struct AttrPolicy {
    ty: AttrType,
    min: Option<i16>,
    max: Option<i16>,
}

impl AttrPolicy {
    /// An attribute of type `ty`, any value.
    pub const fn new(ty: AttrType) -> Self {
        Self {
            ty,
            min: None,
            max: None,
        }
    }

    /// The same attribute, with integer values below `min` refused.
    pub const fn min(mut self, min: i16) -> Self {
        self.min = Some(min);
        self
    }

    /// The same attribute, with integer values above `max` refused.
    pub const fn max(mut self, max: i16) -> Self {
        self.max = Some(max);
        self
    }

    fn to_raw(self) -> bindings::nla_policy {
        // SAFETY: An all-zero `nla_policy` is valid (NLA_UNSPEC, no validation).
        let mut p: bindings::nla_policy = unsafe { core::mem::zeroed() };
        let (ty, len) = match self.ty {
            AttrType::Reject => (bindings::NLA_REJECT, 0),
            AttrType::U8 => (bindings::NLA_U8, 0),
            AttrType::U16 => (bindings::NLA_U16, 0),
            AttrType::U32 => (bindings::NLA_U32, 0),
            AttrType::U64 => (bindings::NLA_U64, 0),
            AttrType::NulString { max_len } => (bindings::NLA_NUL_STRING, max_len),
        };
        p.type_ = ty as u8;
        p.len = len;
        let validation = match (self.min, self.max) {
            (None, None) => None,
            (Some(_), None) => Some(bindings::nla_policy_validation_NLA_VALIDATE_MIN),
            (None, Some(_)) => Some(bindings::nla_policy_validation_NLA_VALIDATE_MAX),
            (Some(_), Some(_)) => Some(bindings::nla_policy_validation_NLA_VALIDATE_RANGE),
        };
        if let Some(v) = validation {
            p.validation_type = v as u8;
            p.__bindgen_anon_1.__bindgen_anon_1 =
                bindings::nla_policy__bindgen_ty_1__bindgen_ty_1 {
                    min: self.min.unwrap_or(0),
                    max: self.max.unwrap_or(0),
                };
        }
        p
    }
}

/// One command of a family.
#[derive(Clone, Copy, Debug)]
pub struct Op {
    /// The command number (`genlmsghdr.cmd`), at least 1.
    pub cmd: u8,
    /// Whether the command has a `doit` handler ([`Family::doit`]).
    pub doit: bool,
    /// Whether the command has a dump handler ([`Family::dumpit`]).
    pub dump: bool,
    /// Whether the caller needs `CAP_NET_ADMIN` in the initial user namespace (what
    /// `GENL_ADMIN_PERM` asks), checked before the handler runs, for a dump when it starts.
    pub admin: bool,
}

/// A generic netlink family's description and handlers.
///
/// The handlers run in process context, serialised with every other handler of every
/// non-parallel family (the kernel's `genl_mutex`); they may sleep.
pub trait Family: Send + Sync + 'static {
    /// The family's name (at most 15 bytes).
    const NAME: &'static CStr;
    /// The family's version.
    const VERSION: u8;
    /// The policy of attributes `1..=POLICY.len()`: `POLICY[i]` is attribute `i + 1`.
    const POLICY: &'static [AttrPolicy];
    /// The attribute number used to pad 64-bit attributes.
    const PAD_ATTR: u16;
    /// The commands.
    const OPS: &'static [Op];

    /// Handles a `doit` command.
    fn doit(&self, cmd: u8, req: &mut Request<'_>) -> Result;

    /// Fills `dump` with as many messages as fit; called again until a call adds none.
    fn dumpit(&self, cmd: u8, dump: &mut Dump<'_>) -> Result;
}

/// The attributes of a request, validated by the family's policy.
///
/// # Invariants
///
/// `attrs` points to an array of `max + 1` attribute pointers (null when absent), each
/// pointing to a validated attribute inside the request, valid for `'a`.
pub struct Attrs<'a> {
    attrs: *mut *mut bindings::nlattr,
    max: u16,
    _p: PhantomData<&'a bindings::nlattr>,
}

use core::marker::PhantomData;

impl<'a> Attrs<'a> {
    /// Wraps the attribute array the core parsed for a request to family `T`.
    ///
    /// # Safety
    ///
    /// `attrs` is null or the array of `T::POLICY.len() + 1` attribute pointers the generic
    /// netlink core filled by parsing a request with `T`'s policy, and it and the request
    /// stay valid for `'a`.
    unsafe fn from_raw<T: Family>(attrs: *mut *mut bindings::nlattr) -> Self {
        // INVARIANT: by the safety requirements.
        Self {
            attrs,
            max: T::POLICY.len() as u16,
            _p: PhantomData,
        }
    }

    /// The payload of attribute `ty`, if present.
    pub fn bytes(&self, ty: impl Into<u16>) -> Option<&'a [u8]> {
        let ty: u16 = ty.into();
        if ty == 0 || ty > self.max || self.attrs.is_null() {
            return None;
        }
        // SAFETY: By the type invariant the array has `max + 1` entries and `ty <= max`.
        let nla = unsafe { *self.attrs.add(usize::from(ty)) };
        if nla.is_null() {
            return None;
        }
        // SAFETY: A non-null entry points to a validated attribute inside the request.
        let len = unsafe { bindings::nla_len(nla) };
        let len = usize::try_from(len).ok()?;
        // SAFETY: The attribute's payload (`nla_len` bytes from `nla_data`) lies inside the
        // request, which outlives `'a`.
        Some(unsafe { core::slice::from_raw_parts(bindings::nla_data(nla).cast::<u8>(), len) })
    }

    /// Attribute `ty` as a `u8`.
    pub fn u8(&self, ty: impl Into<u16>) -> Option<u8> {
        Some(*self.bytes(ty)?.first()?)
    }

    /// Attribute `ty` as a `u16` (host order).
    pub fn u16(&self, ty: impl Into<u16>) -> Option<u16> {
        Some(u16::from_ne_bytes(
            self.bytes(ty)?.get(..2)?.try_into().ok()?,
        ))
    }

    /// Attribute `ty` as a `u32` (host order).
    pub fn u32(&self, ty: impl Into<u16>) -> Option<u32> {
        Some(u32::from_ne_bytes(
            self.bytes(ty)?.get(..4)?.try_into().ok()?,
        ))
    }

    /// Attribute `ty` as a `u32` in network order (an IPv4 address): the bytes as sent.
    pub fn be32_bytes(&self, ty: impl Into<u16>) -> Option<[u8; 4]> {
        self.bytes(ty)?.get(..4)?.try_into().ok()
    }

    /// Attribute `ty` as a string, without its NUL.
    pub fn string(&self, ty: impl Into<u16>) -> Option<&'a [u8]> {
        let b = self.bytes(ty)?;
        let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
        b.get(..end)
    }
}

/// A message being built: attributes are appended to it.
///
/// # Invariants
///
/// `skb` is a valid netlink message buffer in which a generic netlink header has been put
/// and not yet ended or cancelled.
pub struct Msg<'a> {
    skb: *mut bindings::sk_buff,
    pad: u16,
    _p: PhantomData<&'a mut bindings::sk_buff>,
}

/// `EMSGSIZE`: the message buffer is full.
fn emsgsize() -> Error {
    Error::from_errno(-(bindings::EMSGSIZE as i32))
}

fn put_result(ret: i32) -> Result {
    if ret == 0 {
        Ok(())
    } else {
        Err(emsgsize())
    }
}

impl Msg<'_> {
    /// Appends a `u8` attribute.
    pub fn put_u8(&mut self, ty: impl Into<u16>, v: u8) -> Result {
        let ty: u16 = ty.into();
        // SAFETY: `skb` is a valid message buffer (type invariant); `nla_put_u8` checks room.
        put_result(unsafe { bindings::nla_put_u8(self.skb, ty.into(), v) })
    }

    /// Appends a `u16` attribute (host order).
    pub fn put_u16(&mut self, ty: impl Into<u16>, v: u16) -> Result {
        let ty: u16 = ty.into();
        // SAFETY: `skb` is a valid message buffer (type invariant); `nla_put_u16` checks room.
        put_result(unsafe { bindings::nla_put_u16(self.skb, ty.into(), v) })
    }

    /// Appends a `u32` attribute (host order).
    pub fn put_u32(&mut self, ty: impl Into<u16>, v: u32) -> Result {
        let ty: u16 = ty.into();
        // SAFETY: `skb` is a valid message buffer (type invariant); `nla_put_u32` checks room.
        put_result(unsafe { bindings::nla_put_u32(self.skb, ty.into(), v) })
    }

    /// Appends a 4-byte attribute holding `bytes` as they are (an IPv4 address in network
    /// order).
    pub fn put_be32_bytes(&mut self, ty: impl Into<u16>, bytes: [u8; 4]) -> Result {
        self.put_u32(ty, u32::from_ne_bytes(bytes))
    }

    /// Appends a `u64` attribute (host order), padded for alignment.
    pub fn put_u64(&mut self, ty: impl Into<u16>, v: u64) -> Result {
        let ty: u16 = ty.into();
        // SAFETY: `skb` is a valid message buffer (type invariant); `nla_put_u64_64bit` checks room.
        put_result(unsafe { bindings::nla_put_u64_64bit(self.skb, ty.into(), v, self.pad.into()) })
    }

    /// Appends a NUL-terminated string attribute.
    pub fn put_string(&mut self, ty: impl Into<u16>, s: &CStr) -> Result {
        let ty: u16 = ty.into();
        // SAFETY: `skb` is a valid message buffer (type invariant); `nla_put_string` checks
        // room and reads `s` up to its NUL, which `CStr` guarantees.
        put_result(unsafe { bindings::nla_put_string(self.skb, ty.into(), s.as_char_ptr()) })
    }
}

/// A `doit` request.
///
/// # Invariants
///
/// `info` and `family` are valid for `'a`; `skb` is the request's buffer.
pub struct Request<'a> {
    info: *mut bindings::genl_info,
    family: *const bindings::genl_family,
    pad: u16,
    attrs: Attrs<'a>,
}

impl<'a> Request<'a> {
    /// The request's attributes.
    pub fn attrs(&self) -> &Attrs<'a> {
        &self.attrs
    }

    /// Sets the extended-ack message the caller receives with the error.
    pub fn set_error_msg(&mut self, msg: &'static CStr) {
        // SAFETY: `info` is valid (type invariant).
        let extack = unsafe { (*self.info).extack };
        if !extack.is_null() {
            // SAFETY: A non-null `extack` is valid for the request; the message is `'static`,
            // as `NL_SET_ERR_MSG` requires.
            unsafe { (*extack)._msg = msg.as_char_ptr() };
        }
    }

    /// Sends a reply with command `cmd`, whose attributes `fill` appends.
    pub fn reply(
        &mut self,
        cmd: impl Into<u8>,
        fill: impl FnOnce(&mut Msg<'_>) -> Result,
    ) -> Result {
        let cmd: u8 = cmd.into();
        // SAFETY: Allocating a message buffer has no preconditions.
        let skb = unsafe {
            bindings::genlmsg_new(bindings::NLMSG_DEFAULT_SIZE as usize, bindings::GFP_KERNEL)
        };
        if skb.is_null() {
            return Err(ENOMEM);
        }
        // SAFETY: `skb` is a new, empty message buffer; `info` and `family` are valid.
        let hdr = unsafe { bindings::genlmsg_put_reply(skb, self.info, self.family, 0, cmd) };
        if hdr.is_null() {
            // SAFETY: `skb` is ours and unused.
            unsafe { bindings::nlmsg_free(skb) };
            return Err(emsgsize());
        }
        // INVARIANT: a header has been put in `skb`.
        let mut msg = Msg {
            skb,
            pad: self.pad,
            _p: PhantomData,
        };
        if let Err(e) = fill(&mut msg) {
            // SAFETY: `skb` is ours and was not sent.
            unsafe { bindings::nlmsg_free(skb) };
            return Err(e);
        }
        // SAFETY: `hdr` was put in `skb`; `genlmsg_reply` consumes `skb` in every case.
        unsafe { bindings::genlmsg_end(skb, hdr) };
        // SAFETY: See above.
        to_result(unsafe { bindings::genlmsg_reply(skb, self.info) })
    }
}

use crate::error::to_result;

/// One call of a dump: add messages until the buffer is full; the next call resumes from the
/// cursor.
///
/// # Invariants
///
/// `skb`, `cb` and `family` are valid for `'a`; `cb` belongs to a dump of `family`.
pub struct Dump<'a> {
    skb: *mut bindings::sk_buff,
    cb: *mut bindings::netlink_callback,
    family: *const bindings::genl_family,
    pad: u16,
    attrs: Attrs<'a>,
}

impl<'a> Dump<'a> {
    /// Sets the extended-ack message that the dump's error carries (in `NLMSG_DONE`).
    pub fn set_error_msg(&mut self, msg: &'static CStr) {
        // SAFETY: `cb` is valid (type invariant); during the callback `cb->extack` is null or
        // the extended ack that `netlink_dump` reports with `NLMSG_DONE`.
        let extack = unsafe { (*self.cb).extack };
        if !extack.is_null() {
            // SAFETY: A non-null `extack` is valid for the call; the message is `'static`.
            unsafe { (*extack)._msg = msg.as_char_ptr() };
        }
    }

    /// The request's attributes.
    pub fn attrs(&self) -> &Attrs<'a> {
        &self.attrs
    }

    /// Cursor slot `i` (0..6), zero at the start of the dump, kept between calls.
    pub fn cursor(&self, i: usize) -> i64 {
        if i >= 6 {
            return 0;
        }
        // SAFETY: `cb` is valid (type invariant); `args` is the `long` view of `ctx`, any
        // bit pattern is a valid `long`, and `i < 6`.
        unsafe { (*self.cb).__bindgen_anon_1.args[i] as i64 }
    }

    /// Sets cursor slot `i` (0..6).
    pub fn set_cursor(&mut self, i: usize, v: i64) {
        if i < 6 {
            // SAFETY: As in `cursor`; the dump owns `cb` during the call.
            unsafe { (*self.cb).__bindgen_anon_1.args[i] = v as _ };
        }
    }

    /// Records the generation of the data being dumped. If it differs between two calls of
    /// the same dump, the following messages carry `NLM_F_DUMP_INTR`, telling the caller
    /// that the data changed during the dump and it should ask again.
    pub fn set_generation(&mut self, generation: u32) {
        // SAFETY: `cb` is valid and owned by the dump during the call.
        unsafe { (*self.cb).seq = generation };
    }

    /// Adds one message with command `cmd`, whose attributes `fill` appends.
    ///
    /// Returns `Ok(false)` when the buffer is full (the message is not added: stop and
    /// resume from the same place on the next call).
    pub fn message(
        &mut self,
        cmd: impl Into<u8>,
        fill: impl FnOnce(&mut Msg<'_>) -> Result,
    ) -> Result<bool> {
        let cmd: u8 = cmd.into();
        // SAFETY: `skb`, `cb` and `family` are valid (type invariant).
        let hdr = unsafe { bindings::genlmsg_put_dump(self.skb, self.cb, self.family, cmd) };
        if hdr.is_null() {
            return Ok(false);
        }
        // INVARIANT: a header has been put in `skb`.
        let mut msg = Msg {
            skb: self.skb,
            pad: self.pad,
            _p: PhantomData,
        };
        match fill(&mut msg) {
            Ok(()) => {
                // SAFETY: `hdr` was just put in `skb`.
                unsafe {
                    bindings::genl_dump_check_consistent(self.cb, hdr);
                    bindings::genlmsg_end(self.skb, hdr);
                }
                Ok(true)
            }
            Err(e) => {
                // SAFETY: `hdr` was just put in `skb` and not ended.
                unsafe { bindings::genlmsg_cancel(self.skb, hdr) };
                if e == emsgsize() {
                    Ok(false)
                } else {
                    Err(e)
                }
            }
        }
    }
}

#[repr(C)]
struct Inner<T> {
    family: Opaque<bindings::genl_family>,
    handler: T,
}

/// A registered generic netlink family.
///
/// # Invariants
///
/// `inner.family` is registered with the generic netlink core from construction until
/// `drop`, with `ops` and `policy` as its operations and policy; all three stay allocated
/// and unchanged until then.
pub struct Registration<T: Family> {
    inner: Pin<KBox<Inner<T>>>,
    _ops: KVec<bindings::genl_ops>,
    _policy: KVec<bindings::nla_policy>,
}

// SAFETY: The registration holds the handler (`T: Send`) and C data that the generic
// netlink core synchronises itself.
unsafe impl<T: Family> Send for Registration<T> {}
// SAFETY: `&Registration` exposes only `&T`, and `T: Sync`.
unsafe impl<T: Family> Sync for Registration<T> {}

impl<T: Family> Registration<T> {
    /// Registers the family described by `T`, answered by `handler`.
    pub fn new(handler: T, module: &'static ThisModule) -> Result<Self> {
        let name = T::NAME.as_bytes();
        if name.len() >= bindings::GENL_NAMSIZ as usize || T::POLICY.len() > u16::MAX as usize {
            return Err(EINVAL);
        }
        let mut policy = KVec::with_capacity(T::POLICY.len() + 1, GFP_KERNEL)?;
        policy.push(AttrPolicy::new(AttrType::Reject).to_raw(), GFP_KERNEL)?;
        for p in T::POLICY {
            policy.push(p.to_raw(), GFP_KERNEL)?;
        }
        let mut ops = KVec::with_capacity(T::OPS.len(), GFP_KERNEL)?;
        for op in T::OPS {
            // SAFETY: An all-zero `genl_ops` is valid (no callbacks, no flags).
            let mut o: bindings::genl_ops = unsafe { core::mem::zeroed() };
            o.cmd = op.cmd;
            if op.doit {
                o.doit = Some(Adapter::<T>::doit);
            }
            if op.dump {
                o.dumpit = Some(Adapter::<T>::dumpit);
                if op.admin {
                    o.start = Some(Adapter::<T>::start_admin);
                }
            }
            ops.push(o, GFP_KERNEL)?;
        }
        let inner = KBox::pin(
            Inner {
                family: Opaque::uninit(),
                handler,
            },
            GFP_KERNEL,
        )?;
        let f = inner.family.get();
        // SAFETY: `f` is ours and unpublished; an all-zero `genl_family` is valid, then we fill
        // in what the core reads. The name fits (checked above) and stays NUL-terminated.
        unsafe {
            core::ptr::write_bytes(f, 0, 1);
            for (i, &c) in name.iter().enumerate() {
                (*f).name[i] = c as _;
            }
            (*f).version = T::VERSION.into();
            (*f).maxattr = T::POLICY.len() as u32;
            (*f).policy = policy.as_ptr();
            (*f).ops = ops.as_ptr();
            (*f).n_ops = ops.len() as u8;
            // Strict validation (unknown attributes and trailing data refused) for all ops.
            (*f).resv_start_op = 1;
            (*f).module = module.as_ptr();
        }
        // SAFETY: `f` is fully initialised; it, `ops` and `policy` stay allocated and
        // unchanged until `drop` unregisters the family.
        to_result(unsafe { bindings::genl_register_family(f) })?;
        // INVARIANT: the family is registered with `ops` and `policy`.
        Ok(Self {
            inner,
            _ops: ops,
            _policy: policy,
        })
    }

    /// The handler.
    pub fn handler(&self) -> &T {
        &self.inner.handler
    }
}

impl<T: Family> Drop for Registration<T> {
    fn drop(&mut self) {
        // SAFETY: The family is registered (type invariant); unregistering takes the core's
        // locks, so no handler runs afterwards (dumps in progress pin the module).
        unsafe { bindings::genl_unregister_family(self.inner.family.get()) };
    }
}

struct Adapter<T>(PhantomData<T>);

/// The message of a request refused for want of `CAP_NET_ADMIN`.
const NEEDS_NET_ADMIN: &CStr = crate::c_str!("CAP_NET_ADMIN is required");

/// Whether the sender of `skb` may run an operation that needs `CAP_NET_ADMIN`; if not,
/// sets `extack`'s message (when there is one).
///
/// # Safety
///
/// `skb` must be a netlink request being handled, and `extack` null or its valid extended
/// ack.
unsafe fn net_admin(skb: *const bindings::sk_buff, extack: *mut bindings::netlink_ext_ack) -> bool {
    // SAFETY: `skb` is a netlink request (the caller's guarantee), whose control block names
    // the sending socket that `netlink_capable` checks.
    if unsafe { bindings::ipvsd_netlink_net_admin(skb) } {
        return true;
    }
    if !extack.is_null() {
        // SAFETY: A non-null `extack` is valid (the caller's guarantee); the message is
        // `'static`.
        unsafe { (*extack)._msg = NEEDS_NET_ADMIN.as_char_ptr() };
    }
    false
}

impl<T: Family> Adapter<T> {
    /// The handler of the registration whose `genl_family` is `family`.
    ///
    /// # Safety
    ///
    /// `family` must be the `family` field of a live `Inner<T>`.
    unsafe fn handler<'a>(family: *const bindings::genl_family) -> &'a T {
        // SAFETY: Guaranteed by the caller: `family` is the first field of an `Inner<T>`
        // (`repr(C)`, `Opaque<T>` has `T`'s layout).
        let inner = unsafe {
            &*container_of!(
                family.cast::<Opaque<bindings::genl_family>>(),
                Inner<T>,
                family
            )
        };
        &inner.handler
    }

    /// # Safety
    ///
    /// Called by the generic netlink core for a `doit` operation of a family registered by
    /// [`Registration::new`], with a valid request and `info`.
    unsafe extern "C" fn doit(skb: *mut bindings::sk_buff, info: *mut bindings::genl_info) -> i32 {
        // SAFETY: `info` is valid for the call.
        let (family, attrs, cmd, extack) = unsafe {
            (
                (*info).family,
                (*info).attrs,
                (*(*info).genlhdr).cmd,
                (*info).extack,
            )
        };
        let admin = T::OPS.iter().any(|op| op.cmd == cmd && op.admin);
        // SAFETY: `skb` is the request and `extack` its extended ack, valid for the call.
        if admin && !unsafe { net_admin(skb, extack) } {
            return EPERM.to_errno();
        }
        // SAFETY: `family` is our registered family, embedded in a live `Inner<T>`.
        let handler = unsafe { Self::handler(family) };
        // INVARIANT: `info` and `family` are valid for the call.
        let mut req = Request {
            info,
            family,
            pad: T::PAD_ATTR,
            // SAFETY: the core parsed `attrs` from this request with our policy of
            // `maxattr` (`T::POLICY.len()`) entries; both live until the `doit` returns.
            attrs: unsafe { Attrs::from_raw::<T>(attrs) },
        };
        match handler.doit(cmd, &mut req) {
            Ok(()) => 0,
            Err(e) => e.to_errno(),
        }
    }

    /// Refuses a dump that needs `CAP_NET_ADMIN` to a sender without it.
    ///
    /// # Safety
    ///
    /// Called by the generic netlink core as the `start` of a dump of a family registered by
    /// [`Registration::new`], with a valid callback.
    unsafe extern "C" fn start_admin(cb: *mut bindings::netlink_callback) -> i32 {
        // SAFETY: `cb` is valid; at `start`, `cb->skb` is the request and `cb->extack` null
        // or the request's extended ack (`__netlink_dump_start`).
        if unsafe { net_admin((*cb).skb, (*cb).extack) } {
            0
        } else {
            EPERM.to_errno()
        }
    }

    /// # Safety
    ///
    /// Called by the generic netlink core for a dump of a family registered by
    /// [`Registration::new`], with a valid buffer and callback.
    unsafe extern "C" fn dumpit(
        skb: *mut bindings::sk_buff,
        cb: *mut bindings::netlink_callback,
    ) -> i32 {
        // SAFETY: For a generic netlink dump, `cb->data` is the `genl_dumpit_info` the core
        // filled (family, parsed attributes, header) before the first call.
        let (family, attrs, cmd) = unsafe {
            let info = bindings::genl_dumpit_info(cb);
            (
                (*info).info.family,
                (*info).info.attrs,
                (*(*info).info.genlhdr).cmd,
            )
        };
        // SAFETY: `family` is our registered family, embedded in a live `Inner<T>`.
        let handler = unsafe { Self::handler(family) };
        // INVARIANT: `skb`, `cb` and `family` are valid for the call.
        let mut dump = Dump {
            skb,
            cb,
            family,
            pad: T::PAD_ATTR,
            // SAFETY: the core parsed `attrs` from the dump's request with our policy when
            // the dump started (`genl_start`) and keeps them until it is done.
            attrs: unsafe { Attrs::from_raw::<T>(attrs) },
        };
        match handler.dumpit(cmd, &mut dump) {
            // SAFETY: `skb` is valid; its length says whether this call added anything.
            Ok(()) => unsafe { (*skb).len as i32 },
            Err(e) => e.to_errno(),
        }
    }
}
