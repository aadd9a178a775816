//! Requests matched to their replies, on one connection: the server answers in order, so the
//! first request waiting takes the next reply (pipelining; MULTI's `QUEUED`s, then EXEC's
//! array), but pushes are not replies (RESP3 `>`, pub/sub messages), a SUBSCRIBE takes one
//! confirmation per channel, `CLIENT REPLY OFF`/`SKIP` silence the replies of what follows,
//! and after MONITOR's `+OK` everything the server sends is the monitor stream.
//!
//! A request is handed on when its reply is whole, with the reply's size and the time from the
//! request's last packet to the reply's first (a blocking command's includes the time it
//! blocked). Where replies cannot be matched (a connection picked up mid-way, a gap in either
//! direction) requests are handed on at once, without a reply. At most [`MAX_WAITING`]
//! requests (or [`MAX_WAITING_BYTES`] of them) wait per connection: past that the oldest goes
//! on without its reply, so a connection that never answers holds little.

use std::collections::VecDeque;
use std::net::SocketAddr;

use super::resp::{ReplyDone, Request};
use super::{Batch, PacketReply};
use crate::format::long_arg::LongArg;

pub const MAX_WAITING: usize = 1024;
pub const MAX_WAITING_BYTES: usize = 1 << 20;
/// The most bytes of requests waiting on all connections together.
pub const MAX_ALL_WAITING_BYTES: u64 = 64 << 20;

/// What the exchanges of a capture counted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ExchangeCounts {
    /// Requests handed on with their reply.
    pub replied: u64,
    /// Pushes (RESP3 pushes, pub/sub messages, the monitor stream): bytes the server sent that
    /// answer no request.
    pub pushes: u64,
    pub push_bytes: u64,
    /// Requests handed on without the reply they wait for: too many waiting, the capture
    /// ended, or their replies were lost.
    pub not_waited: u64,
    pub unanswered: u64,
    /// Connections whose replies could not be matched (picked up mid-way, a gap, or more
    /// requests waiting than are held).
    pub unmatched_connections: u64,
    /// The bytes of requests waiting now, on all connections.
    pub waiting_bytes: u64,
}

/// A request waiting for its reply, with what it has of it.
struct Waiting {
    nanos: u64,
    db: u32,
    data: Vec<u8>,
    spans: Vec<(u32, u32)>,
    longs: Vec<LongArg>,
    bytes: u64,
    cut: bool,
    /// Replies still expected (0: none is, the request goes on once it is first).
    expect: u32,
    subscribe: bool,
    monitor: bool,
    reply_bytes: u64,
    first_reply: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Normal,
    /// `CLIENT REPLY OFF`: no replies until `CLIENT REPLY ON`.
    Off,
    /// `CLIENT REPLY SKIP`: none for the next request.
    Skip,
    /// The connection is a MONITOR stream.
    Monitor,
}

/// One connection's requests and replies.
pub struct Exchange {
    client: SocketAddr,
    /// Replies are matched: the connection was followed from its start, with nothing lost.
    matching: bool,
    /// Boxed: an empty queue's first push makes room for four, and 100 000 connections each
    /// with one request waiting would otherwise hold four requests' room each.
    waiting: VecDeque<Box<Waiting>>,
    waiting_bytes: usize,
    mode: Mode,
    subscribed: bool,
}

/// The pub/sub commands whose replies are confirmations, one per channel.
fn is_subscribe(name: &[u8]) -> bool {
    [&b"subscribe"[..], b"psubscribe", b"ssubscribe", b"unsubscribe", b"punsubscribe", b"sunsubscribe"]
        .iter()
        .any(|c| name.eq_ignore_ascii_case(c))
}

impl Exchange {
    /// The exchange of a connection from `client`; `matching` when it is followed from its start.
    pub fn new(client: SocketAddr, matching: bool, counts: &mut ExchangeCounts) -> Exchange {
        counts.unmatched_connections += u64::from(!matching);
        Exchange { client, matching, waiting: VecDeque::new(), waiting_bytes: 0, mode: Mode::Normal, subscribed: false }
    }

    /// Whether no request waits for its reply.
    pub fn idle(&self) -> bool {
        self.waiting.is_empty()
    }

