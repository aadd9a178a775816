//! The least a hot-key report can cost on this machine, for `benches/bench.sh`. A file is read in
//! as many ranges as threads, cut at line starts, each range counted on its own thread, as
//! faina-filter reads a named file; the threads' tables are joined at the end. No bound on memory:
//! every table is an exact std `HashMap` (SipHash-1-3, or with `--fast-hash` a keyed
//! multiply-fold hash: a word at a time, two 64×64→128-bit multiplications per word, as cheap as
//! a hash of strangers' keys can be).
//!
//! Usage: floor [--threads N] [--scan | --report | --tight | --report --tight] [--fast-hash] [--top N] FILE
//!
//! Without `--report`, every MONITOR line is found and its key (the second quoted field) counted,
//! and nothing else: no timestamp, client, command table, byte counts or prefixes. A quote after an
//! odd run of backslashes is escaped, as the server writes one. `--scan` only finds
//! each line's key (its length summed), without any table: the cost of the scan alone. Prints the
//! distinct keys counted (summed over the threads' tables) and the lines; with `--top N`, then the
//! distinct keys of the joined tables and the `N` most counted keys.
//!
//! `--tight` counts the same keys in a table built for them: one flat open-addressing table per
//! thread (an entry is one cache line: a tag of the key's hash, its count and the key, up to 48
//! bytes, a longer key in an arena; at most three quarters full), the multiply-fold hash of each key taken a few keys before its probe
//! and the probe's cache line fetched ahead, the table in huge pages where Linux gives them; the
//! tables are joined at the end and it prints the distinct keys and the lines (and with `--top N`
//! the top keys, as above).
//!
//! `--report` counts what the default report's sections show, and nothing more, and prints it as
//! one line of JSON named as `--format json` names it:
//! - Overall: lines, commands, noise (`OK`, blank lines), skipped lines (not MONITOR lines), the
//!   first and last timestamps (microseconds), key accesses.
//! - Per key, in one entry (one probe per key access): its accesses, how many wrote it (by the
//!   command table's access; reads are the rest), its request bytes (each command's arguments
//!   after the name, unescaped lengths, shared among its keys, the first key taking the
//!   remainder), and its cluster slot (CRC16 of its hash tag, computed when the key enters).
//!   Every key of every command counts: which arguments are keys, and whether each is written,
//!   is the crate's own command table's answer (`faina_filter::commands::Table`, subcommands and
//!   key specs included; a command it does not know has its first argument as its key). A key is
//!   unescaped only when it has a backslash.
//! - Top Prefixes (up to the first `:`) and Top Slots are summed from the exact per-key counts at
//!   the end: the prefix and slot of a key are those of every access of it.
//! - Commands: calls by command id (by lower-case name for those the table does not know).
//! - Clients: commands per client address without its port, a table probe per line.
//! - Command Time: each command's gap from the previous one (timestamps going backwards give
//!   none), charged to the later line (Redis >= 6.2.4): a log-linear histogram (a bucket per value
//!   below 128 µs, 64 per power of two above) for the percentiles and max, and each command's
//!   total; the 10 slowest calls (longest gaps, ties to the earlier line), their lines kept whole
//!   as they are found.
//! - The join: sums, and the gap across each cut charged to the later range's first command; then
//!   the rows of each section picked (key leaders in one pass over the keys). The tables are not
//!   freed: the process ends.
//!
//! `--report --tight` counts the same, prints the same line, and keeps its tables as `--tight`
//! does: per thread, one flat open-addressing table of keys (an entry is one cache line: the
//! hash's low half, the key's counts, reads and writes, request bytes and slot, and the key
//! inline up to 24 bytes), each key's hash taken when it is found and its entry's cache line asked
//! for, its counts added a few keys later (before the block it lies in is read over); clients and
//! prefixes in small flat tables of the same kind, commands by command id in a direct array, slots
//! summed from the keys into a direct array at the end. That the key's name and its bytes tally
//! share the entry of its counts is what a floor may assume and the bounded report may not: the
//! floor is exact and unbounded (every distinct key keeps its entry to the end, and a key's prefix
//! and slot are those of every access of it), where the report's tables are bounded: keys, their
//! request bytes and prefixes each in a table of its own, the slot counted at each access.
//!
//! The lines, the header and every argument are found in one forward pass 16 bytes at a time
//! (SSE2 on x86-64, two words elsewhere); command names go through a small direct-mapped cache
//! ahead of the table. It reads today's line form only (`SECONDS.MICROS [DB CLIENT] "ARG" ...`;
//! the older forms the report also reads are taken as skipped), leaves out what only other inputs
//! or flags need (nodes, replies and latencies of packet captures, windows, `--commands`), and
//! takes the client as what follows the db up to the `] "` before the first quote (a unix socket
//! path holding `"` is not read as the report reads it). Arguments are handed to the command
//! table as written, escaped: a keyword or a count spelled with escapes (which the server never
//! writes) would not be read as such.

use std::cmp::Reverse;
use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::fs::File;
use std::hash::{BuildHasher, Hasher};
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use bstr::ByteSlice;
use faina_filter::commands::{Access, Lookup, Table};
use faina_filter::monitor::{Args, Span};

/// The bytes read at a time by each thread.
const CHUNK: usize = 1 << 20;

/// The end of the quoted field that starts at `from` (just past its opening quote).
/// A quote ends it unless an odd run of backslashes comes before it: `\\"` is an escaped
/// backslash, then the end.
fn closing_quote(line: &[u8], from: usize) -> Option<usize> {
    let mut after = from;
    loop {
        let at = after + line[after..].find_byte(b'"')?;
        let backslashes = line[from..at].iter().rev().take_while(|&&b| b == b'\\').count();
        if backslashes % 2 == 0 {
            return Some(at);
        }
        after = at + 1;
    }
}

/// The key of a MONITOR line: its second quoted field.
fn key(line: &[u8]) -> Option<&[u8]> {
    let name = line.find_byte(b'"')? + 1;
    let name_end = closing_quote(line, name)?;
    let key = name_end + 1 + line[name_end + 1..].find_byte(b'"')? + 1;
    Some(&line[key..closing_quote(line, key)?])
}

/// Reads what follows `at` (up to `end`) into `buf[held..]`: how many bytes, 0 at the end. A
/// buffer held full by one line stops the run with a message: the floor reads lines of up to
/// [`CHUNK`] bytes, and would otherwise take the rest of the range for its end.
fn read_on(file: &File, buf: &mut [u8], held: usize, at: u64, end: u64) -> usize {
    let want = ((end - at) as usize).min(buf.len() - held);
    if want == 0 && at < end {
        eprintln!("floor: a line longer than {CHUNK} bytes before byte {at}: the floor reads lines up to that");
        std::process::exit(2);
    }
    if want == 0 {
        0
    } else {
        file.read_at(&mut buf[held..held + want], at).expect("read")
    }
}

/// Calls `each` with every line of `range` of `file`.
fn lines(file: &File, range: Range<u64>, mut each: impl FnMut(&[u8])) {
    let mut buf = vec![0; CHUNK];
    let (mut held, mut at) = (0, range.start);
    loop {
        let n = read_on(file, &mut buf, held, at, range.end);
        at += n as u64;
        let have = held + n;
        let mut start = 0;
        while let Some(nl) = buf[start..have].find_byte(b'\n') {
            each(&buf[start..start + nl]);
            start += nl + 1;
        }
        if n == 0 {
            return;
        }
        buf.copy_within(start..have, 0);
        held = have - start;
    }
}

/// `parts` ranges of `file`, each starting just after a line feed.
fn ranges(file: &File, parts: u64) -> Vec<Range<u64>> {
    let len = file.metadata().expect("stat").len();
    let mut cuts = vec![0];
    for part in 1..parts {
        let mut head = [0; 64 * 1024];
        let from = len * part / parts;
        let n = file.read_at(&mut head, from).expect("read");
        if let Some(nl) = head[..n].find_byte(b'\n') {
            cuts.push(from + nl as u64 + 1);
        }
    }
    cuts.push(len);
    cuts.windows(2).map(|w| w[0]..w[1]).collect()
}

/// A keyed multiply-fold hash: each 8-byte word (the last zero-padded) mixed with the run's key
/// and folded through a 128-bit product.
#[derive(Clone, Copy)]
struct Fold {
    k0: u64,
    k1: u64,
}

impl Fold {
    fn new() -> Fold {
        let random = RandomState::new();
        Fold { k0: random.hash_one(1u8) | 1, k1: random.hash_one(2u8) | 1 }
    }
}

