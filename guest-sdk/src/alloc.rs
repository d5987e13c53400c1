//! The allocator of a function built with this SDK (cargo feature
//! `allocator`, on by default): small blocks are recycled through free
//! lists, one per size class, in front of the system allocator
//! (wasi-libc's dlmalloc).
//!
//! An invocation allocates and frees a handful of small blocks (the
//! context's strings, a header map, the response body, a log line), and
//! dlmalloc spends ~300 instructions on each malloc/free pair; popping and
//! pushing a free list costs a tenth of that. Each class keeps at most
//! [`KEEP`] blocks, so what it holds back from dlmalloc is bounded (1 MiB
//! across all classes); blocks past that, larger blocks and blocks
//! aligned to more than [`GRAIN`] go to dlmalloc as before.
//!
//! A function with its own `#[global_allocator]` turns this one off with
//! `default-features = false`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::UnsafeCell;
use std::ptr;

/// Size classes are multiples of this, and blocks are aligned to it.
const GRAIN: usize = 8;
/// Classes of 8, 16, ... 256 bytes.
const CLASSES: usize = 32;
/// Most free blocks one class keeps.
const KEEP: u32 = 256;

/// Free lists of small blocks in front of [`System`].
///
/// Not thread-safe: installed as the global allocator only where wasm has
/// no threads (`wasm32` without the `atomics` feature).
pub struct Allocator {
    lists: UnsafeCell<[FreeList; CLASSES]>,
}

#[derive(Clone, Copy)]
struct FreeList {
    head: *mut Block,
    len: u32,
}

/// A free block holds the link to the next one.
struct Block {
    next: *mut Block,
}

// SAFETY: only ever used by one thread: the global instance exists only on
// wasm32 without atomics, where there is one thread (see lib.rs), and tests
// use their own instances on one thread.
unsafe impl Sync for Allocator {}

impl Allocator {
    pub const fn new() -> Allocator {
        Allocator {
            lists: UnsafeCell::new(
                [FreeList {
                    head: ptr::null_mut(),
                    len: 0,
                }; CLASSES],
            ),
        }
    }

    /// The free list of class `c`.
    ///
    /// # Safety
    /// No other reference to the lists may be live (one thread, and no
    /// list operation calls back into the allocator).
    #[allow(clippy::mut_from_ref)]
    unsafe fn list(&self, c: usize) -> &mut FreeList {
        // SAFETY: `c < CLASSES` (from `class`), exclusivity from the caller.
        unsafe { &mut (*self.lists.get())[c] }
    }
}

impl Default for Allocator {
    fn default() -> Self {
        Allocator::new()
    }
}

/// The class of blocks that serves `layout`, if a class does.
fn class(layout: Layout) -> Option<usize> {
    if layout.align() > GRAIN || layout.size() > GRAIN * CLASSES {
        return None;
    }
    Some(layout.size().max(1).div_ceil(GRAIN) - 1)
}

/// What a block of class `c` is allocated from [`System`] as.
fn class_layout(c: usize) -> Layout {
    // SAFETY: the size is a positive multiple of GRAIN, a power of two,
    // and far below isize::MAX.
    unsafe { Layout::from_size_align_unchecked((c + 1) * GRAIN, GRAIN) }
}