    /// A whole request, sent at `nanos` on db `db`.
    pub fn request(&mut self, req: &Request<'_>, nanos: u64, db: u32, out: &mut Batch, counts: &mut ExchangeCounts) {
        if !self.matching {
            out.push(nanos, db, self.client, req, None);
            return;
        }
        let arg = |i: usize| req.spans.get(i).map_or(&b""[..], |&(a, b)| &req.data[a as usize..b as usize]);
        let name = arg(0);
        let client_reply = name.eq_ignore_ascii_case(b"client") && arg(1).eq_ignore_ascii_case(b"reply");
        let mut expect = 1;
        if client_reply {
            let (mode, replies) = match arg(2).to_ascii_lowercase().as_slice() {
                b"on" => (Mode::Normal, 1),
                b"off" => (Mode::Off, 0),
                b"skip" => (Mode::Skip, 0),
                _ => (self.mode, 1),
            };
            expect = if self.mode == Mode::Normal || mode == Mode::Normal { replies } else { 0 };
            self.mode = mode;
        } else {
            match self.mode {
                Mode::Off | Mode::Monitor => expect = 0,
                Mode::Skip => {
                    expect = 0;
                    self.mode = Mode::Normal;
                }
                Mode::Normal => {}
            }
        }
        let subscribe = is_subscribe(name);
        if subscribe && expect > 0 {
            expect = (req.spans.len() as u32).saturating_sub(1).max(1);
            self.subscribed = true;
        }
        let monitor = name.eq_ignore_ascii_case(b"monitor");
        self.waiting_bytes += req.data.len();
        counts.waiting_bytes += req.data.len() as u64;
        self.waiting.push_back(Box::new(Waiting {
            nanos,
            db,
            data: req.data.to_vec(),
            spans: req.spans.to_vec(),
            longs: req.longs.to_vec(),
            bytes: req.bytes,
            cut: req.cut,
            expect,
            subscribe,
            monitor,
            reply_bytes: 0,
            first_reply: None,
        }));
        let full = self.waiting.len() > MAX_WAITING || self.waiting_bytes > MAX_WAITING_BYTES;
        if full || counts.waiting_bytes > MAX_ALL_WAITING_BYTES {
            // A reply handed on without its request would be taken for the next one's: the
            // connection's replies are no longer matched.
            counts.not_waited += self.waiting.len() as u64;
            return self.lose(out, counts);
        }
        self.hand_on_ready(out, counts);
    }

    /// A whole reply (or push) from the server.
    pub fn reply(&mut self, done: &ReplyDone, out: &mut Batch, counts: &mut ExchangeCounts) {
        if !self.matching {
            return;
        }
        let confirmation = matches!(done.kind, b'*' | b'>') && is_subscribe(done.first());
        let message = [&b"message"[..], b"pmessage", b"smessage"].iter().any(|m| done.first().eq_ignore_ascii_case(m));
        let front_subscribes = self.waiting.front().is_some_and(|w| w.subscribe);
        let push = self.mode == Mode::Monitor
            || (done.kind == b'>' && !(confirmation && front_subscribes))
            || (done.kind == b'*' && self.subscribed && message)
            || (confirmation && !front_subscribes);
        let Some(front) = self.waiting.front_mut().filter(|_| !push) else {
            counts.pushes += 1;
            counts.push_bytes += done.bytes;
            return;
        };
        front.reply_bytes += done.bytes;
        front.first_reply.get_or_insert(done.nanos);
        front.expect = front.expect.saturating_sub(1);
        if front.monitor && done.kind == b'+' {
            self.mode = Mode::Monitor;
        }
        self.hand_on_ready(out, counts);
    }

    /// Hands on the first requests that wait for nothing more.
    fn hand_on_ready(&mut self, out: &mut Batch, counts: &mut ExchangeCounts) {
        while self.waiting.front().is_some_and(|w| w.expect == 0) {
            let replied = self.waiting.front().is_some_and(|w| w.first_reply.is_some());
            counts.replied += u64::from(replied);
            self.hand_on_first(out, replied, counts);
        }
    }

    /// Hands on the first request waiting, with what it has of its reply when `replied`.
    fn hand_on_first(&mut self, out: &mut Batch, replied: bool, counts: &mut ExchangeCounts) {
        let Some(w) = self.waiting.pop_front() else { return };
        self.waiting_bytes -= w.data.len();
        counts.waiting_bytes -= w.data.len() as u64;
        let reply = match (replied, w.first_reply) {
            (true, Some(first)) => Some(PacketReply { bytes: w.reply_bytes, nanos: first.saturating_sub(w.nanos) }),
            _ => None,
        };
        let req = Request { data: &w.data, spans: &w.spans, longs: &w.longs, bytes: w.bytes, cut: w.cut };
        out.push(w.nanos, w.db, self.client, &req, reply);
    }

    /// Replies can no longer be matched (a gap): what waits goes on without them.
    pub fn lose(&mut self, out: &mut Batch, counts: &mut ExchangeCounts) {
        if self.matching {
            self.matching = false;
            counts.unmatched_connections += 1;
        }
        self.end(out, counts);
    }

