//! Packet captures as an input: a pcap or pcapng stream (`tcpdump -w`) in, the requests the
//! clients sent to the server out, as the same [`Call`] values the MONITOR parser produces —
//! the packet's time, the client's address, the connection's db — so every sink works on them
//! unchanged.
//!
//! The layers each have a home: the file formats ([`file`](mod@file)), the link layers ([`link`]), IP
//! ([`ip`]), TCP and its reassembly ([`tcp`]), RESP requests and replies ([`resp`]), replies
//! matched to their requests ([`exchange`]: a request goes on with its reply's size and
//! latency). This module follows the connections to the server's ports, and counts whatever
//! could not be read, so the end of a capture can say what it held ([`Counts::summary`]). Reading is streaming and bounded: one
//! packet at a time, at most [`MAX_CONNECTIONS`] connections followed, each holding at most
//! its early segments and its request under way.

mod exchange;
mod file;
mod ip;
mod link;
mod resp;
mod tcp;

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr};

pub use file::is_capture;

use crate::format::long_arg::LongArg;
use crate::format::monitor::{Args, Call, Header, Span};
use file::{Damage, Packet, Packets};

/// The server's port when `--port` is not given.
pub const DEFAULT_PORT: u16 = 6379;

/// The most connections followed at once; a connection past it is counted, not read.
pub const MAX_CONNECTIONS: usize = 1 << 18;

/// Requests handed over at once.
const BATCH: usize = 4096;

/// A request's reply, as the packets showed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply {
    /// Its bytes on the wire (a SUBSCRIBE's: all its confirmations').
    pub bytes: u64,
    /// From the request's last packet to the reply's first, in nanoseconds.
    pub nanos: u64,
}

/// One request of a capture, as the decoder takes it.
#[derive(Debug, Clone, Copy)]
pub struct CallIn<'a> {
    pub node: u32,
    pub call: Call<'a>,
    /// Its arguments kept by their head.
    pub long: &'a [LongArg],
    /// Arguments past what is kept of one request were dropped.
    pub cut: bool,
    /// Its reply, when the capture showed it and it could be matched.
    pub reply: Option<Reply>,
}

/// Where a request's pieces are in its batch.
#[derive(Debug, Clone, Copy)]
struct Meta {
    /// Ends, in the batch's bytes, of its timestamp, db and client texts (each starting where
    /// the one before ends); then its arguments' spans and long arguments.
    text: (u32, u32, u32, u32),
    spans: (u32, u32),
    longs: (u32, u32),
    micros: u64,
    bytes: u64,
    cut: bool,
    reply: Option<Reply>,
}

/// Requests handed over together: owned, so they can travel from a reading thread.
#[derive(Debug, Default)]
pub struct Batch {
    data: Vec<u8>,
    spans: Vec<Span>,
    longs: Vec<LongArg>,
    calls: Vec<Meta>,
}

impl Batch {
    pub fn len(&self) -> usize {
        self.calls.len()
    }

    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    pub fn clear(&mut self) {
        self.data.clear();
        self.spans.clear();
        self.longs.clear();
        self.calls.clear();
    }

    /// The requests, in order, as read from input `node`.
    pub fn calls(&self, node: u32) -> impl Iterator<Item = CallIn<'_>> + '_ {
        self.calls.iter().map(move |m| {
            let (t0, t1, t2, t3) = (m.text.0 as usize, m.text.1 as usize, m.text.2 as usize, m.text.3 as usize);
            let header = Header {
                ts: &self.data[t0..t1],
                micros: m.micros,
                db: &self.data[t1..t2],
                client: &self.data[t2..t3],
                node: None,
            };
            let long = &self.longs[m.longs.0 as usize..m.longs.1 as usize];
            let args = Args::new(&self.data, &self.spans[m.spans.0 as usize..m.spans.1 as usize], long);
            CallIn { node, call: Call { header, args, lost: 0, bytes: m.bytes }, long, cut: m.cut, reply: m.reply }
        })
    }

