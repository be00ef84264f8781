// SPDX-License-Identifier: GPL-2.0
//! An in-place heapsort: at most O(n log n) comparisons, no allocation, no recursion, no
//! panic.
//!
//! The module sorts its configuration snapshots (services, real servers, reply sources)
//! and the maglev permutations with this, not with `core`'s `sort_unstable`: that one's
//! small-sort helper ends in a panic function that the 6.12 objtool does not know to be
//! `noreturn`, so every module build warned "falls through to next function".

/// Sorts `v` in ascending order (not stable).
pub fn sort<T: Ord>(v: &mut [T]) {
    sort_by_less(v, |a, b| a < b);
}

/// Sorts `v` by the keys `key` gives (not stable).
pub fn sort_by_key<T, K: Ord>(v: &mut [T], mut key: impl FnMut(&T) -> K) {
    sort_by_less(v, |a, b| key(a) < key(b));
}

fn sort_by_less<T>(v: &mut [T], mut less: impl FnMut(&T, &T) -> bool) {
    let n = v.len();
    // A max-heap first; then its top, the largest left, goes to the end, one by one.
    for root in (0..n / 2).rev() {
        sift_down(v, root, n, &mut less);
    }
    for end in (1..n).rev() {
        v.swap(0, end);
        sift_down(v, 0, end, &mut less);
    }
}

/// Moves `v[root]` down the heap `v[..end]` until neither child is larger.
fn sift_down<T>(v: &mut [T], mut root: usize, end: usize, less: &mut impl FnMut(&T, &T) -> bool) {
    let heap = match v.get_mut(..end) {
        Some(h) => h,
        None => return,
    };
    loop {
        // `root < end <= isize::MAX`: no overflow.
        let left = 2 * root + 1;
        let mut child = left;
        match (heap.get(left), heap.get(left + 1)) {
            (None, _) => return,
            (Some(l), Some(r)) if less(l, r) => child = left + 1,
            _ => {}
        }
        match (heap.get(root), heap.get(child)) {
            (Some(p), Some(c)) if less(p, c) => heap.swap(root, child),
            _ => return,
        }
        root = child;
    }
}