impl Fold {
    /// The hash of `bytes` for the flat tables: the same folds, but no word of padding: the last
    /// word overlaps the one before (or a short name's bytes are gathered), and no fold to finish
    /// (the last fold already mixes its length in): a name of 9 to 16 bytes takes two products.
    #[inline]
    fn bytes(&self, bytes: &[u8]) -> u64 {
        let n = bytes.len();
        let mut h = self.k0 ^ n as u64;
        let last = if n >= 8 {
            let mut at = 0;
            while at + 8 < n {
                h = fold(h ^ word(&bytes[at..at + 8]), self.k1);
                at += 8;
            }
            word(&bytes[n - 8..])
        } else if n >= 4 {
            let quarter = |at: usize| u64::from(u32::from_le_bytes(bytes[at..at + 4].try_into().expect("four bytes")));
            quarter(0) | quarter(n - 4) << 32
        } else if n > 0 {
            u64::from(bytes[0]) | u64::from(bytes[n / 2]) << 8 | u64::from(bytes[n - 1]) << 16
        } else {
            0
        };
        fold(h ^ last ^ self.k1, self.k0 ^ (n as u64).rotate_left(32))
    }
}

struct FoldHasher {
    key: Fold,
    h: u64,
}

fn fold(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ (p >> 64) as u64
}

impl Hasher for FoldHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes(c.try_into().expect("eight bytes"));
            self.h = fold(self.h ^ w ^ self.key.k0, self.key.k1);
        }
        let mut last = [0; 8];
        last[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
        self.h = fold(self.h ^ u64::from_le_bytes(last) ^ self.key.k1, self.key.k0 ^ bytes.len() as u64);
    }

    fn write_usize(&mut self, _length: usize) {}

    fn finish(&self) -> u64 {
        fold(self.h, self.key.k1)
    }
}

impl BuildHasher for Fold {
    type Hasher = FoldHasher;

    fn build_hasher(&self) -> FoldHasher {
        FoldHasher { key: *self, h: 0 }
    }
}

/// Counts (or with `scan`, only finds) the keys of `range` in `counts`: (distinct keys, lines).
fn count<S: BuildHasher>(
    file: &File,
    range: Range<u64>,
    scan: bool,
    mut counts: HashMap<Vec<u8>, u64, S>,
) -> (HashMap<Vec<u8>, u64, S>, u64) {
    let (mut lines_seen, mut key_bytes) = (0, 0);
    lines(file, range, |line| {
        lines_seen += 1;
        let Some(key) = key(line) else { return };
        if scan {
            key_bytes += key.len();
        } else if let Some(n) = counts.get_mut(key) {
            *n += 1;
        } else {
            counts.insert(key.to_vec(), 1);
        }
    });
    std::hint::black_box(key_bytes);
    (counts, lines_seen)
}

/// Calls `each` with the whole lines of each chunk of `range` of `file` (each ending in a line feed,
/// the last maybe not).
fn blocks(file: &File, range: Range<u64>, mut each: impl FnMut(&[u8])) {
    let mut buf = vec![0; CHUNK];
    let (mut held, mut at) = (0, range.start);
    loop {
        let n = read_on(file, &mut buf, held, at, range.end);
        at += n as u64;
        let have = held + n;
        if n == 0 {
            each(&buf[..have]);
            return;
        }
        let end = buf[..have].rfind_byte(b'\n').map_or(0, |nl| nl + 1);
        each(&buf[..end]);
        buf.copy_within(end..have, 0);
        held = have - end;
    }
}

/// `n` copies of `value` in huge pages where the kernel gives them: a table of megabytes probed at
/// random would otherwise miss the TLB on nearly every probe.
fn filled<T: Copy>(n: usize, value: T) -> Vec<T> {
    let mut all = Vec::with_capacity(n);
    #[cfg(target_os = "linux")]
    {
        // The whole pages of the allocation, not yet touched.
        let (start, end) = (all.as_ptr() as usize, all.as_ptr() as usize + n * size_of::<T>());
        let (start, end) = ((start + 4095) & !4095, end & !4095);
        if end > start {
            // SAFETY: advice on pages of the vector's own allocation; it changes no memory, and a
            // refusal is harmless.
            unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE) };
        }
    }
    all.resize(n, value);
    all
}

/// The keys whose lookups are under way: each key's hash is computed, and its slot's cache line
/// asked for, this many keys before its count is added.
const AHEAD: usize = 8;

/// Counts the keys of `range` in a [`FlatMap`]: (the table, lines).
fn count_flat(file: &File, range: Range<u64>, hasher: Fold) -> (FlatMap<u64, 48>, u64) {
    let mut table = FlatMap::new(hasher, 1 << 12);
    let mut lines_seen = 0;
    blocks(file, range, |block| {
        // Each pending key as (start, end, hash) in `block`, oldest at `next`.
        let mut pending = [(0, 0, 0); AHEAD];
        let (mut next, mut held) = (0, 0);
        let mut start = 0;
        while start < block.len() {
            let end = block[start..].find_byte(b'\n').map_or(block.len(), |nl| start + nl);
            let line = &block[start..end];
            lines_seen += 1;
            if let Some(key) = key(line) {
                let from = key.as_ptr() as usize - block.as_ptr() as usize;
                let hash = table.hash(key);
                table.prefetch(hash);
                if held == AHEAD {
                    let (s, e, h) = pending[next];
                    table.add(&block[s..e], h, 1);
                } else {
                    held += 1;
                }
                pending[next] = (from, from + key.len(), hash);
                next = (next + 1) % AHEAD;
            }
            start = end + 1;
        }
        for i in 0..held {
            let (s, e, h) = pending[(next + AHEAD - held + i) % AHEAD];
            table.add(&block[s..e], h, 1);
        }
    });
    (table, lines_seen)
}

/// `--tight`: the threads' [`FlatMap`] tables joined into the first; prints the distinct keys, the
/// lines and, with `top`, the `top` most counted keys.
fn tight(file: &File, ranges: Vec<Range<u64>>, top: usize) {
    let hasher = Fold::new();
    let mut each = std::thread::scope(|s| {
        let threads: Vec<_> = ranges.into_iter().map(|r| s.spawn(move || count_flat(file, r, hasher))).collect();
        threads.into_iter().map(|t| t.join().expect("thread")).collect::<Vec<_>>()
    })
    .into_iter();
    let (mut whole, mut lines) = each.next().expect("a range");
    for (later, n) in each {
        join_table(&mut whole, &later, |mine, n| *mine += n);
        lines += n;
        std::mem::forget(later);
    }
    println!("{} distinct keys in {lines} lines", whole.len());
    print_top(whole.each(), top);
    std::mem::forget(whole);
}

/// Prints the `top` most counted keys, ties by key.
fn print_top<'a>(all: impl Iterator<Item = (&'a [u8], u64)>, top: usize) {
    if top == 0 {
        return;
    }
    let order = |a: &(&[u8], u64), b: &(&[u8], u64)| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0));
    let mut all: Vec<_> = all.collect();
    if all.len() > top {
        all.select_nth_unstable_by(top - 1, order);
        all.truncate(top);
    }
    all.sort_unstable_by(order);
    for (key, count) in all {
        println!("{count} {}", key.as_bstr());
    }
}

/// The numbers the report keeps of one key: one entry, so one probe per key access.
#[derive(Clone, Copy, Default)]
struct KeyCounts {
    count: u64,
    writes: u64,
    /// Its shares of its commands' request bytes.
    bytes: u64,
    /// Its cluster hash slot, computed when it enters.
    slot: u16,
}

impl KeyCounts {
    fn add(&mut self, other: &KeyCounts) {
        self.count += other.count;
        self.writes += other.writes;
        self.bytes += other.bytes;
    }
}

/// An exact table from names to `V`, as the report's sections keep them: a std `HashMap`
/// (`--report`) or a [`FlatMap`] (`--report --tight`).
trait Tally<V: Copy> {
    fn get_mut(&mut self, name: &[u8]) -> Option<&mut V>;
    fn insert(&mut self, name: &[u8], value: V);
    fn len(&self) -> usize;
    fn each(&self) -> impl Iterator<Item = (&[u8], V)>;
    /// Makes room for `more` names.
    fn reserve(&mut self, more: usize);
}

impl<V: Copy, S: BuildHasher> Tally<V> for HashMap<Box<[u8]>, V, S> {
    #[inline]
    fn get_mut(&mut self, name: &[u8]) -> Option<&mut V> {
        HashMap::get_mut(self, name)
    }

    fn insert(&mut self, name: &[u8], value: V) {
        HashMap::insert(self, name.into(), value);
    }