    /// Adds a request sent by `client` at `nanos`, on db `db`, and its reply.
    fn push(&mut self, nanos: u64, db: u32, client: SocketAddr, req: &resp::Request<'_>, reply: Option<Reply>) {
        let micros = nanos / 1000;
        let t0 = self.data.len() as u32;
        crate::format::timestamp::push_seconds(&mut self.data, micros);
        let mut fmt = itoa::Buffer::new();
        let t1 = self.data.len() as u32;
        self.data.extend_from_slice(fmt.format(db).as_bytes());
        let t2 = self.data.len() as u32;
        let _ = write!(self.data, "{client}");
        let t3 = self.data.len() as u32;
        let base = self.data.len();
        self.data.extend_from_slice(req.data);
        let s0 = self.spans.len() as u32;
        self.spans.extend(req.spans.iter().map(|&(a, b)| Args::span(base + a as usize, base + b as usize)));
        let l0 = self.longs.len() as u32;
        self.longs.extend_from_slice(req.longs);
        self.calls.push(Meta {
            text: (t0, t1, t2, t3),
            spans: (s0, self.spans.len() as u32),
            longs: (l0, self.longs.len() as u32),
            micros,
            bytes: req.bytes,
            cut: req.cut,
            reply,
        });
    }
}

/// What a capture held besides requests, counted for the closing words.
#[derive(Debug, Default, Clone)]
pub struct Counts {
    pub packets: u64,
    pub bytes: u64,
    pub requests: u64,
    /// Connections to the server's ports, those picked up mid-way (already open when the
    /// capture started), those encrypted, and those past [`MAX_CONNECTIONS`].
    pub connections: u64,
    pub picked_up: u64,
    pub tls: u64,
    pub not_followed: u64,
    /// Packets of other ports, of other protocols, fragments, and damaged ones.
    pub other_ports: u64,
    pub not_tcp: u64,
    pub fragments: u64,
    pub damaged: u64,
    /// A link type this reader does not know, and the packets of it.
    pub unknown_link: Option<u32>,
    pub unknown_link_packets: u64,
    pub tcp: tcp::Counts,
    pub resp: resp::Counts,
    pub exchange: exchange::Counts,
    /// Gaps in what the server sent (its replies are not matched after one).
    pub reply_gaps: u64,
    /// Why the file ended early, if it did.
    pub damage: Option<Damage>,
}

impl Counts {
    /// The closing words for a capture of `ports`, naming what could not be read.
    pub fn summary(&self, ports: &[u16]) -> String {
        let mut s = format!(
            "{}, {} on {}",
            counted(self.packets, "packets"),
            counted(self.requests, "requests"),
            counted(self.connections, "connections")
        );
        let mut say = |n: u64, what: &str| {
            if n > 0 {
                s.push_str(&format!("; {}", counted(n, what)));
            }
        };
        say(self.picked_up, "connections already open when the capture started (read from their next command)");
        say(self.tls, "connections encrypted (TLS): encrypted: cannot be read");
        say(self.not_followed, "connections not followed (too many at once)");
        say(self.tcp.gaps, "gaps in the byte streams (packets the capture lost or cut)");
        say(self.tcp.gap_bytes, "bytes missing in gaps");
        say(self.tcp.snap_bytes, "of them cut by the snap length (tcpdump -s 0 keeps whole packets)");
        say(self.resp.lost, "requests lost in gaps");
        say(self.resp.not_resp, "places where the bytes to the server were not RESP");
        say(self.resp.skipped_bytes, "bytes passed over to find the next request");
        say(self.resp.unfinished, "requests cut short by the end of the capture");
        let x = &self.exchange;
        say(x.replied, "requests with their reply");
        say(x.unmatched_connections, "connections whose replies could not be matched (picked up mid-way, or a gap)");
        say(x.unanswered, "requests whose reply the capture does not hold");
        say(x.pushes, "pushes and pub/sub messages (not replies)");
        say(self.reply_gaps, "gaps in what the server sent");
        say(self.tcp.retransmitted, "retransmitted segments dropped");
        say(self.tcp.out_of_order, "segments out of order");
        say(self.fragments, "IP fragments (not reassembled)");
        say(self.damaged, "damaged packets");
        say(self.not_tcp, "packets not TCP");
        if let Some(link) = self.unknown_link {
            say(self.unknown_link_packets, &format!("packets of link type {link}, which this reader does not know"));
        }
        let ports: Vec<String> = ports.iter().map(u16::to_string).collect();
        let ports = ports.join(", ");
        say(self.other_ports, &format!("packets of ports other than {ports}"));
        if self.connections == 0 && self.other_ports > 0 {
            s.push_str(&format!("; no traffic to port {ports}: is the server on another port (--port)?"));
        }
        match &self.damage {
            Some(Damage::Truncated) => s.push_str("; the file ends inside a packet (cut short)"),
            Some(Damage::Corrupt(why)) => s.push_str(&format!("; the file is damaged ({why}): read up to there")),
            None => {}
        }
        s
    }
}

