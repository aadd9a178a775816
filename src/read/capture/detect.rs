//! Which end of a connection is a Redis server, on a port `--port` did not name: the end that
//! answers in RESP replies, where the connection shows that unambiguously.
//!
//! A [`Probe`] follows a connection on such ports before anything of it is read: both byte
//! streams put in order, each in-order piece kept (at most [`MAX_PROBE_BYTES`], and
//! [`MAX_ALL_PROBE_BYTES`] on all probes together) and its shape noted: whole RESP arrays of
//! bulk strings (what a client sends), whole RESP values of which one is not an array (what
//! only a server sends: `+OK`, `:1`, `$5`, `%2`, …), or neither. It gives its [`Detection`]:
//! - seen from its SYN, the end that connected is the client: the other end is a Redis server
//!   once it has answered one array request with whole RESP values, having said nothing before
//!   the client spoke (servers of POP3, SMTP, MySQL… speak first);
//! - picked up mid-way, an end is the server once it has sent two pieces of replies, each after
//!   a piece of requests from the other end, and the other end two pieces of requests and no
//!   reply; both ends sending replies, or only arrays both ways until the bound, is ambiguous
//!   and the connection is not read.
//!
//! Inline commands (telnet's) never decide: a line protocol's lines look like them. Once the
//! verdict names a server, the kept pieces are read again in order, as if the connection had
//! been followed from the start ([`Probe::into_parts`]).

use std::net::SocketAddr;

use super::resp::{Replies, Requests};
use super::tcp;

/// The most bytes a probe keeps; past it the connection is not read.
pub const MAX_PROBE_BYTES: usize = 1 << 20;
/// The most bytes kept by all probes together.
pub const MAX_ALL_PROBE_BYTES: u64 = 64 << 20;
/// The most pieces a probe keeps before it gives up.
const MAX_PIECES: usize = 256;

/// One end of a probed connection: `0` or `1`, its index in [`Probe::ends`].
pub type End = usize;

/// What a probe has found so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detection {
    Wait,
    /// This end is a Redis server.
    Server(End),
    /// Not a conversation of a RESP client with a RESP server, as far as the probe could tell.
    NotRedis,
    /// Both ends look the same (both send requests, or both replies): not read.
    Ambiguous,
}

/// A piece of one end's byte stream, kept to be read again.
#[derive(Debug)]
pub enum Kept {
    Bytes(Vec<u8>),
    Gap(u64),
}

/// A kept piece, with who sent it and when it came.
#[derive(Debug)]
pub struct Logged {
    pub from: End,
    pub nanos: u64,
    pub piece: Kept,
}

/// The shapes of one end's pieces.
#[derive(Debug, Default, Clone, Copy)]
struct Evidence {
    /// Pieces that were whole arrays of bulk strings.
    requests: u32,
    /// Pieces that were whole RESP values, one of them not an array.
    replies: u32,
    /// Pieces of whole RESP values (of any shape) that came after a piece of requests from the
    /// other end.
    answers: u32,
}

/// What a piece of a byte stream is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Whole arrays of bulk strings: requests (or a server's replies of that shape).
    Requests,
    /// Whole RESP values, one of which is not an array: only a server sends these.
    Replies,
    /// Whole RESP arrays holding more than bulk strings.
    Resp,
    Neither,
}

/// The shape of `bytes`, read by the capture's own RESP readers.
fn shape(bytes: &[u8]) -> Shape {
    let mut replies = Replies::new();
    let (mut values, mut arrays) = (0u64, 0u64);
    replies.feed(bytes, 0, &mut |done| {
        values += 1;
        arrays += u64::from(done.kind == b'*');
    });
    if values == 0 || !replies.between_replies() {
        return Shape::Neither;
    }
    if arrays < values {
        return Shape::Replies;
    }
    let mut requests = Requests::new(true);
    let mut whole = 0u64;
    requests.feed(bytes, &mut |_| whole += 1);
    let clean = requests.counts == Default::default() && requests.between_requests();
    if clean && whole == values {
        Shape::Requests
    } else {
        Shape::Resp
    }
}

/// A connection on ports not named, followed until its verdict.
pub struct Probe {
    /// Its two ends, as first seen (sender, receiver).
    pub ends: [SocketAddr; 2],
    /// The bytes each end sent.
    streams: [tcp::Reassembly; 2],
    /// The end that sent a SYN alone (the one that connected), when it was seen.
    connected: Option<End>,
    /// The end that sent the first bytes.
    first: Option<End>,
    log: Vec<Logged>,
    bytes: usize,
    /// What it keeps reached its bound: nothing more is kept.
    full: bool,
    evidence: [Evidence; 2],
    /// Its packets (counted as of other ports when it is not read).
    pub packets: u64,
}

impl Probe {
    pub fn new(ends: [SocketAddr; 2]) -> Probe {
        Probe {
            ends,
            streams: Default::default(),
            connected: None,
            first: None,
            log: Vec::new(),
            bytes: 0,
            full: false,
            evidence: Default::default(),
            packets: 0,
        }
    }