    fn len(&self) -> usize {
        HashMap::len(self)
    }

    fn reserve(&mut self, more: usize) {
        HashMap::reserve(self, more);
    }

    fn each(&self) -> impl Iterator<Item = (&[u8], V)> {
        self.iter().map(|(k, &v)| (&k[..], v))
    }
}

/// Adds the names of `later` to `table` (`add` joining the values of a name both have): those
/// both have first, then room made for the others. Inserted in the order of the later table's
/// cells into a flat table as narrow, they would fill runs of neighbouring cells and probe along
/// them (40 s for the 2M distinct keys of d2m).
fn join_table<V: Copy>(table: &mut impl Tally<V>, later: &impl Tally<V>, add: impl Fn(&mut V, V)) {
    let mut new = Vec::new();
    for (name, value) in later.each() {
        match table.get_mut(name) {
            Some(mine) => add(mine, value),
            None => new.push((name, value)),
        }
    }
    table.reserve(new.len());
    for (name, value) in new {
        table.insert(name, value);
    }
}

/// Adds `n` to the count of `name`.
#[inline]
fn tally(table: &mut impl Tally<u64>, name: &[u8], n: u64) {
    match table.get_mut(name) {
        Some(count) => *count += n,
        None => table.insert(name, n),
    }
}

/// The key table: a [`Tally`] that may hold an access a few keys (its key where `block` has it)
/// so as to fetch its entry meanwhile.
trait Keys: Tally<KeyCounts> {
    /// Counts an access of the key `block[key]`: at once, or by the next [`Keys::flush`].
    #[inline]
    fn access(&mut self, block: &[u8], key: Range<usize>, add: KeyCounts) {
        self.bump(&block[key], add);
    }

    /// Counts the accesses still held, before `block` is overwritten.
    fn flush(&mut self, _block: &[u8]) {}

    /// Counts an access of `name` at once.
    #[inline]
    fn bump(&mut self, name: &[u8], add: KeyCounts) {
        match self.get_mut(name) {
            Some(k) => k.add(&add),
            None => self.new_key(name, add),
        }
    }

    // Rare paths kept out of the loop, so that it stays small enough to have its hashing inlined.
    #[cold]
    #[inline(never)]
    fn new_key(&mut self, name: &[u8], add: KeyCounts) {
        self.insert(name, KeyCounts { slot: faina_filter::cluster::slot(name), ..add });
    }
}

impl<S: BuildHasher> Keys for HashMap<Box<[u8]>, KeyCounts, S> {}

/// One entry of a [`FlatMap`]: one cache line, the name (up to `K` bytes) beside its value.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Cell<V, const K: usize> {
    /// The low half of the name's hash, its lowest bit set (0 in an empty cell): the cell's home
    /// is `tag >> 1`, so that a wider table places it again without hashing its name.
    tag: u32,
    len: u32,
    value: V,
    /// The name, or for a longer name its offset in the arena in the first eight bytes.
    name: [u8; K],
}

/// A key's cell: its counts and slot, and keys of up to 24 bytes inline (today's captures' keys
/// are 2 to 21 bytes, but for one of 40).
type KeyCell = Cell<KeyCounts, 24>;
/// A client's or a prefix's cell: the count, and names of up to 48 bytes inline.
type NameCell = Cell<u64, 48>;
const _: () = assert!(std::mem::size_of::<KeyCell>() == 64 && std::mem::size_of::<NameCell>() == 64);

/// An exact table from names to `V` in one open-addressing table (linear probing, at most three
/// quarters full: the less memory, the more of it stays in the cache), no pointer to follow for
/// names up to `K` bytes.
struct FlatMap<V, const K: usize> {
    cells: Vec<Cell<V, K>>,
    used: usize,
    arena: Vec<u8>,
    hasher: Fold,
}

impl<V: Copy + Default, const K: usize> FlatMap<V, K> {
    fn new(hasher: Fold, cells: usize) -> Self {
        FlatMap { cells: Self::empty(cells), used: 0, arena: Vec::new(), hasher }
    }

    fn empty(n: usize) -> Vec<Cell<V, K>> {
        filled(n, Cell { tag: 0, len: 0, value: V::default(), name: [0; K] })
    }

    #[inline]
    fn hash(&self, name: &[u8]) -> u64 {
        self.hasher.bytes(name)
    }

    /// The home of `hash`, and its tag.
    #[inline]
    fn home(&self, hash: u64) -> (usize, u32) {
        let tag = hash as u32 | 1;
        ((tag >> 1) as usize & (self.cells.len() - 1), tag)
    }

    /// Asks for the cache line where the probe for `hash` starts.
    #[inline]
    fn prefetch(&self, hash: u64) {
        let cell = &self.cells[self.home(hash).0];
        #[cfg(target_arch = "x86_64")]
        // SAFETY: a prefetch of a valid address has no effect on memory.
        unsafe {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            _mm_prefetch::<_MM_HINT_T0>((cell as *const Cell<V, K>).cast());
        }
        #[cfg(not(target_arch = "x86_64"))]
        std::hint::black_box(cell);
    }

    #[inline]
    fn name_of<'a>(&'a self, c: &'a Cell<V, K>) -> &'a [u8] {
        let len = c.len as usize;
        if len <= K {
            &c.name[..len]
        } else {
            let at = u64::from_le_bytes(c.name[..8].try_into().expect("eight bytes")) as usize;
            &self.arena[at..at + len]
        }
    }

    /// The cell of `name`, whose hash is `hash`, or the empty cell where it would go.
    #[inline]
    fn find(&self, name: &[u8], hash: u64) -> Result<usize, usize> {
        let (mut at, tag) = self.home(hash);
        let mask = self.cells.len() - 1;
        loop {
            let c = &self.cells[at];
            if c.tag == 0 {
                return Err(at);
            }
            if c.tag == tag && c.len as usize == name.len() && equal(self.name_of(c), name) {
                return Ok(at);
            }
            at = (at + 1) & mask;
        }
    }

    /// Puts `name` and `value` in the empty cell `at`.
    #[cold]
    #[inline(never)]
    fn insert_at(&mut self, at: usize, name: &[u8], hash: u64, value: V) {
        let mut c = Cell { tag: self.home(hash).1, len: name.len() as u32, value, name: [0; K] };
        if name.len() <= K {
            c.name[..name.len()].copy_from_slice(name);
        } else {
            c.name[..8].copy_from_slice(&(self.arena.len() as u64).to_le_bytes());
            self.arena.extend_from_slice(name);
        }
        self.cells[at] = c;
        self.used += 1;
        if self.used * 4 > self.cells.len() * 3 {
            self.grow();
        }
    }

    fn grow(&mut self) {
        self.widen(self.cells.len() * 2);
    }

    /// Places every name again in a table of `cells` cells.
    fn widen(&mut self, cells: usize) {
        let wider = Self::empty(cells);
        let old = std::mem::replace(&mut self.cells, wider);
        let mask = self.cells.len() - 1;
        for c in old.into_iter().filter(|c| c.tag != 0) {
            let mut at = (c.tag >> 1) as usize & mask;
            while self.cells[at].tag != 0 {
                at = (at + 1) & mask;
            }
            self.cells[at] = c;
        }
    }
}

impl<const K: usize> FlatMap<u64, K> {
    /// Adds `n` to the count of `name`, whose hash is `hash`.
    #[inline]
    fn add(&mut self, name: &[u8], hash: u64, n: u64) {
        match self.find(name, hash) {
            Ok(at) => self.cells[at].value += n,
            Err(at) => self.insert_at(at, name, hash, n),
        }
    }
}

impl<V: Copy + Default, const K: usize> Tally<V> for FlatMap<V, K> {
    fn reserve(&mut self, more: usize) {
        let mut cells = self.cells.len();
        while (self.used + more) * 4 > cells * 3 {
            cells *= 2;
        }
        if cells > self.cells.len() {
            self.widen(cells);
        }
    }

    #[inline]
    fn get_mut(&mut self, name: &[u8]) -> Option<&mut V> {
        let at = self.find(name, self.hash(name)).ok()?;
        Some(&mut self.cells[at].value)
    }

    fn insert(&mut self, name: &[u8], value: V) {
        let hash = self.hash(name);
        match self.find(name, hash) {
            Ok(at) => self.cells[at].value = value,
            Err(at) => self.insert_at(at, name, hash, value),
        }
    }

    fn len(&self) -> usize {
        self.used
    }

    fn each(&self) -> impl Iterator<Item = (&[u8], V)> {
        self.cells.iter().filter(|c| c.tag != 0).map(|c| (self.name_of(c), c.value))
    }
}