/// `n` and what it counts: `what` is written in the plural, and its first plural noun is made
/// singular for one (`1 gap in the byte streams`, `1 retransmitted segment dropped`).
fn counted(n: u64, what: &str) -> String {
    const NOUNS: [(&str, &str); 10] = [
        ("connections", "connection"),
        ("packets", "packet"),
        ("requests", "request"),
        ("gaps", "gap"),
        ("bytes", "byte"),
        ("places", "place"),
        ("pushes", "push"),
        ("segments", "segment"),
        ("fragments", "fragment"),
        ("messages", "message"),
    ];
    if n != 1 {
        return format!("{n} {what}");
    }
    let mut words: Vec<&str> = what.split(' ').collect();
    if let Some(word) = words.iter_mut().find(|w| NOUNS.iter().any(|(plural, _)| *w == plural)) {
        *word = NOUNS.iter().find(|(plural, _)| word == plural).map_or(*word, |(_, one)| one);
    }
    format!("1 {}", words.join(" "))
}

/// Why reading a capture stopped.
#[derive(Debug)]
pub enum Stopped<E> {
    Read(io::Error),
    Consumer(E),
}

/// Both ends of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    client: SocketAddr,
    server: SocketAddr,
}

/// A connection followed.
struct Connection {
    to_server: tcp::Stream,
    to_client: tcp::Stream,
    requests: resp::Requests,
    replies: resp::Replies,
    exchange: exchange::Exchange,
    db: u32,
    tls: bool,
    /// The client has closed its side (FIN): the connection ends once its replies are in.
    client_done: bool,
}

/// The connections of a capture.
struct Follower<'p> {
    ports: &'p [u16],
    /// Boxed, so the table's growth moves small entries (100 000 connections and more).
    connections: HashMap<Key, Box<Connection>>,
    counts: Counts,
    batch: Batch,
}

/// Reads a capture to its end, handing over its requests a batch at a time; `ports` are the
/// server's. Returns what it counted.
pub fn read_all<R: Read, E>(
    input: R,
    ports: &[u16],
    mut on: impl FnMut(&mut Batch) -> Result<(), E>,
) -> Result<Counts, Stopped<E>> {
    let mut packets = Packets::new(input);
    let mut follower =
        Follower { ports, connections: HashMap::new(), counts: Counts::default(), batch: Batch::default() };
    loop {
        // Hand over what there is before a read that may wait (a live capture).
        if follower.batch.len() >= BATCH || (!follower.batch.is_empty() && packets.buffered() < 64) {
            on(&mut follower.batch).map_err(Stopped::Consumer)?;
            follower.batch.clear();
        }
        if crate::sys::signal::stopped() {
            break;
        }
        match packets.next_packet().map_err(Stopped::Read)? {
            Some(packet) => follower.packet(&packet),
            None => break,
        }
    }
    follower.end();
    if !follower.batch.is_empty() {
        on(&mut follower.batch).map_err(Stopped::Consumer)?;
    }
    let mut counts = follower.counts;
    counts.bytes = packets.bytes;
    counts.damage = packets.damage.clone();
    Ok(counts)
}

/// A TLS record's start: a handshake (the first bytes of a connection) or application data.
fn looks_like_tls(bytes: &[u8]) -> bool {
    matches!(bytes, [0x16, 0x03, 0x00..=0x04, ..] | [0x17, 0x03, 0x01..=0x04, ..])
}