// SAFETY: every block handed out is at least `layout.size()` bytes with at
// least `layout.align()` alignment (a class block is the class's size,
// aligned to GRAIN ≥ the layout's alignment), and a block is in a free list
// only after it was deallocated, so it is never handed out twice.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let Some(c) = class(layout) else {
            // SAFETY: forwarded as received.
            return unsafe { System.alloc(layout) };
        };
        // SAFETY: one thread; nothing below re-enters the allocator.
        let list = unsafe { self.list(c) };
        let block = list.head;
        if block.is_null() {
            // SAFETY: a valid layout of non-zero size.
            return unsafe { System.alloc(class_layout(c)) };
        }
        // SAFETY: `block` is a free block of this class: its first word is
        // the link written when it was freed.
        list.head = unsafe { (*block).next };
        list.len -= 1;
        block.cast()
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let Some(c) = class(layout) else {
            // SAFETY: `ptr` came from `System.alloc(layout)`.
            return unsafe { System.dealloc(ptr, layout) };
        };
        // SAFETY: one thread; nothing below re-enters the allocator.
        let list = unsafe { self.list(c) };
        if list.len >= KEEP {
            // SAFETY: every block of class `c` came from System with this layout.
            return unsafe { System.dealloc(ptr, class_layout(c)) };
        }
        let block = ptr.cast::<Block>();
        // SAFETY: the block is ours again, at least GRAIN bytes and
        // GRAIN-aligned: room for the link.
        unsafe { block.write(Block { next: list.head }) };
        list.head = block;
        list.len += 1;
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees `new_size`, rounded up to the
        // alignment, does not overflow isize.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        match (class(layout), class(new_layout)) {
            // Large to large: dlmalloc may grow the block in place.
            // SAFETY: `ptr` came from `System.alloc(layout)`.
            (None, None) => unsafe { System.realloc(ptr, layout, new_size) },
            (Some(old), Some(new)) if old == new => ptr,
            _ => {
                // SAFETY: `new_layout` is valid and of non-zero size.
                let moved = unsafe { self.alloc(new_layout) };
                if !moved.is_null() {
                    // SAFETY: both blocks hold at least the smaller size,
                    // and they are distinct allocations.
                    unsafe {
                        ptr::copy_nonoverlapping(ptr, moved, layout.size().min(new_size));
                        self.dealloc(ptr, layout);
                    }
                }
                moved
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap()
    }

    #[test]
    fn classes() {
        assert_eq!(class(layout(1, 1)), Some(0));
        assert_eq!(class(layout(8, 8)), Some(0));
        assert_eq!(class(layout(9, 4)), Some(1));
        assert_eq!(class(layout(256, 8)), Some(CLASSES - 1));
        assert_eq!(class(layout(257, 1)), None);
        assert_eq!(class(layout(16, 16)), None);
    }

    #[test]
    fn a_freed_block_is_handed_out_again_for_its_class_only() {
        let a = Allocator::new();
        unsafe {
            let p = a.alloc(layout(20, 4));
            a.dealloc(p, layout(20, 4));
            // 17..=24 bytes share the class.
            assert_eq!(a.alloc(layout(24, 8)), p);
            let q = a.alloc(layout(20, 4));
            assert_ne!(q, p);
            a.dealloc(p, layout(24, 8));
            // Another class does not get it.
            let r = a.alloc(layout(40, 8));
            assert_ne!(r, p);
            for (ptr, l) in [(q, layout(20, 4)), (r, layout(40, 8))] {
                a.dealloc(ptr, l);
            }
        }
    }

    #[test]
    fn a_class_keeps_at_most_keep_blocks() {
        let a = Allocator::new();
        let l = layout(64, 8);
        unsafe {
            let blocks: Vec<*mut u8> = (0..KEEP + 10).map(|_| a.alloc(l)).collect();
            for &b in &blocks {
                a.dealloc(b, l);
            }
            assert_eq!(a.list(class(l).unwrap()).len, KEEP);
            let again: Vec<*mut u8> = (0..KEEP).map(|_| a.alloc(l)).collect();
            assert!(again.iter().all(|p| blocks.contains(p)));
            assert_eq!(a.list(class(l).unwrap()).len, 0);
            for b in again {
                a.dealloc(b, l);
            }
        }
    }

    #[test]
    fn over_aligned_and_large_blocks_bypass_the_lists() {
        let a = Allocator::new();
        unsafe {
            for l in [layout(32, 32), layout(4096, 8)] {
                let p = a.alloc(l);
                assert_eq!(p as usize % l.align(), 0);
                a.dealloc(p, l);
            }
            assert!((0..CLASSES).all(|c| a.list(c).len == 0));
        }
    }

    /// Random allocations, reallocations and frees, each block filled with
    /// a pattern that must survive until it is freed.
    #[test]
    fn contents_survive_a_random_workload() {
        let a = Allocator::new();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut live: Vec<(*mut u8, Layout, u8)> = Vec::new();
        let check = |p: *mut u8, l: Layout, tag: u8| {
            assert_eq!(p as usize % l.align(), 0);
            let bytes = unsafe { std::slice::from_raw_parts(p, l.size()) };
            assert!(
                bytes.iter().all(|&b| b == tag),
                "block {p:?} of {l:?} was overwritten"
            );
        };
        for step in 0..20_000u32 {
            let r = next();
            let tag = (step % 251) as u8;
            match r % 4 {
                0 | 1 if live.len() < 500 => {
                    let size = 1 + (next() % 400) as usize;
                    let align = 1 << (next() % 5);
                    let l = layout(size, align);
                    let p = unsafe { a.alloc(l) };
                    assert!(!p.is_null());
                    unsafe { p.write_bytes(tag, size) };
                    live.push((p, l, tag));
                }
                2 if !live.is_empty() => {
                    let i = (next() as usize) % live.len();
                    let (p, l, old) = live[i];
                    check(p, l, old);
                    let new_size = 1 + (next() % 400) as usize;
                    let q = unsafe { a.realloc(p, l, new_size) };
                    assert!(!q.is_null());
                    let kept = unsafe { std::slice::from_raw_parts(q, l.size().min(new_size)) };
                    assert!(kept.iter().all(|&b| b == old));
                    unsafe { q.write_bytes(tag, new_size) };
                    live[i] = (q, layout(new_size, l.align()), tag);
                }
                _ if !live.is_empty() => {
                    let (p, l, tag) = live.swap_remove((next() as usize) % live.len());
                    check(p, l, tag);
                    unsafe { a.dealloc(p, l) };
                }
                _ => {}
            }
        }
        for (p, l, tag) in live {
            check(p, l, tag);
            unsafe { a.dealloc(p, l) };
        }
    }
}