/// Whether two names of the same length are equal: up to 32 bytes a word at a time (the last word
/// overlapping the one before), without a call.
#[inline(always)]
fn equal(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if !(8..=32).contains(&n) {
        return a == b;
    }
    let mut at = 0;
    while at + 8 < n {
        if word(&a[at..at + 8]) != word(&b[at..at + 8]) {
            return false;
        }
        at += 8;
    }
    word(&a[n - 8..]) == word(&b[n - 8..])
}

/// The keys of `--report --tight`: a [`FlatMap`] whose accesses are held [`AHEAD`] keys, each
/// key's hash taken and its cell's cache line asked for when it is found, its counts added
/// [`AHEAD`] keys later (as `--tight` does).
struct FlatKeys {
    map: FlatMap<KeyCounts, 24>,
    /// Each held access as (where its key is in the block, its hash, what it adds), oldest at
    /// `next`.
    held: [(usize, usize, u64, KeyCounts); AHEAD],
    next: usize,
    holding: usize,
}

impl FlatKeys {
    fn new(hasher: Fold) -> FlatKeys {
        let none = (0, 0, 0, KeyCounts::default());
        FlatKeys { map: FlatMap::new(hasher, 1 << 12), held: [none; AHEAD], next: 0, holding: 0 }
    }

    #[inline]
    fn count(&mut self, name: &[u8], hash: u64, add: KeyCounts) {
        match self.map.find(name, hash) {
            Ok(at) => self.map.cells[at].value.add(&add),
            Err(at) => self.map.insert_at(at, name, hash, KeyCounts { slot: faina_filter::cluster::slot(name), ..add }),
        }
    }
}

impl Tally<KeyCounts> for FlatKeys {
    fn get_mut(&mut self, name: &[u8]) -> Option<&mut KeyCounts> {
        self.map.get_mut(name)
    }

    fn insert(&mut self, name: &[u8], value: KeyCounts) {
        self.map.insert(name, value);
    }

    fn len(&self) -> usize {
        self.map.len()
    }

    fn reserve(&mut self, more: usize) {
        self.map.reserve(more);
    }

    fn each(&self) -> impl Iterator<Item = (&[u8], KeyCounts)> {
        self.map.each()
    }
}

impl Keys for FlatKeys {
    #[inline]
    fn access(&mut self, block: &[u8], key: Range<usize>, add: KeyCounts) {
        let hash = self.map.hash(&block[key.clone()]);
        self.map.prefetch(hash);
        if self.holding == AHEAD {
            let (start, end, hash, add) = self.held[self.next];
            self.count(&block[start..end], hash, add);
        } else {
            self.holding += 1;
        }
        self.held[self.next] = (key.start, key.end, hash, add);
        self.next = (self.next + 1) % AHEAD;
    }

    fn flush(&mut self, block: &[u8]) {
        for i in 0..self.holding {
            let (start, end, hash, add) = self.held[(self.next + AHEAD - self.holding + i) % AHEAD];
            self.count(&block[start..end], hash, add);
        }
        self.holding = 0;
    }

    #[inline]
    fn bump(&mut self, name: &[u8], add: KeyCounts) {
        self.count(name, self.map.hash(name), add);
    }
}

/// How a run of the report's floor keeps its tables.
trait Maps: Clone {
    type Keys: Keys + Send;
    /// Clients and prefixes.
    type Names: Tally<u64> + Send;
    /// The hasher of the (rare) commands the table does not know.
    type Hash: BuildHasher + Clone + Send;
    fn keys(&self) -> Self::Keys;
    fn names(&self) -> Self::Names;
    fn hasher(&self) -> Self::Hash;
}

/// `--report`: std `HashMap`s, hashed by `S`.
#[derive(Clone)]
struct Plain<S>(S);

impl<S: BuildHasher + Clone + Send> Maps for Plain<S> {
    type Keys = HashMap<Box<[u8]>, KeyCounts, S>;
    type Names = HashMap<Box<[u8]>, u64, S>;
    type Hash = S;

    fn keys(&self) -> Self::Keys {
        HashMap::with_hasher(self.0.clone())
    }

    fn names(&self) -> Self::Names {
        HashMap::with_hasher(self.0.clone())
    }

    fn hasher(&self) -> S {
        self.0.clone()
    }
}

/// `--report --tight`: flat tables, the multiply-fold hash.
#[derive(Clone, Copy)]
struct Tight(Fold);

impl Maps for Tight {
    type Keys = FlatKeys;
    type Names = FlatMap<u64, 48>;
    type Hash = Fold;

    fn keys(&self) -> FlatKeys {
        FlatKeys::new(self.0)
    }

    fn names(&self) -> Self::Names {
        FlatMap::new(self.0, 1 << 8)
    }

    fn hasher(&self) -> Fold {
        self.0
    }
}

/// Calls of one command and the gaps charged to it.
#[derive(Clone, Copy, Default)]
struct CommandCounts {
    calls: u64,
    gap_total: u64,
    gaps: u64,
}

impl CommandCounts {
    fn add(&mut self, other: &CommandCounts) {
        self.calls += other.calls;
        self.gap_total += other.gap_total;
        self.gaps += other.gaps;
    }
}

/// Values below 128 a bucket each, above 64 buckets per power of two: the report's percentiles.
#[derive(Default)]
struct Gaps {
    buckets: Vec<u64>,
    count: u64,
    sum: u64,
    min: u64,
    max: u64,
}

fn bucket_of(v: u64) -> usize {
    if v < 128 {
        return v as usize;
    }
    let exp = 63 - v.leading_zeros();
    (128 + u64::from(exp - 7) * 64 + ((v >> (exp - 6)) & 63)) as usize
}

fn bucket_value(bucket: usize) -> u64 {
    let b = bucket as u64;
    if b < 128 {
        return b;
    }
    let exp = (b - 128) / 64 + 7;
    let low = (1 << exp) | ((b - 128) % 64) << (exp - 6);
    low + (1 << (exp - 6)) / 2
}

impl Gaps {
    #[inline]
    fn record(&mut self, gap: u64) {
        let b = bucket_of(gap);
        if b >= self.buckets.len() {
            self.buckets.resize(b + 1, 0);
        }
        self.buckets[b] += 1;
        if self.count == 0 || gap < self.min {
            self.min = gap;
        }
        self.count += 1;
        self.sum = self.sum.saturating_add(gap);
        self.max = self.max.max(gap);
    }

    fn add(&mut self, other: &Gaps) {
        if self.buckets.len() < other.buckets.len() {
            self.buckets.resize(other.buckets.len(), 0);
        }
        for (mine, theirs) in self.buckets.iter_mut().zip(&other.buckets) {
            *mine += theirs;
        }
        if other.count > 0 && (self.count == 0 || other.min < self.min) {
            self.min = other.min;
        }
        self.count += other.count;
        self.sum = self.sum.saturating_add(other.sum);
        self.max = self.max.max(other.max);
    }

    fn quantile(&self, q: f64) -> Option<u64> {
        let rank = ((q * self.count as f64).ceil() as u64).clamp(1, self.count.max(1));
        let mut seen = 0;
        for (bucket, &n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return Some(bucket_value(bucket).clamp(self.min, self.max));
            }
        }
        None
    }
}

/// One of the slowest calls: its gap, its position among the commands, and its line.
#[derive(Clone)]
struct Slow {
    gap: u64,
    seq: u64,
    line: Box<[u8]>,
}

/// Rows per section, as the report's `--top` default.
const TOP: usize = 10;

/// The first command of a range: its gap is the join's to find.
struct Opening {
    micros: u64,
    command: Option<u16>,
    name: Box<[u8]>,
    line: Box<[u8]>,
}

/// An argument of a line: where it is (quotes excluded), its length unescaped, and whether it has
/// a backslash.
#[derive(Clone, Copy)]
struct Arg {
    start: usize,
    end: usize,
    len: usize,
    escaped: bool,
}

/// What one range counted.
struct Counts<M: Maps> {
    maps: M,
    lines: u64,
    commands: u64,
    noise: u64,
    skipped: u64,
    first: u64,
    last: u64,
    /// The last command's timestamp, and the commands so far.
    prev: Option<u64>,
    seq: u64,
    keys: M::Keys,
    key_accesses: u64,
    key_bytes: u64,
    /// By command id; commands the table does not know, by their name in lower case.
    known: Vec<CommandCounts>,
    unknown: HashMap<Box<[u8]>, CommandCounts, M::Hash>,
    clients: M::Names,
    gaps: Gaps,
    slowest: Vec<Slow>,
    /// The least gap kept, once [`TOP`] are.
    slow_bar: Option<u64>,
    opening: Option<Opening>,
}