    /// The connection (or the capture) ends: what waits goes on without its reply.
    pub fn end(&mut self, out: &mut Batch, counts: &mut ExchangeCounts) {
        while let Some(w) = self.waiting.front() {
            counts.unanswered += u64::from(w.expect > 0);
            self.hand_on_first(out, false, counts);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::resp::{Replies, Requests};
    use super::*;

    /// The requests of `client`'s stream and the replies of `server`'s, fed in turns (`turns`:
    /// (from the client?, bytes)), as `name -> reply bytes` (or `name` without a reply).
    fn exchange(turns: &[(bool, &[u8])]) -> (Vec<String>, ExchangeCounts) {
        let mut counts = ExchangeCounts::default();
        let mut x = Exchange::new("127.0.0.1:1".parse().unwrap(), true, &mut counts);
        let (mut requests, mut replies) = (Requests::new(true), Replies::new());
        let mut batch = Batch::default();
        for (i, (client, bytes)) in turns.iter().enumerate() {
            let nanos = i as u64 * 1000;
            if *client {
                requests.feed(bytes, &mut |req| x.request(&req, nanos, 0, &mut batch, &mut counts));
            } else {
                replies.feed(bytes, nanos, &mut |done| x.reply(&done, &mut batch, &mut counts));
            }
        }
        x.end(&mut batch, &mut counts);
        let rows = batch
            .calls(0)
            .map(|c| {
                let name = String::from_utf8_lossy(c.call.args.get(0)).into_owned();
                match c.reply {
                    Some(r) => format!("{name} -> {} B in {} us", r.bytes, r.nanos / 1000),
                    None => name,
                }
            })
            .collect();
        assert_eq!(counts.waiting_bytes, 0);
        (rows, counts)
    }

    #[test]
    fn pipelined_requests_and_a_transaction_take_their_replies_in_order() {
        let (got, _) = exchange(&[
            (true, b"*1\r\n$5\r\nMULTI\r\n*2\r\n$4\r\nINCR\r\n$1\r\na\r\n*1\r\n$4\r\nEXEC\r\n*1\r\n$4\r\nPING\r\n"),
            (false, b"+OK\r\n+QUEUED\r\n"),
            (false, b"*1\r\n:1\r\n+PONG\r\n"),
        ]);
        assert_eq!(got, ["MULTI -> 5 B in 1 us", "INCR -> 9 B in 1 us", "EXEC -> 8 B in 2 us", "PING -> 7 B in 2 us"]);
    }

    #[test]
    fn pub_sub_pushes_and_silenced_replies_are_not_taken_for_replies() {
        let sub = b"*3\r\n$9\r\nSUBSCRIBE\r\n$1\r\na\r\n$1\r\nb\r\n";
        let confirm_a = b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n";
        let confirm_b = b"*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n";
        let message = b"*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$2\r\nhi\r\n";
        let (got, counts) = exchange(&[
            (true, sub),
            (false, confirm_a),
            (false, message),
            (false, confirm_b),
            (true, b"*1\r\n$4\r\nPING\r\n"),
            (false, message),
            (false, b"*2\r\n$4\r\npong\r\n$0\r\n\r\n"),
        ]);
        let both = (confirm_a.len() + confirm_b.len()) as u64;
        assert_eq!(got, [format!("SUBSCRIBE -> {both} B in 1 us"), "PING -> 20 B in 2 us".to_string()]);
        assert_eq!((counts.pushes, counts.push_bytes), (2, 2 * message.len() as u64));

        let (got, counts) = exchange(&[
            (true, b"*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$3\r\nOFF\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"),
            (true, b"*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$2\r\nON\r\n*1\r\n$4\r\nPING\r\n"),
            (false, b"+OK\r\n>2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n+PONG\r\n"),
            (true, b"*1\r\n$7\r\nMONITOR\r\n"),
            (false, b"+OK\r\n+1.1 [0 127.0.0.1:2] \"get\" \"k\"\r\n"),
        ]);
        let want = ["CLIENT", "GET", "CLIENT -> 5 B in 1 us", "PING -> 7 B in 1 us", "MONITOR -> 5 B in 1 us"];
        assert_eq!(got, want);
        assert_eq!(counts.pushes, 2);
    }

    #[test]
    fn a_connection_that_never_answers_holds_little() {
        let mut turns = Vec::new();
        let get = b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";
        for _ in 0..MAX_WAITING + 10 {
            turns.push((true, &get[..]));
        }
        let (got, counts) = exchange(&turns);
        assert_eq!(got.len(), MAX_WAITING + 10);
        assert_eq!(counts.not_waited, MAX_WAITING as u64 + 1);
        assert_eq!(counts.unmatched_connections, 1);
    }
}