    /// Whether the connection was seen from its SYN.
    pub fn seen_from_syn(&self) -> bool {
        self.connected.is_some()
    }

    /// Whether `end` has sent bytes (or lost some in a gap).
    pub fn sent(&self, end: SocketAddr) -> bool {
        let end = usize::from(self.ends[0] != end);
        self.log.iter().any(|l| l.from == end)
    }

    /// The bytes it keeps.
    pub fn kept_bytes(&self) -> usize {
        self.bytes
    }

    /// The bytes its streams hold early.
    pub fn held_bytes(&self) -> usize {
        self.streams.iter().map(tcp::Reassembly::held_bytes).sum()
    }

    /// A segment sent by end `from` at `nanos`; `all` is what all probes keep, `tcp` the
    /// counts of the probes' streams.
    pub fn segment(
        &mut self,
        from: End,
        seg: &tcp::Segment<'_>,
        nanos: u64,
        all: &mut u64,
        tcp: &mut tcp::TcpCounts,
    ) -> Detection {
        self.packets += 1;
        if seg.syn && !seg.ack && self.log.is_empty() {
            self.connected = Some(from);
        }
        let Probe { streams, log, bytes, evidence, first, full, .. } = self;
        streams[from].segment(seg, tcp, &mut |piece| {
            let kept = match piece {
                tcp::Piece::Bytes(b) => b.len(),
                tcp::Piece::Gap(_) => 0,
            };
            *full |= *bytes + kept > MAX_PROBE_BYTES || *all + kept as u64 > MAX_ALL_PROBE_BYTES;
            let piece = match piece {
                // Past the bound a piece is kept as a gap of its length: should the verdict
                // still name a server, what it held is counted as lost, not silently dropped.
                tcp::Piece::Bytes(b) if *full => Kept::Gap(b.len() as u64),
                tcp::Piece::Bytes(b) => {
                    *bytes += kept;
                    *all += kept as u64;
                    first.get_or_insert(from);
                    note(evidence, from, shape(b));
                    Kept::Bytes(b.to_vec())
                }
                tcp::Piece::Gap(n) => Kept::Gap(n),
            };
            log.push(Logged { from, nanos, piece });
        });
        match self.verdict() {
            Detection::Wait if self.full || self.log.len() > MAX_PIECES => self.give_up(),
            verdict => verdict,
        }
    }

    /// What the probe has found.
    fn verdict(&self) -> Detection {
        let ev = &self.evidence;
        if let Some(client) = self.connected {
            let server = 1 - client;
            return match self.first {
                Some(first) if first == server => Detection::NotRedis,
                _ if ev[server].answers >= 1 => Detection::Server(server),
                _ => Detection::Wait,
            };
        }
        if ev[0].replies > 0 && ev[1].replies > 0 {
            return Detection::Ambiguous;
        }
        for server in 0..2 {
            let client = 1 - server;
            let (c, s) = (ev[client], ev[server]);
            if c.requests >= 2 && c.replies == 0 && s.replies >= 2 && s.answers >= 2 {
                return Detection::Server(server);
            }
        }
        Detection::Wait
    }

    /// The verdict when the probe can follow no further (its bound, the connection's end).
    pub fn give_up(&self) -> Detection {
        match self.verdict() {
            Detection::Wait if self.evidence.iter().all(|e| e.requests > 0) => Detection::Ambiguous,
            Detection::Wait => Detection::NotRedis,
            verdict => verdict,
        }
    }

    /// The streams (of bytes sent by each end) and the pieces kept, in the order they came.
    pub fn into_parts(self) -> ([tcp::Reassembly; 2], Vec<Logged>) {
        (self.streams, self.log)
    }
}