impl<M: Maps> Counts<M> {
    fn new(maps: &M) -> Counts<M> {
        Counts {
            maps: maps.clone(),
            lines: 0,
            commands: 0,
            noise: 0,
            skipped: 0,
            first: u64::MAX,
            last: 0,
            prev: None,
            seq: 0,
            keys: maps.keys(),
            key_accesses: 0,
            key_bytes: 0,
            known: Vec::new(),
            unknown: HashMap::with_hasher(maps.hasher()),
            clients: maps.names(),
            gaps: Gaps::default(),
            slowest: Vec::new(),
            slow_bar: None,
            opening: None,
        }
    }

    fn command_counts(&mut self, id: Option<u16>, name: &[u8]) -> &mut CommandCounts {
        match id {
            Some(id) => {
                let i = usize::from(id);
                if self.known.len() <= i {
                    self.known.resize(i + 1, CommandCounts::default());
                }
                &mut self.known[i]
            }
            None => self.unknown_command(name),
        }
    }

    #[cold]
    #[inline(never)]
    fn unknown_command(&mut self, name: &[u8]) -> &mut CommandCounts {
        if !self.unknown.contains_key(name) {
            self.unknown.insert(name.into(), CommandCounts::default());
        }
        self.unknown.get_mut(name).expect("just inserted")
    }

    #[cold]
    #[inline(never)]
    fn new_client(&mut self, client: &[u8]) {
        self.clients.insert(client, 1);
    }

    #[cold]
    #[inline(never)]
    fn open(&mut self, micros: u64, command: Option<u16>, name: &[u8], line: &[u8]) {
        self.opening = Some(Opening { micros, command, name: name.into(), line: line.into() });
    }

    #[cold]
    #[inline(never)]
    fn keep_slow(&mut self, call: Slow) {
        self.slowest.push(call);
        if self.slowest.len() > TOP {
            let least = (0..self.slowest.len())
                .min_by_key(|&i| (self.slowest[i].gap, Reverse(self.slowest[i].seq)))
                .expect("not empty");
            self.slowest.swap_remove(least);
        }
        if self.slowest.len() == TOP {
            self.slow_bar = self.slowest.iter().map(|s| s.gap).min();
        }
    }
}

/// A line's timestamp in microseconds (seconds, a dot, the fraction's first six digits), and
/// where the space after it is.
#[inline]
fn timestamp(line: &[u8]) -> Option<(u64, usize)> {
    // Today's form, ten digits, a dot and six, read a word at a time.
    if let (Some(head), Some(tail), Some(b' ')) = (line.get(..8), line.get(9..17), line.get(17)) {
        let (head, tail) = (word(head), word(tail));
        // The tail word is the ninth and tenth digits, the dot, and the six: the dot made a `0`.
        let tail = tail & !(0xff << 8) | u64::from(b'0') << 8;
        if line[8].is_ascii_digit() && line[10] == b'.' && digits(head) && digits(tail) {
            // The tenth digit, a 0, the six digits.
            let rest = eight_digits(tail);
            let (tenth, frac) = (rest / 10_000_000, rest % 1_000_000);
            let secs = eight_digits(head) * 100 + u64::from(line[8] - b'0') * 10 + tenth;
            return Some((secs * 1_000_000 + frac, 17));
        }
    }
    let (mut secs, mut i) = (0u64, 0);
    while let Some(d) = line.get(i).map(|b| b.wrapping_sub(b'0')).filter(|&d| d < 10) {
        secs = secs.checked_mul(10)?.checked_add(u64::from(d))?;
        i += 1;
    }
    if i == 0 || line.get(i) != Some(&b'.') {
        return None;
    }
    let (mut frac, mut digits) = (0u64, 0);
    i += 1;
    while let Some(d) = line.get(i).map(|b| b.wrapping_sub(b'0')).filter(|&d| d < 10) {
        if digits < 6 {
            frac = frac * 10 + u64::from(d);
            digits += 1;
        }
        i += 1;
    }
    if digits == 0 || line.get(i) != Some(&b' ') {
        return None;
    }
    Some((secs.checked_mul(1_000_000)? + frac * 10u64.pow(6 - digits), i))
}

/// Eight bytes as a little-endian word.
#[inline]
fn word(bytes: &[u8]) -> u64 {
    u64::from_le_bytes(bytes.try_into().expect("eight bytes"))
}

/// Every byte of `w` is an ASCII digit.
#[inline]
fn digits(w: u64) -> bool {
    const LOW: u64 = 0x0f0f_0f0f_0f0f_0f0f;
    let x = w ^ 0x3030_3030_3030_3030;
    (x & !LOW) | ((x & LOW) + 0x0606_0606_0606_0606) & 0x1010_1010_1010_1010 == 0
}

/// The number eight ASCII digits (the first the most significant) spell.
#[inline]
fn eight_digits(w: u64) -> u64 {
    let x = w & 0x0f0f_0f0f_0f0f_0f0f;
    let x = (x * 10 + (x >> 8)) & 0x00ff_00ff_00ff_00ff;
    let x = (x * 100 + (x >> 16)) & 0x0000_ffff_0000_ffff;
    (x * 10_000 + (x >> 32)) & 0xffff_ffff
}

/// The quotes and backslashes of a line, in order, found 16 bytes at a time.
struct Marks<'a> {
    /// The line, and what follows it in the buffer: a block may be read past its end.
    text: &'a [u8],
    end: usize,
    at: usize,
    bits: u32,
}

impl<'a> Marks<'a> {
    /// The marks of `text[from..end]`.
    fn new(text: &'a [u8], end: usize, from: usize) -> Marks<'a> {
        let mut marks = Marks { text, end, at: from, bits: 0 };
        marks.load();
        marks
    }

    #[inline]
    fn load(&mut self) {
        if self.at >= self.end {
            self.bits = 0;
            return;
        }
        let bits = match self.text.get(self.at..self.at + 16) {
            Some(block) => quotes(block),
            None => {
                let mut last = [0; 16];
                let tail = &self.text[self.at..];
                last[..tail.len()].copy_from_slice(tail);
                quotes(&last)
            }
        };
        let room = self.end - self.at;
        self.bits = if room < 16 { bits & ((1 << room) - 1) } else { bits };
    }

    #[inline]
    fn next(&mut self) -> Option<usize> {
        while self.bits == 0 {
            self.at += 16;
            if self.at >= self.end {
                return None;
            }
            self.load();
        }
        let at = self.at + self.bits.trailing_zeros() as usize;
        self.bits &= self.bits - 1;
        Some(at)
    }

    /// Drops the marks before `to`.
    #[inline]
    fn skip_to(&mut self, to: usize) {
        if to >= self.at + 16 {
            self.at = to;
            self.load();
        } else if to > self.at {
            self.bits &= u32::MAX << (to - self.at);
        }
    }
}

/// The bytes of the 16 at the start of `block` that are `"` or `\`, as bits.
#[cfg(target_arch = "x86_64")]
#[inline]
fn quotes(block: &[u8]) -> u32 {
    use std::arch::x86_64::{_mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8};
    assert!(block.len() >= 16);
    // SAFETY: SSE2 is part of x86-64, and the unaligned load reads 16 bytes of `block`.
    unsafe {
        let v = _mm_loadu_si128(block.as_ptr().cast());
        let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
        let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
        _mm_movemask_epi8(_mm_or_si128(quote, backslash)) as u32
    }
}

/// The bytes of the 16 at the start of `block` that are line feeds, as bits.
#[cfg(target_arch = "x86_64")]
#[inline]
fn line_feeds(block: &[u8]) -> u32 {
    use std::arch::x86_64::{_mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8};
    assert!(block.len() >= 16);
    // SAFETY: as in `quotes`.
    unsafe {
        _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(block.as_ptr().cast()), _mm_set1_epi8(b'\n' as i8))) as u32
    }
}

/// Elsewhere, a word at a time.
#[cfg(not(target_arch = "x86_64"))]
fn quotes(block: &[u8]) -> u32 {
    bits(block, |w| matches(w, b'"') | matches(w, b'\\'))
}

#[cfg(not(target_arch = "x86_64"))]
fn line_feeds(block: &[u8]) -> u32 {
    bits(block, |w| matches(w, b'\n'))
}

/// The high bits `of` sets in each byte of the two words of `block`, as one bit a byte.
#[cfg(not(target_arch = "x86_64"))]
fn bits(block: &[u8], of: impl Fn(u64) -> u64) -> u32 {
    let mut out = 0;
    for (half, w) in block[..16].chunks_exact(8).enumerate() {
        let high = of(word(w));
        for byte in 0..8 {
            out |= (((high >> (8 * byte + 7)) & 1) as u32) << (8 * half + byte);
        }
    }
    out
}

