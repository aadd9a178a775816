//! The least a hot-key report can cost on this machine, for `benches/bench.sh`: every MONITOR
//! line found and its key (the second quoted field) counted exactly, and nothing else — no
//! timestamp, client, command table, byte counts or prefixes, and no bound on memory (a std
//! `HashMap` of every key). A file is read in as many ranges as threads, cut at line starts, each
//! range counted on its own thread, as faina-filter reads a named file.
//!
//! Usage: floor [--threads N] [--scan | --fast-hash] FILE
//!
//! `--scan` only finds each line's key (its length summed), without any table: the cost of the
//! scan alone. `--fast-hash` hashes the keys with a keyed multiply-fold hash (a word at a time,
//! two 64×64→128-bit multiplications per word), as cheap as a hash of strangers' keys can be,
//! instead of the map's SipHash-1-3. Prints the distinct keys counted (summed over the threads' tables) and the lines.
//! A quote after a backslash is taken as escaped, which is enough for `gencapture`'s captures.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::fs::File;
use std::hash::{BuildHasher, Hasher};
use std::ops::Range;
use std::os::unix::fs::FileExt;

use bstr::ByteSlice;

/// The bytes read at a time by each thread.
const CHUNK: usize = 1 << 20;

/// The end of the quoted field that starts at `from` (just past its opening quote).
fn closing_quote(line: &[u8], mut from: usize) -> Option<usize> {
    loop {
        let at = from + line[from..].find_byte(b'"')?;
        if line[at - 1] != b'\\' {
            return Some(at);
        }
        from = at + 1;
    }
}

/// The key of a MONITOR line: its second quoted field.
fn key(line: &[u8]) -> Option<&[u8]> {
    let name = line.find_byte(b'"')? + 1;
    let name_end = closing_quote(line, name)?;
    let key = name_end + 1 + line[name_end + 1..].find_byte(b'"')? + 1;
    Some(&line[key..closing_quote(line, key)?])
}

/// Calls `each` with every line of `range` of `file`.
fn lines(file: &File, range: Range<u64>, mut each: impl FnMut(&[u8])) {
    let mut buf = vec![0; CHUNK];
    let (mut held, mut at) = (0, range.start);
    loop {
        let want = ((range.end - at) as usize).min(buf.len() - held);
        let n = if want == 0 { 0 } else { file.read_at(&mut buf[held..held + want], at).expect("read") };
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
) -> (usize, u64) {
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
    (counts.len(), lines_seen)
}

fn main() {
    let (mut threads, mut scan, mut fast, mut path) = (1, false, false, None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--threads" => threads = args.next().and_then(|n| n.parse().ok()).expect("--threads N"),
            "--scan" => scan = true,
            "--fast-hash" => fast = true,
            _ => path = Some(arg),
        }
    }
    let file = &File::open(path.expect("usage: floor [--threads N] [--scan | --fast-hash] FILE")).expect("open");
    let (keys, lines) = std::thread::scope(|s| {
        let each: Vec<_> = ranges(file, threads)
            .into_iter()
            .map(|r| {
                s.spawn(move || match fast {
                    true => count(file, r, scan, HashMap::with_hasher(Fold::new())),
                    false => count(file, r, scan, HashMap::new()),
                })
            })
            .collect();
        each.into_iter().map(|t| t.join().expect("thread")).fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    });
    println!("{keys} keys counted in {lines} lines");
}