/// Notes a piece of `shape` sent by `from`.
fn note(evidence: &mut [Evidence; 2], from: End, shape: Shape) {
    let other_asked = evidence[1 - from].requests > 0;
    let e = &mut evidence[from];
    match shape {
        Shape::Requests => e.requests += 1,
        Shape::Replies => e.replies += 1,
        Shape::Resp | Shape::Neither => {}
    }
    if shape != Shape::Neither && other_asked {
        e.answers += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_of_pieces() {
        assert_eq!(shape(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nPING\r\n"), Shape::Requests);
        assert_eq!(shape(b"+OK\r\n"), Shape::Replies);
        assert_eq!(shape(b"$1\r\nv\r\n:1\r\n"), Shape::Replies);
        assert_eq!(shape(b"*2\r\n$1\r\na\r\n:1\r\n"), Shape::Resp);
        assert_eq!(shape(b"*0\r\n"), Shape::Resp);
        // Cut short, inline, or not RESP at all.
        assert_eq!(shape(b"*2\r\n$3\r\nGET\r\n$1\r\n"), Shape::Neither);
        assert_eq!(shape(b"PING\r\n"), Shape::Neither);
        assert_eq!(shape(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"), Shape::Neither);
        assert_eq!(shape(b"+OK POP3 ready\r\n"), Shape::Replies);
    }

    const A: &str = "10.0.0.1:40000";
    const B: &str = "10.0.0.2:7000";

    /// The verdicts of a conversation (`from` end, SYN?, payload), one per segment.
    fn probe(turns: &[(End, bool, &[u8])]) -> Vec<Detection> {
        let mut p = Probe::new([A.parse().unwrap(), B.parse().unwrap()]);
        let (mut all, mut tcp) = (0, tcp::TcpCounts::default());
        let mut seq = [0u32; 2];
        let mut verdicts = Vec::new();
        for &(from, syn, payload) in turns {
            let seg = tcp::Segment {
                src_port: 0,
                dst_port: 0,
                seq: seq[from],
                syn,
                ack: from == 1,
                fin: false,
                rst: false,
                payload,
                missing: 0,
            };
            seq[from] = seq[from].wrapping_add(payload.len() as u32 + u32::from(syn));
            verdicts.push(p.segment(from, &seg, 0, &mut all, &mut tcp));
        }
        assert_eq!(all, p.kept_bytes() as u64);
        verdicts
    }

    const GET: &[u8] = b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";

    #[test]
    fn from_the_syn_one_answered_array_tells_the_server() {
        let v = probe(&[(0, true, b""), (1, true, b""), (0, false, GET), (1, false, b"$1\r\nv\r\n")]);
        assert_eq!(v, [Detection::Wait, Detection::Wait, Detection::Wait, Detection::Server(1)]);
        // An answer of arrays is an answer all the same (LRANGE's).
        let v = probe(&[(0, true, b""), (1, true, b""), (0, false, GET), (1, false, b"*1\r\n$1\r\nv\r\n")]);
        assert_eq!(v[3], Detection::Server(1));
        // A server that speaks first is not Redis (POP3's `+OK` greeting).
        let v = probe(&[(0, true, b""), (1, true, b""), (1, false, b"+OK POP3 ready\r\n"), (0, false, GET)]);
        assert_eq!(v[2], Detection::NotRedis);
        // Inline commands answered by lines that look like replies: never decided.
        let v = probe(&[(0, true, b""), (1, true, b""), (0, false, b"NOOP\r\n"), (1, false, b"+OK\r\n")]);
        assert_eq!(v[3], Detection::Wait);
    }

    #[test]
    fn mid_way_two_exchanges_tell_the_server_and_lookalikes_are_ambiguous() {
        let set = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n";
        let v = probe(&[(0, false, set), (1, false, b"+OK\r\n"), (0, false, GET), (1, false, b"$1\r\nv\r\n")]);
        assert_eq!(v, [Detection::Wait, Detection::Wait, Detection::Wait, Detection::Server(1)]);
        // The server seen first (its reply to a request before the capture), then two exchanges.
        let v = probe(&[(1, false, b":1\r\n"), (0, false, GET), (1, false, b"$1\r\nv\r\n"), (0, false, GET)]);
        assert_eq!(v[3], Detection::Wait);
        // Both ends send arrays of bulk strings: both look like requests, nothing decides.
        let turns: Vec<(End, bool, &[u8])> = (0..300).map(|i| (i % 2, false, GET)).collect();
        let v = probe(&turns);
        assert_eq!(v[..MAX_PIECES], vec![Detection::Wait; MAX_PIECES][..]);
        assert_eq!(v[MAX_PIECES], Detection::Ambiguous);
        // Both ends send replies.
        let v = probe(&[(0, false, b"+OK\r\n"), (1, false, b":1\r\n")]);
        assert_eq!(v[1], Detection::Ambiguous);
    }

    #[test]
    fn a_probe_keeps_at_most_its_bound() {
        let value = vec![b'v'; 300 * 1024];
        let set =
            [&format!("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n${}\r\n", value.len()).into_bytes()[..], &value, b"\r\n"].concat();
        let mut turns: Vec<(End, bool, &[u8])> = vec![(0, true, b""), (1, true, b"")];
        turns.extend([(0, false, &set[..]); 4]);
        let v = probe(&turns);
        assert_eq!(v[..5], [Detection::Wait; 5]);
        assert_eq!(v[5], Detection::NotRedis);
    }

    #[test]
    fn other_protocols_are_never_taken_for_redis() {
        let http: [(End, bool, &[u8]); 4] = [
            (0, true, b""),
            (1, true, b""),
            (0, false, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
            (1, false, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"),
        ];
        assert!(probe(&http).iter().all(|v| *v == Detection::Wait));
        // memcached's text protocol: `get k` is inline, `END` is not RESP.
        let v = probe(&[
            (0, false, b"get k\r\n"),
            (1, false, b"END\r\n"),
            (0, false, b"get k\r\n"),
            (1, false, b"END\r\n"),
        ]);
        assert!(v.iter().all(|v| *v == Detection::Wait));
        // Binary: PostgreSQL's startup message, and random bytes.
        let v = probe(&[(0, true, b""), (1, true, b""), (0, false, b"\x00\x00\x00\x08\x04\xd2\x16\x2f")]);
        assert!(v.iter().all(|v| *v == Detection::Wait));
    }
}