/// The high bit of each byte of `word` that is `byte`.
#[cfg(not(target_arch = "x86_64"))]
fn matches(word: u64, byte: u8) -> u64 {
    const LOW: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let x = word ^ (u64::from(byte) * 0x0101_0101_0101_0101);
    !(((x & LOW) + LOW) | x | LOW)
}

/// Where the first line feed of `text` is, 16 bytes at a time.
#[inline]
fn line_feed(text: &[u8]) -> Option<usize> {
    let mut at = 0;
    while let Some(block) = text.get(at..at + 16) {
        let found = line_feeds(block);
        if found != 0 {
            return Some(at + found.trailing_zeros() as usize);
        }
        at += 16;
    }
    text[at..].find_byte(b'\n').map(|n| at + n)
}

/// Calls `each(block, Some((start, len)))` with every line `block[start..start + len]` of
/// `range` of `file`, the block going on with what follows the line in the buffer (so blocks are
/// read past a line's end uncopied), and `each(block, None)` when the block's lines are done,
/// before the buffer is overwritten.
fn lines_ahead(file: &File, range: Range<u64>, mut each: impl FnMut(&[u8], Option<(usize, usize)>)) {
    let mut buf = vec![0; CHUNK];
    let (mut held, mut at) = (0, range.start);
    loop {
        let n = read_on(file, &mut buf, held, at, range.end);
        at += n as u64;
        let have = held + n;
        let mut start = 0;
        while let Some(nl) = line_feed(&buf[start..have]) {
            each(&buf[..have], Some((start, nl)));
            start += nl + 1;
        }
        if n == 0 {
            if start < have {
                each(&buf[..have], Some((start, have - start)));
            }
            each(&buf[..have], None);
            return;
        }
        each(&buf[..have], None);
        buf.copy_within(start..have, 0);
        held = have - start;
    }
}

/// How many bytes the escape at `raw[0]` (a backslash) takes: `\xHH` four, any other two.
#[inline]
fn escape_len(raw: &[u8]) -> usize {
    match raw {
        [_, b'x', h, l, ..] if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() => 4,
        _ => 2,
    }
}

/// An argument's bytes from MONITOR's quoting (`\xHH`, `\n \r \t \a \b`, any other byte after a
/// backslash as itself), appended to `out`: a byte at a time (such keys are short).
fn unescape(raw: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while let Some(&b) = raw.get(i) {
        if b != b'\\' {
            out.push(b);
            i += 1;
            continue;
        }
        let used = escape_len(&raw[i..]);
        out.push(match raw.get(i + 1) {
            Some(b'x') if used == 4 => {
                let hex = |b: u8| (b as char).to_digit(16).expect("hex digit") as u8;
                hex(raw[i + 2]) << 4 | hex(raw[i + 3])
            }
            Some(b'n') => b'\n',
            Some(b'r') => b'\r',
            Some(b't') => b'\t',
            Some(b'a') => 7,
            Some(b'b') => 8,
            Some(&other) => other,
            None => break,
        });
        i += used;
    }
}

/// The arguments of a MONITOR line (`"a" "b\x00"`), whose opening quote is the next of `marks`,
/// into `args`; `None` when the line does not end as a list of quoted arguments does.
#[inline]
fn arguments(line: &[u8], open: usize, mut marks: Marks<'_>, args: &mut Vec<Arg>) -> Option<()> {
    let mut start = open + 1;
    loop {
        let (mut escaped, mut saved) = (false, 0);
        let close = loop {
            let at = marks.next()?;
            if line[at] == b'"' {
                break at;
            }
            let used = escape_len(&line[at..]);
            escaped = true;
            saved += used - 1;
            marks.skip_to(at + used);
        };
        args.push(Arg { start, end: close, len: close - start - saved, escaped });
        match line.get(close + 1) {
            None => return Some(()),
            Some(b' ') if line.get(close + 2) == Some(&b'"') => {}
            Some(_) => return None,
        }
        // Only a space lies between: the next mark is this opening quote.
        marks.next();
        start = close + 3;
    }
}

/// Command names as written to what the table resolves them to: a direct-mapped cache of names
/// of up to 16 bytes, so that most lines cost a compare of two words instead of a lower-casing
/// and a lookup. A miss asks the table (a stranger's names cost no more than that), and a
/// command with subcommands always does: its second argument decides.
struct Names {
    table: Arc<Table>,
    /// The name's two words (zero-padded), its length, and what it resolved to.
    slots: Vec<(u64, u64, usize, Lookup)>,
    /// By command id: it has subcommands.
    containers: Vec<bool>,
}

impl Names {
    fn new(table: Arc<Table>) -> Names {
        let mut containers = vec![false; table.commands().len()];
        for cmd in table.commands() {
            if let Some((container, _)) = cmd.name.split_once('|') {
                if let Lookup::Known(id, _) = table.lookup(container.as_bytes(), None) {
                    containers[usize::from(id)] = true;
                }
            }
        }
        Names { table, slots: vec![(0, 0, usize::MAX, Lookup::Unknown); 256], containers }
    }

