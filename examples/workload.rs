//! A realistic application workload against a Redis server on loopback, for making sample
//! captures (see `examples/capture-sample.sh`).
//!
//! Several connections play a small web shop: sessions read on every request, user profile
//! hashes, carts, rate-limit counters, a leaderboard, batched MGETs, a Lua script, a
//! transaction, and one feature-flag key every request reads — the kind of hot key that takes a
//! node down. Users are drawn from a Zipf distribution, so a few are much busier than the rest.
//!
//! Usage: cargo run --example workload -- PORT [OPERATIONS] [CONNECTIONS]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, TcpStream};
use std::thread;

/// xorshift64*: a small deterministic generator, so a capture can be made again.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Draws ranks 1..=n with probability proportional to 1/rank^s.
struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    fn new(n: usize, s: f64) -> Zipf {
        let mut cdf = Vec::with_capacity(n);
        let mut sum = 0.0;
        for rank in 1..=n {
            sum += 1.0 / (rank as f64).powf(s);
            cdf.push(sum);
        }
        for c in &mut cdf {
            *c /= sum;
        }
        Zipf { cdf }
    }

    fn draw(&self, rng: &mut Rng) -> usize {
        let u = rng.unit();
        self.cdf.partition_point(|&c| c < u) + 1
    }
}

struct Conn {
    reader: BufReader<TcpStream>,
}

impl Conn {
    fn open(port: u16) -> Conn {
        let stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).expect("connect to 127.0.0.1");
        Conn { reader: BufReader::new(stream) }
    }

    fn call(&mut self, args: &[&[u8]]) {
        let mut req = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            req.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            req.extend_from_slice(a);
            req.extend_from_slice(b"\r\n");
        }
        self.reader.get_mut().write_all(&req).expect("send");
        self.skip_reply();
    }

    fn skip_reply(&mut self) {
        let mut line = Vec::new();
        self.reader.read_until(b'\n', &mut line).expect("reply");
        let n: i64 = std::str::from_utf8(&line[1..line.len() - 2]).unwrap_or("0").parse().unwrap_or(0);
        match line[0] {
            b'$' if n >= 0 => {
                let mut body = vec![0; n as usize + 2];
                self.reader.read_exact(&mut body).expect("reply body");
            }
            b'*' => {
                for _ in 0..n.max(0) {
                    self.skip_reply();
                }
            }
            _ => {}
        }
    }
}

const RATE_LIMIT: &[u8] =
    b"local n = redis.call('INCR', KEYS[1]) if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end return n";

fn client(port: u16, operations: usize, seed: u64) {
    let mut conn = Conn::open(port);
    let mut rng = Rng(seed | 1);
    let users = Zipf::new(5_000, 1.1);
    let products = Zipf::new(800, 0.9);
    for _ in 0..operations {
        // Think time between requests, so the capture spans seconds as a real one does.
        thread::sleep(std::time::Duration::from_micros(rng.below(16_000)));
        let user = users.draw(&mut rng);
        let session = format!("session:{:08x}", user * 2_654_435_761 % 4_294_967_291);
        let profile = format!("user:{user}:profile");
        let cart = format!("cart:{user}");
        // Every request checks the feature flags and the session.
        conn.call(&[b"GET", b"config:feature-flags"]);
        conn.call(&[b"GET", session.as_bytes()]);
        match rng.below(100) {
            0..=34 => conn.call(&[b"HGETALL", profile.as_bytes()]),
            35..=49 => {
                let product = format!("product:{}", products.draw(&mut rng));
                conn.call(&[b"HGET", product.as_bytes(), b"price"]);
                conn.call(&[b"RPUSH", cart.as_bytes(), product.as_bytes()]);
            }
            50..=59 => conn.call(&[b"LRANGE", cart.as_bytes(), b"0", b"-1"]),
            60..=69 => {
                let ids: Vec<String> = (0..4).map(|_| format!("product:{}", products.draw(&mut rng))).collect();
                let mut args: Vec<&[u8]> = vec![b"MGET"];
                args.extend(ids.iter().map(|s| s.as_bytes()));
                conn.call(&args);
            }
            70..=79 => {
                let key = format!("ratelimit:{user}");
                conn.call(&[b"EVAL", RATE_LIMIT, b"1", key.as_bytes(), b"60"]);
            }
            80..=86 => {
                let score = (1 + rng.below(50)).to_string();
                let member = format!("user:{user}");
                conn.call(&[b"ZINCRBY", b"leaderboard:weekly", score.as_bytes(), member.as_bytes()]);
            }
            87..=90 => {
                let name = format!("Ünïcödé user {user} \"quoted\"\tname");
                let login = format!("{}", 1_795_000_000 + rng.below(1_000_000));
                conn.call(&[b"HSET", profile.as_bytes(), b"name", name.as_bytes(), b"last_login", login.as_bytes()]);
            }
            91..=93 => {
                let order = format!("order:{}", rng.next() % 1_000_000);
                conn.call(&[b"MULTI"]);
                conn.call(&[b"HSET", order.as_bytes(), b"user", user.to_string().as_bytes(), b"state", b"new"]);
                conn.call(&[b"DEL", cart.as_bytes()]);
                conn.call(&[b"LPUSH", b"queue:orders", order.as_bytes()]);
                conn.call(&[b"EXEC"]);
            }
            94..=96 => {
                let token = rng.next().to_le_bytes();
                conn.call(&[b"SET", session.as_bytes(), &token, b"EX", b"1800"]);
            }
            97 => conn.call(&[b"EXPIRE", session.as_bytes(), b"1800"]),
            98 => conn.call(&[b"PING"]),
            _ => conn.call(&[b"INFO", b"stats"]),
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(port) = args.first().and_then(|p| p.parse::<u16>().ok()) else {
        eprintln!("usage: workload PORT [OPERATIONS] [CONNECTIONS]  (talks to 127.0.0.1:PORT)");
        std::process::exit(2);
    };
    let operations: usize = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(2_000);
    let connections: usize = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(8);
    let mut setup = Conn::open(port);
    setup.call(&[b"SET", b"config:feature-flags", b"{\"new_checkout\":true,\"dark_mode\":false}"]);
    let workers: Vec<_> = (0..connections)
        .map(|i| thread::spawn(move || client(port, operations / connections, 0x9e37_79b9 * (i as u64 + 1))))
        .collect();
    for w in workers {
        w.join().expect("a client failed");
    }
}
