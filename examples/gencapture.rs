//! Writes a synthetic but realistic MONITOR capture, with its exact ground truth, for the
//! benchmark (`benches/bench.sh`) and the accuracy tests.
//!
//! Lines of about 90 bytes from about 40 clients; keys drawn from a Zipf distribution over a
//! chosen number of distinct keys with realistic prefixes, a few of them needing escapes;
//! mixed commands, multi-key ones (MGET, MSET, DEL) included.
//!
//! Usage: gencapture [--lines N] [--keys N] [--zipf S] [--seed N] [--truth FILE] > capture.txt
//!        gencapture --distinct --lines N > capture.txt
//!
//! `--zipf 0` draws keys uniformly (for many distinct keys). `--truth FILE` writes every key's
//! exact access count, `count<TAB>key` (key escaped as faina-filter shows it), heaviest first.
//! `--distinct` makes every line's key, command and client new (the worst case for memory), at
//! 10 000 lines a second.

use std::collections::HashMap;
use std::io::{self, BufWriter, Write};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Key ranks 0..n, Zipf-distributed (or uniform when s is 0).
struct Keys {
    n: u64,
    cdf: Vec<f64>,
}

impl Keys {
    fn new(n: u64, s: f64) -> Keys {
        if s == 0.0 {
            return Keys { n, cdf: Vec::new() };
        }
        let mut cdf = Vec::with_capacity(n as usize);
        let mut sum = 0.0;
        for rank in 1..=n {
            sum += 1.0 / (rank as f64).powf(s);
            cdf.push(sum);
        }
        cdf.iter_mut().for_each(|c| *c /= sum);
        Keys { n, cdf }
    }

    fn draw(&self, rng: &mut Rng) -> u64 {
        if self.cdf.is_empty() {
            return rng.below(self.n);
        }
        let u = rng.unit();
        (self.cdf.partition_point(|&c| c < u) as u64).min(self.n - 1)
    }
}

/// The key of a rank: its raw bytes as the server quotes them, and as faina-filter shows them.
fn key(rank: u64, quoted: &mut Vec<u8>, shown: &mut Vec<u8>) {
    quoted.clear();
    shown.clear();
    let id = rank.wrapping_mul(2_654_435_761) % 100_000_000;
    let plain = |q: &mut Vec<u8>, s: &mut Vec<u8>, text: String| {
        q.extend_from_slice(text.as_bytes());
        s.extend_from_slice(text.as_bytes());
    };
    match rank % 50 {
        // 2% of keys need escapes: binary bytes, a tab, quotes.
        0 => {
            quoted.extend_from_slice(format!("bin:\\x00\\xff{id}").as_bytes());
            shown.extend_from_slice(format!("bin:\\x00\\xff{id}").as_bytes());
        }
        1 => {
            quoted.extend_from_slice(format!("q:\\\"{id}\\\"\\tx").as_bytes());
            shown.extend_from_slice(format!("q:\"{id}\"\\tx").as_bytes());
        }
        2..=15 => plain(quoted, shown, format!("user:{id}:profile")),
        16..=27 => plain(quoted, shown, format!("session:{id:08x}")),
        28..=37 => plain(quoted, shown, format!("product:{id}")),
        38..=43 => plain(quoted, shown, format!("cart:{id}")),
        44..=47 => plain(quoted, shown, format!("rate:10.1.{}.{}", id % 256, id / 256 % 256)),
        _ => plain(quoted, shown, format!("feed:{id}:items")),
    }
}

fn arg_value(n: usize) -> usize {
    match n {
        0 => 0,
        _ => 24 + n * 2,
    }
}