    /// The command of the call whose name is `line[start..end]` and second argument `second`.
    #[inline]
    fn lookup(&mut self, line: &[u8], start: usize, end: usize, second: Option<&[u8]>) -> Lookup {
        let (name, len) = (&line[start..end], end - start);
        if len > 16 {
            return self.table.lookup(name, second);
        }
        let (a, b) = match line.get(start..start + 16) {
            Some(w) => (word(&w[..8]) & low_bytes(len), word(&w[8..]) & low_bytes(len.saturating_sub(8))),
            None => {
                let mut w = [0; 16];
                w[..len].copy_from_slice(name);
                (word(&w[..8]), word(&w[8..]))
            }
        };
        let i = ((a ^ b.rotate_left(29) ^ len as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 56) as usize;
        let slot = self.slots[i];
        if (slot.0, slot.1, slot.2) == (a, b, len) {
            return slot.3;
        }
        let found = self.table.lookup(name, second);
        if let Lookup::Known(id, 1) = found {
            if !self.containers[usize::from(id)] {
                self.slots[i] = (a, b, len, found);
            }
        }
        found
    }
}

/// A mask of the low `n` bytes of a word (all eight for `n` of 8 or more).
#[inline]
fn low_bytes(n: usize) -> u64 {
    if n >= 8 {
        u64::MAX
    } else {
        (1 << (8 * n)) - 1
    }
}

/// What a range's lines need to be counted: the command table, and buffers reused per line.
struct Reader<F> {
    names: Names,
    /// The table's keys of a call, as positions and whether each is written.
    keys_of: F,
    args: Vec<Arg>,
    spans: Vec<Span>,
    keys: Vec<(usize, bool)>,
    key: Vec<u8>,
}

/// The keys of a call as the table finds them: positions, and whether each is written.
trait KeysOf: FnMut(Lookup, &Args<'_>, &mut Vec<(usize, bool)>) {}

impl<F: FnMut(Lookup, &Args<'_>, &mut Vec<(usize, bool)>)> KeysOf for F {}

/// A reader of lines with the built-in command table.
fn reader() -> Reader<impl KeysOf> {
    let table = Table::shared();
    let mut found = Vec::new();
    let of = Arc::clone(&table);
    let keys_of = move |lookup: Lookup, args: &Args<'_>, out: &mut Vec<(usize, bool)>| {
        found.clear();
        of.keys(lookup, args, &mut found);
        out.extend(found.iter().map(|k| (k.pos, k.access == Access::Write)));
    };
    let names = Names::new(Arc::clone(&table));
    Reader { names, keys_of, args: Vec::new(), spans: Vec::new(), keys: Vec::new(), key: Vec::new() }
}

impl<F: KeysOf> Reader<F> {
    /// Counts the line `block[start..start + len]` (the block goes on with what follows it).
    fn count<M: Maps>(&mut self, block: &[u8], start: usize, len: usize, counts: &mut Counts<M>, continues: bool) {
        let text = &block[start..];
        let line = &text[..len];
        counts.lines += 1;
        let Some((micros, client)) = self.parse(text, len) else {
            match line {
                b"" | b"OK" | b"+OK" => counts.noise += 1,
                _ => counts.skipped += 1,
            }
            return;
        };
        counts.commands += 1;
        counts.first = counts.first.min(micros);
        counts.last = counts.last.max(micros);
        counts.seq += 1;
        let gap = match counts.prev.replace(micros) {
            Some(prev) => micros.checked_sub(prev),
            None => None,
        };

        let args = &self.args;
        let name = &line[args[0].start..args[0].end];
        let second = args.get(1).map(|a| &line[a.start..a.end]);
        let found = self.names.lookup(line, args[0].start, args[0].end, second);
        self.spans.clear();
        self.spans.extend(args.iter().map(|a| Span::Line(a.start, a.end)));
        self.keys.clear();
        (self.keys_of)(found, &Args::new(line, &self.spans, &[]), &mut self.keys);

        // The command's calls and time.
        let (id, lower) = match found {
            Lookup::Known(id, _) => (Some(id), Vec::new()),
            Lookup::Unknown => (None, name.to_ascii_lowercase()),
        };
        if continues && counts.opening.is_none() {
            counts.open(micros, id, &lower, line);
        }
        let time = counts.command_counts(id, &lower);
        time.calls += 1;
        if let Some(gap) = gap {
            time.gap_total = time.gap_total.saturating_add(gap);
            time.gaps += 1;
            counts.gaps.record(gap);
            // Within a range a later call loses a tie: only a longer gap passes the least kept.
            if counts.slow_bar.map_or(true, |bar| gap > bar) {
                counts.keep_slow(Slow { gap, seq: counts.seq, line: line.into() });
            }
        }
        let client = faina_filter::monitor::client_address(client);
        match counts.clients.get_mut(client) {
            Some(n) => *n += 1,
            None => counts.new_client(client),
        }

        // The keys: each one's count, reads and writes, and share of the request's bytes.
        let n = self.keys.len() as u64;
        let bytes: u64 = if n == 0 { 0 } else { args[1..].iter().map(|a| a.len as u64).sum() };
        counts.key_bytes += bytes;
        for (i, &(pos, written)) in self.keys.iter().enumerate() {
            let arg = args[pos];
            let share = if i == 0 { bytes / n + bytes % n } else { bytes / n };
            let add = KeyCounts { count: 1, writes: u64::from(written), bytes: share, slot: 0 };
            counts.key_accesses += 1;
            if arg.escaped {
                self.key.clear();
                unescape(&line[arg.start..arg.end], &mut self.key);
                counts.keys.bump(&self.key, add);
            } else {
                counts.keys.access(block, start + arg.start..start + arg.end, add);
            }
        }
    }

    /// A MONITOR line's timestamp and client, its arguments left in `self.args`.
    #[inline]
    fn parse<'l>(&mut self, text: &'l [u8], len: usize) -> Option<(u64, &'l [u8])> {
        let line = &text[..len];
        let (micros, space) = timestamp(line)?;
        if line.get(space + 1) != Some(&b'[') {
            return None;
        }
        // The db, a space, and the client up to the `] ` before the first quote.
        let mut at = space + 2;
        while line.get(at).is_some_and(u8::is_ascii_digit) {
            at += 1;
        }
        let client_start = if line.get(at) == Some(&b' ') { at + 1 } else { space + 2 };
        let mut marks = Marks::new(text, line.len(), client_start);
        let open = marks.next()?;
        if line[open] != b'"' || open < client_start + 2 || &line[open - 2..open] != b"] " {
            return None;
        }
        self.args.clear();
        arguments(line, open, marks, &mut self.args)?;
        Some((micros, &line[client_start..open - 2]))
    }
}

impl<M: Maps> Counts<M> {
    /// Adds the counts of the range that follows this one in the file: the gap across the cut
    /// charged as one pass charges it, the later range's positions after this one's.
    fn join(&mut self, later: Counts<M>) {
        let offset = self.seq;
        let mut calls = std::mem::take(&mut self.slowest);
        calls.extend(later.slowest.into_iter().map(|s| Slow { seq: s.seq + offset, ..s }));
        match (later.opening, self.prev) {
            (Some(opening), Some(prev)) => {
                if let Some(gap) = opening.micros.checked_sub(prev) {
                    self.gaps.record(gap);
                    let time = self.command_counts(opening.command, &opening.name);
                    time.gap_total = time.gap_total.saturating_add(gap);
                    time.gaps += 1;
                    calls.push(Slow { gap, seq: offset + 1, line: opening.line });
                }
            }
            (opening, None) => self.opening = self.opening.take().or(opening),
            _ => {}
        }
        calls.sort_by_key(|s| (Reverse(s.gap), s.seq));
        calls.truncate(TOP);
        self.slowest = calls;
        self.lines += later.lines;
        self.commands += later.commands;
        self.noise += later.noise;
        self.skipped += later.skipped;
        self.first = self.first.min(later.first);
        self.last = self.last.max(later.last);
        self.prev = later.prev.or(self.prev);
        self.seq += later.seq;
        join_table(&mut self.keys, &later.keys, |mine, theirs| mine.add(&theirs));
        self.key_accesses += later.key_accesses;
        self.key_bytes += later.key_bytes;
        if self.known.len() < later.known.len() {
            self.known.resize(later.known.len(), CommandCounts::default());
        }
        for (mine, theirs) in self.known.iter_mut().zip(&later.known) {
            mine.add(theirs);
        }
        for (name, counts) in later.unknown {
            self.unknown.entry(name).or_default().add(&counts);
        }
        for (client, n) in later.clients.each() {
            tally(&mut self.clients, client, n);
        }
        self.gaps.add(&later.gaps);
    }

    /// The report's sections, as one line of JSON named as `--format json` names them.
    fn sections(&self, table: &Table) -> String {
        // One pass over the keys: their leaders by count and by bytes; prefixes and slots follow
        // from each key's exact count, with no probe per access.
        let (mut by_count, mut by_bytes) = (Leaders::default(), Leaders::default());
        let mut prefixes = self.maps.names();
        let mut unprefixed = 0;
        let mut slots = vec![0u64; 16384];
        for (key, c) in self.keys.each() {
            by_count.offer(c.count, key, c);
            by_bytes.offer(c.bytes, key, c);
            match key.find_byte(b':') {
                Some(colon) => tally(&mut prefixes, &key[..=colon], c.count),
                None => unprefixed += c.count,
            }
            slots[usize::from(c.slot)] += c.count;
        }
        let mut out = format!(
            "{{\"lines\":{},\"commands\":{},\"noise\":{},\"skipped\":{},\"start_us\":{},\"end_us\":{},\
             \"key_accesses\":{},\"distinct_keys\":{},\"key_bytes\":{}",
            self.lines,
            self.commands,
            self.noise,
            self.skipped,
            self.first,
            self.last,
            self.key_accesses,
            self.keys.len(),
            self.key_bytes
        );
        let rows: Vec<String> = by_count
            .finish()
            .iter()
            .map(|&(count, k, c)| {
                let (writes, slot) = (c.writes, c.slot);
                format!(
                    "{{\"name\":{},\"count\":{count},\"reads\":{},\"writes\":{writes},\"slot\":{slot}}}",
                    json(k),
                    count - writes
                )
            })
            .collect();
        out += &format!(",\"top_keys\":[{}]", rows.join(","));
        out += &section("top_keys_by_bytes", by_bytes.finish().iter().map(|&(n, k, _)| (k.to_vec(), n)).collect());
        out += &format!(",\"unprefixed_key_accesses\":{unprefixed}");
        out += &section("top_prefixes", prefixes.each().map(|(p, n)| (p.to_vec(), n)).collect());

        let mut commands: Vec<(Vec<u8>, CommandCounts)> = (0..)
            .zip(&self.known)
            .filter(|(_, c)| c.calls > 0 || c.gap_total > 0)
            .map(|(id, c)| (table.get(id).name.as_bytes().to_vec(), *c))
            .collect();
        commands.extend(self.unknown.iter().map(|(name, c)| (name.to_vec(), *c)));
        out += &section("top_commands", commands.iter().map(|(name, c)| (name.clone(), c.calls)).collect());
        out += &section("top_clients", self.clients.each().map(|(c, n)| (c.to_vec(), n)).collect());
        let slots: Vec<(u16, u64)> = (0..).zip(slots).filter(|&(_, n)| n > 0).collect();
        let rows: Vec<String> = top(slots, |&(_, n)| n, |&(slot, _)| slot)
            .iter()
            .map(|(slot, n)| format!("{{\"slot\":{slot},\"count\":{n}}}"))
            .collect();
        out += &format!(",\"top_slots\":[{}]", rows.join(","));

        let q = |q: f64| self.gaps.quantile(q).map_or("null".to_string(), |v| v.to_string());
        out += &format!(
            ",\"command_time\":{{\"gaps\":{},\"p50_us\":{},\"p75_us\":{},\"p90_us\":{},\"p99_us\":{},\"max_us\":{}}}",
            self.gaps.count,
            q(0.5),
            q(0.75),
            q(0.9),
            q(0.99),
            self.gaps.max
        );
        let mut heavy: Vec<(String, CommandCounts)> = commands
            .iter()
            .filter(|(_, c)| c.gap_total > 0)
            .map(|(name, c)| (faina_filter::escape::escaped(name), *c))
            .collect();
        heavy.sort_by(|a, b| b.1.gap_total.cmp(&a.1.gap_total).then_with(|| a.0.cmp(&b.0)));
        heavy.truncate(TOP);
        let rows: Vec<String> = heavy
            .iter()
            .map(|(name, c)| {
                format!("{{\"name\":{},\"total_us\":{},\"count\":{}}}", json_str(name), c.gap_total, c.calls)
            })
            .collect();
        out += &format!(",\"heaviest_commands\":[{}]", rows.join(","));
        let mut slowest: Vec<&Slow> = self.slowest.iter().collect();
        slowest.sort_by_key(|s| (Reverse(s.gap), s.seq));
        let rows: Vec<String> = slowest
            .iter()
            .map(|s| {
                let ts = &s.line[..s.line.find_byte(b' ').unwrap_or(0)];
                let field = s.line.get(ts.len() + 2..s.line.find("] \"").unwrap_or(0)).unwrap_or(b"");
                let client = &field[field.find_byte(b' ').map_or(0, |s| s + 1)..];
                format!("{{\"gap_us\":{},\"timestamp\":{},\"client\":{}}}", s.gap, json(ts), json(client))
            })
            .collect();
        out += &format!(",\"slowest_calls\":[{}]}}", rows.join(","));
        out
    }
}

/// The first [`TOP`] of names offered one at a time, by count (the largest first), then name:
/// those below the last kept place pass at the cost of a compare.
struct Leaders<'a, T> {
    rows: Vec<(u64, &'a [u8], T)>,
    bar: u64,
}

impl<T> Default for Leaders<'_, T> {
    fn default() -> Self {
        Leaders { rows: Vec::new(), bar: 0 }
    }
}