impl Follower<'_> {
    fn packet(&mut self, packet: &Packet<'_>) {
        let c = &mut self.counts;
        c.packets += 1;
        let frame = match link::ip_packet(packet.link, packet.data) {
            link::Frame::Ip(bytes) => bytes,
            link::Frame::Other => return c.not_tcp += 1,
            link::Frame::Short => return c.damaged += 1,
            link::Frame::UnknownLink => {
                c.unknown_link = Some(packet.link);
                return c.unknown_link_packets += 1;
            }
        };
        let datagram = match ip::parse(frame) {
            ip::Packet::Datagram(d) => d,
            ip::Packet::Fragment => return c.fragments += 1,
            ip::Packet::Damaged => return c.damaged += 1,
        };
        if datagram.protocol != ip::TCP {
            return c.not_tcp += 1;
        }
        let Some(segment) = tcp::parse(datagram.payload, datagram.missing) else { return c.damaged += 1 };
        let (src, dst) = (datagram.src, datagram.dst);
        if self.ports.contains(&segment.dst_port) {
            let key = Key { client: addr(src, segment.src_port), server: addr(dst, segment.dst_port) };
            self.client_segment(key, &segment, packet.nanos);
        } else if self.ports.contains(&segment.src_port) {
            let key = Key { client: addr(dst, segment.dst_port), server: addr(src, segment.src_port) };
            self.server_segment(key, &segment, packet.nanos);
        } else {
            c.other_ports += 1;
        }
    }

    /// A segment from a client to the server.
    fn client_segment(&mut self, key: Key, segment: &tcp::Segment<'_>, nanos: u64) {
        let counts = &mut self.counts;
        if !self.connections.contains_key(&key) {
            if !segment.syn && segment.payload.is_empty() && segment.missing == 0 {
                // A bare ACK or FIN of a connection not followed.
                return;
            }
            if self.connections.len() >= MAX_CONNECTIONS {
                counts.not_followed += 1;
                return;
            }
            counts.connections += 1;
            counts.picked_up += u64::from(!segment.syn);
            let connection = Connection {
                to_server: tcp::Stream::default(),
                to_client: tcp::Stream::default(),
                requests: resp::Requests::new(segment.syn),
                replies: resp::Replies::new(),
                exchange: exchange::Exchange::new(key.client, segment.syn, &mut counts.exchange),
                db: 0,
                tls: false,
                client_done: false,
            };
            self.connections.insert(key, Box::new(connection));
        }
        let Some(conn) = self.connections.get_mut(&key) else { return };
        let Connection { to_server, requests, exchange, db, tls, .. } = &mut **conn;
        let batch = &mut self.batch;
        let tcp = &mut counts.tcp;
        let (resp_counts, xc) = (&mut counts.requests, &mut counts.exchange);
        let mut emit = |req: resp::Request<'_>| {
            *resp_counts += 1;
            follow_db(db, &req);
            exchange.request(&req, nanos, *db, batch, xc);
        };
        let mut gap = false;
        let not_resp = requests.counts.not_resp;
        to_server.segment(segment, tcp, &mut |piece| match piece {
            tcp::Piece::Bytes(bytes) => {
                if !*tls && requests.between_requests() && looks_like_tls(bytes) {
                    *tls = true;
                    counts.tls += 1;
                }
                if !*tls {
                    requests.feed(bytes, &mut emit);
                }
            }
            tcp::Piece::Gap(n) => {
                gap = true;
                requests.gap(n, &mut emit);
            }
        });
        if gap || requests.counts.not_resp > not_resp {
            // Requests may be lost in it (or in bytes that are not RESP, which the server
            // answers with an error): their replies would be taken for others'.
            exchange.lose(batch, xc);
        }
        if segment.fin {
            conn.client_done = true;
        }
        if segment.rst || (conn.client_done && conn.exchange.idle()) {
            self.close(&key);
        }
    }

    /// A segment from the server to a client: replies.
    fn server_segment(&mut self, key: Key, segment: &tcp::Segment<'_>, nanos: u64) {
        let counts = &mut self.counts;
        let Some(conn) = self.connections.get_mut(&key) else { return };
        let Connection { to_client, replies, exchange, tls, .. } = &mut **conn;
        let batch = &mut self.batch;
        let (xc, reply_gaps) = (&mut counts.exchange, &mut counts.reply_gaps);
        let mut gap = false;
        to_client.segment(segment, &mut counts.tcp, &mut |piece| match piece {
            tcp::Piece::Bytes(bytes) if !*tls => {
                replies.feed(bytes, nanos, &mut |done| exchange.reply(&done, batch, xc))
            }
            tcp::Piece::Bytes(_) => {}
            tcp::Piece::Gap(_) => gap = true,
        });
        if gap || replies.lost {
            *reply_gaps += u64::from(gap);
            replies.lose();
            exchange.lose(batch, xc);
        }
        if segment.fin || segment.rst || (conn.client_done && conn.exchange.idle()) {
            self.close(&key);
        }
    }

    /// A connection ends: what it held early comes out, and it is forgotten.
    fn close(&mut self, key: &Key) {
        let Some(mut conn) = self.connections.remove(key) else { return };
        self.finish(&mut conn);
    }

    fn finish(&mut self, conn: &mut Connection) {
        let counts = &mut self.counts;
        let Connection { to_server, requests, exchange, db, tls, .. } = conn;
        let batch = &mut self.batch;
        // Early segments are from the time of the last packet; the batch keeps time order
        // closely enough for reports (their times are within the hold bound of each other).
        let nanos = batch.calls.last().map_or(0, |m| m.micros * 1000);
        let (resp_counts, xc) = (&mut counts.requests, &mut counts.exchange);
        let mut emit = |req: resp::Request<'_>| {
            *resp_counts += 1;
            follow_db(db, &req);
            exchange.request(&req, nanos, *db, batch, xc);
        };
        to_server.flush(&mut counts.tcp, &mut |piece| match piece {
            tcp::Piece::Bytes(bytes) if !*tls => requests.feed(bytes, &mut emit),
            tcp::Piece::Bytes(_) => {}
            tcp::Piece::Gap(n) => requests.gap(n, &mut emit),
        });
        requests.end();
        exchange.end(batch, xc);
        counts.resp.merge(&requests.counts);
    }

    /// The end of the capture: every connection still open ends.
    fn end(&mut self) {
        let open: Vec<Key> = self.connections.keys().copied().collect();
        for key in open {
            self.close(&key);
        }
    }
}

