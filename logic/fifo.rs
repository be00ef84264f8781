// SPDX-License-Identifier: GPL-2.0
//! A bounded first-in, first-out queue over storage the caller owns, which forgets its
//! oldest element to make room when full.
//!
//! The connection table keeps one per shard: the half-open entries in the order they
//! became half-open, so that eviction takes the oldest in O(1) instead of scanning.

/// The queue's place in its storage: `len` elements from `head`, wrapping around.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fifo {
    head: usize,
    len: usize,
}

impl Fifo {
    /// An empty queue.
    pub const fn new() -> Self {
        Self { head: 0, len: 0 }
    }

    /// How many elements it holds.
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether it holds nothing.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends `v`. When `slots` is full, the oldest element is dropped to make room and
    /// returned. With no storage at all nothing is kept and `v` itself is returned.
    pub fn push<T: Copy>(&mut self, slots: &mut [T], v: T) -> Option<T> {
        let cap = slots.len();
        if cap == 0 {
            return Some(v);
        }
        let dropped = if self.len == cap {
            self.pop(slots)
        } else {
            None
        };
        let tail = (self.head + self.len) % cap;
        if let Some(s) = slots.get_mut(tail) {
            *s = v;
            self.len += 1;
        }
        dropped
    }

    /// The oldest element.
    pub fn front<T: Copy>(&self, slots: &[T]) -> Option<T> {
        if self.len == 0 {
            return None;
        }
        slots.get(self.head).copied()
    }

    /// Removes and returns the oldest element.
    pub fn pop<T: Copy>(&mut self, slots: &[T]) -> Option<T> {
        let v = self.front(slots)?;
        self.head = (self.head + 1) % slots.len();
        self.len -= 1;
        Some(v)
    }
}