impl<'a, T> Leaders<'a, T> {
    #[inline]
    fn offer(&mut self, count: u64, name: &'a [u8], row: T) {
        if count >= self.bar {
            self.rows.push((count, name, row));
            if self.rows.len() >= 8 * TOP {
                self.trim();
            }
        }
    }

    fn trim(&mut self) {
        self.rows.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
        self.rows.truncate(TOP);
        if self.rows.len() == TOP {
            self.bar = self.rows[TOP - 1].0;
        }
    }

    fn finish(mut self) -> Vec<(u64, &'a [u8], T)> {
        self.trim();
        self.rows
    }
}

/// The first [`TOP`] of `all` by `count` (the largest first), ties by `name`: the counts
/// compared first on their own, the names only of those tied at the last place.
fn top<T, N: Ord>(mut all: Vec<T>, count: impl Fn(&T) -> u64, name: impl Fn(&T) -> N) -> Vec<T> {
    if all.len() > TOP {
        let mut counts: Vec<u64> = all.iter().map(&count).collect();
        let (_, &mut least, _) = counts.select_nth_unstable_by(TOP - 1, |a, b| b.cmp(a));
        all.retain(|t| count(t) >= least);
    }
    all.sort_by(|a, b| count(b).cmp(&count(a)).then_with(|| name(a).cmp(&name(b))));
    all.truncate(TOP);
    all
}

/// A section of names and counts, its first [`TOP`] by count, then name.
fn section(name: &str, rows: Vec<(Vec<u8>, u64)>) -> String {
    let rows: Vec<String> = top(rows, |(_, n)| *n, |(name, _)| name.clone())
        .iter()
        .map(|(name, n)| format!("{{\"name\":{},\"count\":{n}}}", json(name)))
        .collect();
    format!(",\"{name}\":[{}]", rows.join(","))
}

/// A name as the report shows it (escaped), as a JSON string.
fn json(name: &[u8]) -> String {
    json_str(&faina_filter::escape::escaped(name))
}

fn json_str(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 => out += &format!("\\u{:04x}", c as u32),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The report's counts of `ranges` of `file`, each range on a thread of its own, joined in file
/// order: the sections as one line of JSON.
fn report<M: Maps + Send + Sync>(file: &File, ranges: Vec<Range<u64>>, maps: M) -> String {
    let maps = &maps;
    let mut all = std::thread::scope(|s| {
        let each: Vec<_> = ranges
            .into_iter()
            .enumerate()
            .map(|(i, range)| {
                s.spawn(move || {
                    let (mut reader, mut counts) = (reader(), Counts::new(maps));
                    lines_ahead(file, range, |block, line| match line {
                        Some((start, len)) => reader.count(block, start, len, &mut counts, i > 0),
                        None => counts.keys.flush(block),
                    });
                    counts
                })
            })
            .collect();
        each.into_iter().map(|t| t.join().expect("thread")).collect::<Vec<_>>()
    })
    .into_iter();
    let mut whole = all.next().expect("one range at least");
    for later in all {
        whole.join(later);
    }
    let sections = whole.sections(&Table::shared());
    // The tables are not freed: the process ends here.
    std::mem::forget(whole);
    sections
}

/// No keys: the table is dropped.
fn none<T>(table: T) -> Vec<(Vec<u8>, u64)> {
    drop(table);
    Vec::new()
}

fn main() {
    let (mut threads, mut scan, mut report_mode, mut fast, mut path) = (1, false, false, false, None);
    let (mut tight_mode, mut top) = (false, 0);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--threads" => threads = args.next().and_then(|n| n.parse().ok()).expect("--threads N"),
            "--scan" => scan = true,
            "--report" => report_mode = true,
            "--fast-hash" => fast = true,
            "--tight" => tight_mode = true,
            "--top" => top = args.next().and_then(|n| n.parse().ok()).expect("--top N"),
            _ => path = Some(arg),
        }
    }
    let usage =
        "usage: floor [--threads N] [--scan | --report | --tight | --report --tight] [--fast-hash] [--top N] FILE";
    let file = &File::open(path.expect(usage)).expect("open");
    if report_mode {
        let ranges = ranges(file, threads);
        let sections = match (tight_mode, fast) {
            (true, _) => report(file, ranges, Tight(Fold::new())),
            (false, true) => report(file, ranges, Plain(Fold::new())),
            (false, false) => report(file, ranges, Plain(RandomState::new())),
        };
        println!("{sections}");
        return;
    }
    if tight_mode {
        tight(file, ranges(file, threads), top);
        return;
    }
    let keys = std::thread::scope(|s| {
        let each: Vec<_> = ranges(file, threads)
            .into_iter()
            .map(|r| {
                s.spawn(move || match fast {
                    true => {
                        let (map, n) = count(file, r, scan, HashMap::with_hasher(Fold::new()));
                        (map.len(), n, if top > 0 { map.into_iter().collect() } else { none(map) })
                    }
                    false => {
                        let (map, n) = count(file, r, scan, HashMap::new());
                        (map.len(), n, if top > 0 { map.into_iter().collect() } else { none(map) })
                    }
                })
            })
            .collect();
        each.into_iter().map(|t| t.join().expect("thread")).collect::<Vec<_>>()
    });
    let lines: u64 = keys.iter().map(|k| k.1).sum();
    println!("{} keys counted in {lines} lines", keys.iter().map(|k| k.0).sum::<usize>());
    if top > 0 {
        let mut whole: HashMap<Vec<u8>, u64> = HashMap::new();
        for (key, n) in keys.into_iter().flat_map(|k| k.2) {
            *whole.entry(key).or_default() += n;
        }
        println!("{} distinct keys", whole.len());
        print_top(whole.iter().map(|(k, &n)| (&k[..], n)), top);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quote_after_an_even_run_of_backslashes_ends_the_field() {
        let line = br#"1.0 [0 1.2.3.4:5] "get" "a\\" "b""#;
        assert_eq!(key(line), Some(&br"a\\"[..]));
        let line = br#"1.0 [0 1.2.3.4:5] "get" "a\"b" "c""#;
        assert_eq!(key(line), Some(&br#"a\"b"#[..]));
        let line = br#"1.0 [0 1.2.3.4:5] "get" "a\\\"b\\\\" "c""#;
        assert_eq!(key(line), Some(&br#"a\\\"b\\\\"#[..]));
        let line = br#"1.0 [0 1.2.3.4:5] "g\\" "k""#;
        assert_eq!(key(line), Some(&b"k"[..]));
    }
}