fn main() -> io::Result<()> {
    let mut lines: u64 = 1_000_000;
    let mut distinct: u64 = 250_000;
    let mut zipf = 1.0;
    let mut seed = 42;
    let mut truth_file = None;
    let mut distinct_lines = false;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--distinct" {
            distinct_lines = true;
            continue;
        }
        let value = args.next().unwrap_or_default();
        match flag.as_str() {
            "--lines" => lines = value.parse().expect("--lines N"),
            "--keys" => distinct = value.parse().expect("--keys N"),
            "--zipf" => zipf = value.parse().expect("--zipf S"),
            "--seed" => seed = value.parse().expect("--seed N"),
            "--truth" => truth_file = Some(value),
            _ => {
                eprintln!("usage: gencapture [--lines N] [--keys N] [--zipf S] [--seed N] [--truth FILE] [--distinct]");
                std::process::exit(2);
            }
        }
    }
    if distinct_lines {
        return all_distinct(lines);
    }
    let keys = Keys::new(distinct.max(1), zipf);
    let mut rng = Rng(seed);
    let mut truth: HashMap<Vec<u8>, u64> = HashMap::new();
    let mut out = BufWriter::with_capacity(1 << 20, io::stdout().lock());
    let clients: Vec<String> =
        (0..40).map(|i| format!("10.0.{}.{}:{}", i / 8, 10 + i % 8 * 3, 40_000 + rng.below(20_000))).collect();
    let (mut quoted, mut shown) = (Vec::new(), Vec::new());
    let mut ts: u64 = 1_795_636_306_000_000;
    let mut line = Vec::with_capacity(256);
    let count = |shown: &[u8], truth: &mut HashMap<Vec<u8>, u64>| {
        if truth_file.is_some() {
            *truth.entry(shown.to_vec()).or_default() += 1;
        }
    };
    out.write_all(b"OK\n")?;
    for _ in 0..lines {
        ts += rng.below(12);
        let client = &clients[rng.below(40) as usize];
        line.clear();
        line.extend_from_slice(format!("{}.{:06} [0 {client}]", ts / 1_000_000, ts % 1_000_000).as_bytes());
        let roll = rng.below(100);
        let (command, nkeys): (&[u8], usize) = match roll {
            0..=39 => (b"GET", 1),
            40..=49 => (b"SET", 1),
            50..=59 => (b"HGET", 1),
            60..=63 => (b"HSET", 1),
            64..=71 => (b"MGET", 3),
            72..=78 => (b"INCR", 1),
            79..=83 => (b"EXPIRE", 1),
            84..=86 => (b"DEL", 2),
            87..=90 => (b"ZADD", 1),
            91..=93 => (b"LPUSH", 1),
            94..=95 => (b"EVALSHA", 1),
            96..=97 => (b"MSET", 2),
            _ => (b"PING", 0),
        };
        line.extend_from_slice(b" \"");
        line.extend_from_slice(command);
        line.push(b'"');
        if command == b"EVALSHA" {
            line.extend_from_slice(b" \"e0e1f9fabfc9d4800c877a703b823ac0578ff831\" \"1\"");
        }
        for k in 0..nkeys {
            key(keys.draw(&mut rng), &mut quoted, &mut shown);
            count(&shown, &mut truth);
            line.extend_from_slice(b" \"");
            line.extend_from_slice(&quoted);
            line.push(b'"');
            if command == b"MSET" || (k == 0 && matches!(command, b"SET" | b"LPUSH")) {
                let n = arg_value(rng.below(90) as usize);
                line.extend_from_slice(b" \"");
                line.extend(std::iter::repeat(b'v').take(n));
                line.push(b'"');
            }
        }
        match command {
            b"HGET" => line.extend_from_slice(b" \"name\""),
            b"HSET" => line.extend_from_slice(b" \"name\" \"Ada Lovelace\""),
            b"EXPIRE" => line.extend_from_slice(b" \"3600\""),
            b"ZADD" => line.extend_from_slice(b" \"17\" \"member:42\""),
            _ => {}
        }
        line.push(b'\n');
        out.write_all(&line)?;
    }
    out.flush()?;
    if let Some(path) = truth_file {
        let mut all: Vec<(Vec<u8>, u64)> = truth.into_iter().collect();
        all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let mut file = BufWriter::new(std::fs::File::create(path)?);
        for (k, c) in all {
            file.write_all(format!("{c}\t").as_bytes())?;
            file.write_all(&k)?;
            file.write_all(b"\n")?;
        }
        file.flush()?;
    }
    Ok(())
}

/// Lines whose key, command and client are all new: `cmdN "key:N:…"` from `10.a.b.c:port`.
fn all_distinct(lines: u64) -> io::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 20, io::stdout().lock());
    let start: u64 = 1_795_636_306_000_000;
    for i in 0..lines {
        let t = start + i * 100;
        let pad = "x".repeat((i % 40) as usize);
        writeln!(
            out,
            "{}.{:06} [0 10.{}.{}.{}:{}] \"cmd{i}\" \"key:{i}:{pad}\"",
            t / 1_000_000,
            t % 1_000_000,
            i >> 16 & 255,
            i >> 8 & 255,
            i & 255,
            1024 + i % 60_000
        )?;
    }
    out.flush()
}