fn addr(ip: IpAddr, port: u16) -> SocketAddr {
    SocketAddr::new(ip, port)
}

/// SELECT changes a connection's db, and RESET sets it back to 0: the db a request shows is
/// the one it runs in (MONITOR shows a SELECT with its new db).
fn follow_db(db: &mut u32, req: &resp::Request<'_>) {
    let arg = |i: usize| req.spans.get(i).map(|&(a, b)| &req.data[a as usize..b as usize]);
    let Some(name) = arg(0) else { return };
    if name.eq_ignore_ascii_case(b"select") {
        let n = arg(1).and_then(|d| std::str::from_utf8(d).ok()).and_then(|d| d.parse::<u32>().ok());
        if let (Some(n), 2) = (n, req.spans.len()) {
            *db = n;
        }
    } else if name.eq_ignore_ascii_case(b"reset") {
        *db = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A TCP segment from `src` to `dst` port, as an Ethernet frame (port 6379 is the server's,
    /// on 10.0.0.2).
    fn frame(src: u16, dst: u16, seq: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
        let mut tcp = Vec::new();
        tcp.extend(src.to_be_bytes());
        tcp.extend(dst.to_be_bytes());
        tcp.extend(seq.to_be_bytes());
        tcp.extend([0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        tcp.extend_from_slice(payload);
        let mut eth = vec![0u8; 12];
        eth.extend([0x08, 0x00]);
        let (client, server) = ([10, 0, 0, 1], [10, 0, 0, 2]);
        let (from, to) = if src == 6379 { (server, client) } else { (client, server) };
        eth.extend(ip::tests::v4_packet(from, to, ip::TCP, &tcp));
        eth
    }

    const SYN: u8 = 0x02;
    const ACK: u8 = 0x10;
    const FIN: u8 = 0x01;

    /// The requests of a capture of `frames` (time 1 s apart), as `client db words…`, and what
    /// it counted.
    fn read(frames: &[Vec<u8>], ports: &[u16]) -> (Vec<String>, Counts) {
        let packets: Vec<(u64, &[u8])> =
            frames.iter().enumerate().map(|(i, f)| ((i as u64 + 1) * 1_000_000, &f[..])).collect();
        let file = file::tests::pcap(false, false, 1, &packets);
        let mut got = Vec::new();
        let counts = read_all(&file[..], ports, |batch| -> Result<(), ()> {
            for c in batch.calls(0) {
                let h = c.call.header;
                let mut row = format!("{} {}", String::from_utf8_lossy(h.client), String::from_utf8_lossy(h.db));
                for a in c.call.args.iter() {
                    row.push(' ');
                    row.push_str(&String::from_utf8_lossy(a));
                }
                if let Some(r) = c.reply {
                    row.push_str(&format!(" -> {} B {} us", r.bytes, r.nanos / 1000));
                }
                got.push(row);
            }
            Ok(())
        })
        .unwrap();
        (got, counts)
    }

    #[test]
    fn connections_their_db_and_what_is_not_read() {
        let get = b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";
        let select = b"*2\r\n$6\r\nSELECT\r\n$1\r\n5\r\n";
        let frames = [
            // A connection from its SYN, which selects db 5.
            frame(40000, 6379, 99, SYN, b""),
            frame(40000, 6379, 100, ACK, select),
            frame(6379, 40000, 500, ACK, b"+OK\r\n"),
            frame(40000, 6379, 100 + select.len() as u32, ACK, get),
            frame(6379, 40000, 505, ACK, b"$1\r\nv\r\n"),
            // A connection already open, caught inside a request.
            frame(40001, 6379, 7, ACK, b"\r\n$1\r\nv\r\n"),
            frame(40001, 6379, 16, ACK, get),
            // TLS on the port.
            frame(40002, 6379, 0, SYN, b""),
            frame(40002, 6379, 1, ACK, &[0x16, 0x03, 0x01, 0x02, 0x00, 1, 2, 3]),
            frame(40002, 6379, 9, ACK, b"*1\r\n$4\r\nPING\r\n"),
            // Another port.
            frame(40003, 5432, 0, ACK, b"SELECT 1;"),
            frame(40000, 6379, 100 + (select.len() + get.len()) as u32, FIN | ACK, b""),
        ];
        let (got, counts) = read(&frames, &[6379]);
        // Each request goes on with its reply (time from the request's packet to the reply's);
        // the connection picked up mid-way has none.
        let want = ["10.0.0.1:40000 5 SELECT 5 -> 5 B 1000000 us", "10.0.0.1:40000 5 GET k -> 7 B 1000000 us"];
        assert_eq!(got[..2], want);
        assert_eq!(got[2], "10.0.0.1:40001 0 GET k");
        assert_eq!((counts.connections, counts.picked_up, counts.tls, counts.other_ports), (3, 1, 1, 1));
        assert_eq!(counts.resp.skipped_bytes, 9);
        assert_eq!((counts.exchange.replied, counts.exchange.unmatched_connections), (2, 1));
        let said = counts.summary(&[6379]);
        assert!(said.contains("1 connection encrypted (TLS): encrypted: cannot be read"), "{said}");
        assert!(said.contains("1 packet of ports other than 6379"), "{said}");
        // Named with the wrong port: nothing, and the likely mistake said.
        let (got, counts) = read(&frames, &[6380]);
        assert!(got.is_empty());
        assert!(counts.summary(&[6380]).contains("no traffic to port 6380"));
    }

    #[test]
    fn a_connection_that_never_finishes_its_request() {
        let frames = [frame(1, 6379, 0, SYN, b""), frame(1, 6379, 1, ACK, b"*2\r\n$3\r\nGET\r\n$100\r\nab")];
        let (got, counts) = read(&frames, &[6379]);
        assert!(got.is_empty());
        assert_eq!(counts.resp.unfinished, 1);
        assert!(counts.summary(&[6379]).contains("1 request cut short by the end of the capture"));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, ..Default::default() })]

        /// Any segments, in any order, of any bytes: no panic, and every request handed out is
        /// counted.
        #[test]
        fn any_segments_in_any_order(
            segments in proptest::collection::vec((0u16..3, 0u32..400, 0u8..0x20, proptest::prop_oneof![
                proptest::strategy::Just(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n".to_vec()),
                proptest::strategy::Just(b"*1\r\n$4\r\nPI".to_vec()),
                proptest::strategy::Just(b"NG\r\nset a b\r\n".to_vec()),
                proptest::collection::vec(proptest::prelude::any::<u8>(), 0..60),
            ]), 0..40),
        ) {
            let frames: Vec<Vec<u8>> =
                segments.iter().map(|(c, seq, flags, p)| frame(40000 + c, 6379, *seq, *flags, p)).collect();
            let (got, counts) = read(&frames, &[6379]);
            proptest::prop_assert_eq!(got.len() as u64, counts.requests);
            let mut cut = file::tests::pcap(false, false, 1, &[(1, &frames.concat())]);
            cut.truncate(cut.len() / 2);
            let counts = read_all(&cut[..], &[6379], |_| -> Result<(), ()> { Ok(()) }).unwrap();
            proptest::prop_assert!(counts.packets <= 1);
        }
    }
}
