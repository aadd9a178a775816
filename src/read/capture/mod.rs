//! Packet captures as an input: a pcap or pcapng stream (`tcpdump -w`) in, the requests the
//! clients sent to the server out, as the same [`Call`] values the MONITOR parser produces —
//! the packet's time, the client's address, the connection's db — so every sink works on them
//! unchanged.
//!
//! The layers each have a home: the file formats ([`file`](mod@file)), the link layers ([`link`]), IP
//! ([`ip`]), TCP and its reassembly ([`tcp`]), RESP requests and replies ([`resp`]), replies
//! matched to their requests ([`exchange`]: a request goes on with its reply's size and
//! latency). This module follows the connections to the server's ports, and counts whatever
//! could not be read, so the end of a capture can say what it held ([`CaptureCounts::summary`]). Reading is streaming and bounded: one
//! packet at a time, at most [`MAX_CONNECTIONS`] connections followed, each holding at most
//! its early segments and its request under way.

mod detect;
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
use crate::sys::signal::Stop;
use file::{Damage, Packet, Packets};

/// The server's port when `--port` is not given.
pub const DEFAULT_PORT: u16 = 6379;

/// The most connections followed at once; a connection past it is counted, not read.
pub const MAX_CONNECTIONS: usize = 1 << 18;

/// Requests handed over at once.
const BATCH: usize = 4096;

/// A request's reply, as the packets showed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketReply {
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
    pub reply: Option<PacketReply>,
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
    reply: Option<PacketReply>,
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
            let call = Call { header, args, lost: 0, bytes: m.bytes, reply: None };
            CallIn { node, call, long, cut: m.cut, reply: m.reply }
        })
    }

    /// Adds a request sent by `client` at `nanos`, on db `db`, and its reply.
    fn push(&mut self, nanos: u64, db: u32, client: SocketAddr, req: &resp::Request<'_>, reply: Option<PacketReply>) {
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
pub struct CaptureCounts {
    pub packets: u64,
    pub bytes: u64,
    pub requests: u64,
    /// Connections to the server's ports, those picked up mid-way (already open when the
    /// capture started), those encrypted, and those past [`MAX_CONNECTIONS`].
    pub connections: u64,
    pub picked_up: u64,
    pub tls: u64,
    pub not_followed: u64,
    /// Connections on ports not named whose server was told by its replies ([`detect`]), how
    /// many such servers and the first of them, connections of which both ends looked alike
    /// (not read), and connections not probed (too many at once).
    pub found: u64,
    pub servers: u64,
    pub servers_found: Vec<SocketAddr>,
    pub ambiguous: u64,
    pub not_probed: u64,
    /// Packets of other ports, of other protocols, fragments, and damaged ones.
    pub other_ports: u64,
    pub not_tcp: u64,
    pub fragments: u64,
    pub damaged: u64,
    /// A link type this reader does not know, and the packets of it.
    pub unknown_link: Option<u32>,
    pub unknown_link_packets: u64,
    pub tcp: tcp::TcpCounts,
    pub resp: resp::Counts,
    pub exchange: exchange::ExchangeCounts,
    /// Gaps in what the server sent (its replies are not matched after one).
    pub reply_gaps: u64,
    /// Why the file ended early, if it did.
    pub damage: Option<Damage>,
}

impl CaptureCounts {
    /// The closing words for a capture of `ports` (as `--port` named them: none for 6379 and
    /// the servers told by their replies), naming what could not be read.
    pub fn summary(&self, ports: &[u16]) -> String {
        let detect = ports.is_empty();
        let ports = if detect { &[DEFAULT_PORT][..] } else { ports };
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
        if !self.servers_found.is_empty() {
            let mut servers: Vec<String> = self.servers_found.iter().map(SocketAddr::to_string).collect();
            if (self.servers_found.len() as u64) < self.servers {
                servers.push("…".into());
            }
            let what = format!(
                "connections read on other ports, their server told by its RESP replies ({})",
                servers.join(", ")
            );
            say(self.found, &what);
        }
        say(self.picked_up, "connections already open when the capture started (read from their next command)");
        say(self.tls, "connections encrypted (TLS): encrypted: cannot be read");
        say(self.not_followed, "connections not followed (too many at once)");
        say(self.ambiguous, "connections on other ports not read: both ends looked like clients, or both like servers (--port names the server's)");
        say(self.not_probed, "connections on other ports not looked at (too many at once)");
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
        if detect {
            say(self.other_ports, &format!("packets of ports other than {ports} not from a RESP server's connections"));
        } else {
            say(self.other_ports, &format!("packets of ports other than {ports}"));
        }
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
struct ConnectionKey {
    client: SocketAddr,
    server: SocketAddr,
}

/// A connection's two ends, in the order of their addresses: what names a connection while
/// which end is the server is not known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Pair(SocketAddr, SocketAddr);

impl Pair {
    fn new(a: SocketAddr, b: SocketAddr) -> Pair {
        if a <= b {
            Pair(a, b)
        } else {
            Pair(b, a)
        }
    }
}

/// A connection followed.
struct Connection {
    to_server: tcp::Reassembly,
    to_client: tcp::Reassembly,
    talk: Talk,
}

/// What a connection's two byte streams are read into.
struct Talk {
    requests: resp::Requests,
    replies: resp::Replies,
    exchange: exchange::Exchange,
    db: u32,
    tls: bool,
    /// The client has closed its side (FIN): the connection ends once its replies are in.
    client_done: bool,
}

impl Talk {
    /// The talk of a connection from `client`, seen from its start (`synced`) or not.
    fn new(client: SocketAddr, synced: bool, counts: &mut CaptureCounts) -> Talk {
        counts.connections += 1;
        counts.picked_up += u64::from(!synced);
        Talk {
            requests: resp::Requests::new(synced),
            replies: resp::Replies::new(),
            exchange: exchange::Exchange::new(client, synced, &mut counts.exchange),
            db: 0,
            tls: false,
            client_done: false,
        }
    }

    /// The next piece of what the client sent, at `nanos`.
    fn client_sent(&mut self, piece: tcp::Piece<'_>, nanos: u64, batch: &mut Batch, counts: &mut CaptureCounts) {
        let Talk { requests, exchange, db, tls, .. } = self;
        let not_resp = requests.counts.not_resp;
        let mut emit = |req: resp::Request<'_>| {
            counts.requests += 1;
            follow_db(db, &req);
            exchange.request(&req, nanos, *db, batch, &mut counts.exchange);
        };
        let gap = match piece {
            tcp::Piece::Bytes(bytes) => {
                if !*tls && requests.between_requests() && looks_like_tls(bytes) {
                    *tls = true;
                    counts.tls += 1;
                }
                if !*tls {
                    requests.feed(bytes, &mut emit);
                }
                false
            }
            tcp::Piece::Gap(n) => {
                requests.gap(n, &mut emit);
                true
            }
        };
        if gap || requests.counts.not_resp > not_resp {
            // Requests may be lost in it (or in bytes that are not RESP, which the server
            // answers with an error): their replies would be taken for others'.
            exchange.lose(batch, &mut counts.exchange);
        }
    }

    /// Whether a segment's flags end the connection: the client's FIN once its replies are in,
    /// a RST, the server's FIN.
    fn ends_with(&mut self, segment: &tcp::Segment<'_>, from_client: bool) -> bool {
        if from_client && segment.fin {
            self.client_done = true;
        }
        let done = self.client_done && self.exchange.idle();
        segment.rst || done || (!from_client && segment.fin)
    }

    /// The next piece of what the server sent, at `nanos`: replies.
    fn server_sent(&mut self, piece: tcp::Piece<'_>, nanos: u64, batch: &mut Batch, counts: &mut CaptureCounts) {
        let Talk { replies, exchange, tls, .. } = self;
        let xc = &mut counts.exchange;
        let gap = match piece {
            tcp::Piece::Bytes(bytes) if !*tls => {
                replies.feed(bytes, nanos, &mut |done| exchange.reply(&done, batch, xc));
                false
            }
            tcp::Piece::Bytes(_) => false,
            tcp::Piece::Gap(_) => true,
        };
        if gap || replies.lost {
            counts.reply_gaps += u64::from(gap);
            replies.lose();
            exchange.lose(batch, &mut counts.exchange);
        }
    }
}

/// Where the servers are: the ports named, and the servers told by their replies.
struct Servers<'p> {
    ports: &'p [u16],
    /// Connections on other ports are probed for a RESP server (no `--port` given).
    detect: bool,
    found: std::collections::HashSet<SocketAddr>,
    /// The ports of the servers found, one bit each: most packets are told apart by their
    /// ports alone, without a lookup of their address.
    found_ports: Box<[u64; 1024]>,
}

/// The most servers told by their replies that are remembered.
const MAX_FOUND: usize = 4096;
/// The most servers told by their replies that the closing words name.
const SERVERS_SAID: usize = 8;
/// The most connections probed at once, and the most remembered as not read.
const MAX_PROBES: usize = 4096;
const MAX_NOT_READ: usize = 1 << 16;

impl Servers<'_> {
    fn is_server(&self, end: SocketAddr) -> bool {
        let port = usize::from(end.port());
        let found_port = self.found_ports[port / 64] & (1 << (port % 64)) != 0;
        self.ports.contains(&end.port()) || (found_port && self.found.contains(&end))
    }

    /// Remembers a server told by its replies; false when it was known, or too many are.
    fn remember(&mut self, server: SocketAddr) -> bool {
        if self.found.len() >= MAX_FOUND || !self.found.insert(server) {
            return false;
        }
        let port = usize::from(server.port());
        self.found_ports[port / 64] |= 1 << (port % 64);
        true
    }
}

/// The connections of a capture.
struct Follower<'p> {
    servers: Servers<'p>,
    /// Boxed, so the table's growth moves small entries (100 000 connections and more).
    connections: HashMap<ConnectionKey, Box<Connection>>,
    /// Connections on other ports, until their server is told ([`detect`]).
    probes: HashMap<Pair, Box<detect::Probe>>,
    /// Connections probed and found not to be Redis (until they end).
    not_read: std::collections::HashSet<Pair>,
    /// What the probes keep, and their streams' counts (not the capture's: most of what they
    /// follow is not Redis).
    probe_bytes: u64,
    probe_tcp: tcp::TcpCounts,
    counts: CaptureCounts,
    batch: Batch,
}

/// Reads a capture to its end, handing over its requests a batch at a time; `ports` are the
/// server's as `--port` named them: none, and the server is on 6379 or is the end of a
/// connection that answers in RESP replies ([`detect`]). Returns what it counted.
pub fn read_all<R: Read, E>(
    input: R,
    ports: &[u16],
    stop: Stop,
    mut on: impl FnMut(&mut Batch) -> Result<(), E>,
) -> Result<CaptureCounts, Stopped<E>> {
    let mut packets = Packets::new(input);
    let detect = ports.is_empty();
    let ports = if detect { &[DEFAULT_PORT][..] } else { ports };
    let mut follower = Follower {
        servers: Servers { ports, detect, found: Default::default(), found_ports: Box::new([0; 1024]) },
        connections: HashMap::new(),
        probes: HashMap::new(),
        not_read: Default::default(),
        probe_bytes: 0,
        probe_tcp: tcp::TcpCounts::default(),
        counts: CaptureCounts::default(),
        batch: Batch::default(),
    };
    loop {
        // Hand over what there is before a read that may wait (a live capture).
        if follower.batch.len() >= BATCH || (!follower.batch.is_empty() && packets.buffered() < 64) {
            on(&mut follower.batch).map_err(Stopped::Consumer)?;
            follower.batch.clear();
        }
        if stop.requested() {
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
            link::LinkFrame::Ip(bytes) => bytes,
            link::LinkFrame::Other => return c.not_tcp += 1,
            link::LinkFrame::Short => return c.damaged += 1,
            link::LinkFrame::UnknownLink => {
                c.unknown_link = Some(packet.link);
                return c.unknown_link_packets += 1;
            }
        };
        let datagram = match ip::parse(frame) {
            ip::IpPacket::Datagram(d) => d,
            ip::IpPacket::Fragment => return c.fragments += 1,
            ip::IpPacket::Damaged => return c.damaged += 1,
        };
        if datagram.protocol != ip::TCP {
            return c.not_tcp += 1;
        }
        let Some(segment) = tcp::parse(datagram.payload, datagram.missing) else { return c.damaged += 1 };
        let (src, dst) = (addr(datagram.src, segment.src_port), addr(datagram.dst, segment.dst_port));
        if self.servers.is_server(dst) {
            self.client_segment(ConnectionKey { client: src, server: dst }, &segment, packet.nanos);
        } else if self.servers.is_server(src) {
            self.server_segment(ConnectionKey { client: dst, server: src }, &segment, packet.nanos);
        } else if self.servers.detect {
            self.probe_segment(src, dst, &segment, packet.nanos);
        } else {
            c.other_ports += 1;
        }
    }

    /// A segment from a client to the server.
    fn client_segment(&mut self, key: ConnectionKey, segment: &tcp::Segment<'_>, nanos: u64) {
        if !self.connections.contains_key(&key) {
            if !self.probes.is_empty() && self.promote(key) {
                return self.client_segment(key, segment, nanos);
            }
            if !segment.syn && segment.payload.is_empty() && segment.missing == 0 {
                // A bare ACK or FIN of a connection not followed.
                return;
            }
            if self.connections.len() >= MAX_CONNECTIONS {
                self.counts.not_followed += 1;
                return;
            }
            let talk = Talk::new(key.client, segment.syn, &mut self.counts);
            let conn =
                Connection { to_server: tcp::Reassembly::default(), to_client: tcp::Reassembly::default(), talk };
            self.connections.insert(key, Box::new(conn));
        }
        let Some(conn) = self.connections.get_mut(&key) else { return };
        let Connection { to_server, talk, .. } = &mut **conn;
        let (batch, counts) = (&mut self.batch, &mut self.counts);
        let mut tcp = counts.tcp;
        to_server.segment(segment, &mut tcp, &mut |piece| talk.client_sent(piece, nanos, batch, counts));
        counts.tcp = tcp;
        if talk.ends_with(segment, true) {
            self.close(&key);
        }
    }

    /// A segment from the server to a client: replies.
    fn server_segment(&mut self, key: ConnectionKey, segment: &tcp::Segment<'_>, nanos: u64) {
        if !self.probes.is_empty() && !self.connections.contains_key(&key) {
            let pair = Pair::new(key.client, key.server);
            if self.probes.get(&pair).is_some_and(|p| p.sent(key.client)) {
                self.promote(key);
            } else {
                // The server's side alone (a MONITOR stream, a subscriber's messages) is not
                // followed, as on a port named.
                self.forget_probe(pair);
            }
        }
        let Some(conn) = self.connections.get_mut(&key) else { return };
        let Connection { to_client, talk, .. } = &mut **conn;
        let (batch, counts) = (&mut self.batch, &mut self.counts);
        let mut tcp = counts.tcp;
        to_client.segment(segment, &mut tcp, &mut |piece| talk.server_sent(piece, nanos, batch, counts));
        counts.tcp = tcp;
        if talk.ends_with(segment, false) {
            self.close(&key);
        }
    }

    /// [`Talk::ends_with`] for the connection `key`, closing it when it ends.
    fn after_segment(&mut self, key: ConnectionKey, segment: &tcp::Segment<'_>, from_client: bool) {
        let Some(conn) = self.connections.get_mut(&key) else { return };
        if conn.talk.ends_with(segment, from_client) {
            self.close(&key);
        }
    }

    /// A segment of a connection on ports not named: probed until its server is told.
    fn probe_segment(&mut self, src: SocketAddr, dst: SocketAddr, segment: &tcp::Segment<'_>, nanos: u64) {
        let pair = Pair::new(src, dst);
        let ends = segment.fin || segment.rst;
        if self.not_read.contains(&pair) {
            if ends {
                self.not_read.remove(&pair);
            }
            return self.counts.other_ports += 1;
        }
        if !self.probes.contains_key(&pair) {
            if !segment.syn && segment.payload.is_empty() && segment.missing == 0 {
                return self.counts.other_ports += 1;
            }
            if self.probes.len() >= MAX_PROBES {
                self.counts.not_probed += 1;
                return self.counts.other_ports += 1;
            }
            self.probes.insert(pair, Box::new(detect::Probe::new([src, dst])));
        }
        let Some(probe) = self.probes.get_mut(&pair) else { return };
        let from = usize::from(probe.ends[0] != src);
        let mut verdict = probe.segment(from, segment, nanos, &mut self.probe_bytes, &mut self.probe_tcp);
        if ends && verdict == detect::Detection::Wait {
            verdict = probe.give_up();
        }
        let pair_ends = probe.ends;
        match verdict {
            detect::Detection::Wait => {}
            detect::Detection::Server(end) => {
                let (server, client) = (pair_ends[end], pair_ends[1 - end]);
                self.found(server);
                self.promote(ConnectionKey { client, server });
                self.after_segment(ConnectionKey { client, server }, segment, src == client);
            }
            verdict => {
                let probe = self.forget_probe(pair);
                let c = &mut self.counts;
                c.other_ports += probe.map_or(0, |p| p.packets);
                c.ambiguous += u64::from(verdict == detect::Detection::Ambiguous);
                if !ends {
                    if self.not_read.len() >= MAX_NOT_READ {
                        self.not_read.clear();
                    }
                    self.not_read.insert(pair);
                }
            }
        }
    }

    /// A server told by its replies: every connection to it is read from now on.
    fn found(&mut self, server: SocketAddr) {
        if self.servers.remember(server) {
            self.counts.servers += 1;
            if self.counts.servers_found.len() < SERVERS_SAID {
                self.counts.servers_found.push(server);
            }
        }
    }

    /// Forgets a probe, and what it kept.
    fn forget_probe(&mut self, pair: Pair) -> Option<Box<detect::Probe>> {
        let probe = self.probes.remove(&pair)?;
        self.probe_bytes -= probe.kept_bytes() as u64;
        self.probe_tcp.held_now -= probe.held_bytes() as u64;
        Some(probe)
    }

    /// The probe of the connection `key` (its server now known) becomes a connection followed:
    /// what it kept is read again, in the order it came. False when there was no such probe.
    fn promote(&mut self, key: ConnectionKey) -> bool {
        let Some(probe) = self.forget_probe(Pair::new(key.client, key.server)) else { return false };
        if self.connections.len() >= MAX_CONNECTIONS {
            self.counts.not_followed += 1;
            return true;
        }
        let counts = &mut self.counts;
        counts.found += 1;
        let held = probe.held_bytes() as u64;
        counts.tcp.held_now += held;
        let client_end = usize::from(probe.ends[0] != key.client);
        let mut talk = Talk::new(key.client, probe.seen_from_syn(), counts);
        let ([a, b], log) = probe.into_parts();
        let (to_server, to_client) = if client_end == 0 { (a, b) } else { (b, a) };
        for logged in log {
            let piece = match &logged.piece {
                detect::Kept::Bytes(bytes) => tcp::Piece::Bytes(bytes),
                detect::Kept::Gap(n) => {
                    counts.tcp.gaps += 1;
                    counts.tcp.gap_bytes += n;
                    tcp::Piece::Gap(*n)
                }
            };
            if logged.from == client_end {
                talk.client_sent(piece, logged.nanos, &mut self.batch, counts);
            } else {
                talk.server_sent(piece, logged.nanos, &mut self.batch, counts);
            }
        }
        self.connections.insert(key, Box::new(Connection { to_server, to_client, talk }));
        true
    }

    /// A connection ends: what it held early comes out, and it is forgotten.
    fn close(&mut self, key: &ConnectionKey) {
        let Some(mut conn) = self.connections.remove(key) else { return };
        self.finish(&mut conn);
    }

    fn finish(&mut self, conn: &mut Connection) {
        let Connection { to_server, talk, .. } = conn;
        let (batch, counts) = (&mut self.batch, &mut self.counts);
        // Early segments are from the time of the last packet; the batch keeps time order
        // closely enough for reports (their times are within the hold bound of each other).
        let nanos = batch.calls.last().map_or(0, |m| m.micros * 1000);
        let mut tcp = counts.tcp;
        to_server.flush(&mut tcp, &mut |piece| talk.client_sent(piece, nanos, batch, counts));
        counts.tcp = tcp;
        talk.requests.end();
        talk.exchange.end(batch, &mut counts.exchange);
        counts.resp.merge(&talk.requests.counts);
    }

    /// The end of the capture: every connection still open ends, and every probe gives up.
    fn end(&mut self) {
        let probes: Vec<Pair> = self.probes.keys().copied().collect();
        for pair in probes {
            let Some(probe) = self.probes.get(&pair) else { continue };
            match probe.give_up() {
                detect::Detection::Server(end) => {
                    let (server, client) = (probe.ends[end], probe.ends[1 - end]);
                    self.found(server);
                    self.promote(ConnectionKey { client, server });
                }
                verdict => {
                    self.counts.ambiguous += u64::from(verdict == detect::Detection::Ambiguous);
                    self.counts.other_ports += self.forget_probe(pair).map_or(0, |p| p.packets);
                }
            }
        }
        let open: Vec<ConnectionKey> = self.connections.keys().copied().collect();
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

    /// A TCP segment from `src` to `dst` port, as an Ethernet frame (a port under 40000 is the
    /// server's, on 10.0.0.2).
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
        let (from, to) = if src < 40000 { (server, client) } else { (client, server) };
        eth.extend(ip::tests::v4_packet(from, to, ip::TCP, &tcp));
        eth
    }

    const SYN: u8 = 0x02;
    const ACK: u8 = 0x10;
    const FIN: u8 = 0x01;

    /// The requests of a capture of `frames` (time 1 s apart), as `client db words…`, and what
    /// it counted.
    fn read(frames: &[Vec<u8>], ports: &[u16]) -> (Vec<String>, CaptureCounts) {
        let packets: Vec<(u64, &[u8])> =
            frames.iter().enumerate().map(|(i, f)| ((i as u64 + 1) * 1_000_000, &f[..])).collect();
        let file = file::tests::pcap(false, false, 1, &packets);
        let mut got = Vec::new();
        let counts = read_all(&file[..], ports, Stop::never(), |batch| -> Result<(), ()> {
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
        let frames = [frame(40009, 6379, 0, SYN, b""), frame(40009, 6379, 1, ACK, b"*2\r\n$3\r\nGET\r\n$100\r\nab")];
        let (got, counts) = read(&frames, &[6379]);
        assert!(got.is_empty());
        assert_eq!(counts.resp.unfinished, 1);
        assert!(counts.summary(&[6379]).contains("1 request cut short by the end of the capture"));
    }

    /// The frames of a conversation between client port `client` and server port `server`, the
    /// client's SYN first when `syn`: `turns` are (from the client?, bytes).
    fn conversation(client: u16, server: u16, syn: bool, turns: &[(bool, &[u8])]) -> Vec<Vec<u8>> {
        let (mut seq_c, mut seq_s) = (1000u32, 5000u32);
        let mut frames = Vec::new();
        if syn {
            frames.push(frame(client, server, seq_c - 1, SYN, b""));
            frames.push(frame(server, client, seq_s - 1, SYN | ACK, b""));
        }
        for (from_client, bytes) in turns {
            let (src, dst, seq) =
                if *from_client { (client, server, &mut seq_c) } else { (server, client, &mut seq_s) };
            frames.push(frame(src, dst, *seq, ACK, bytes));
            *seq += bytes.len() as u32;
        }
        frames
    }

    #[test]
    fn a_server_on_another_port_is_told_by_its_replies() {
        let get = b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";
        let set = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n";
        let mut frames =
            conversation(40000, 7000, true, &[(true, set), (false, b"+OK\r\n"), (true, get), (false, b"$1\r\nv\r\n")]);
        // A connection to the same server picked up mid-way: read at once, its server known.
        frames.extend(conversation(40001, 7000, false, &[(true, get), (false, b"$1\r\nv\r\n")]));
        // Another server, mid-way: two exchanges tell it; the requests before are read again.
        frames.extend(conversation(
            40002,
            7001,
            false,
            &[(true, set), (false, b"+OK\r\n"), (true, get), (false, b":1\r\n")],
        ));
        // Not Redis: HTTP, and a POP3 server that greets first and answers inline commands.
        frames.extend(conversation(
            40003,
            8080,
            true,
            &[(true, b"GET / HTTP/1.1\r\n\r\n"), (false, b"HTTP/1.1 200 OK\r\n\r\n")],
        ));
        let pop3: [(bool, &[u8]); 4] =
            [(false, b"+OK ready\r\n"), (true, b"USER u\r\n"), (false, b"+OK\r\n"), (true, b"PASS secret\r\n")];
        frames.extend(conversation(40004, 110, true, &pop3));
        // Both ends send arrays of bulk strings, picked up mid-way: which is the server is not known.
        let both: Vec<(bool, &[u8])> = (0..4).map(|i| (i % 2 == 0, &get[..])).collect();
        frames.extend(conversation(40005, 9000, false, &both));
        let (got, counts) = read(&frames, &[]);
        let want = [
            "10.0.0.1:40000 0 SET k v -> 5 B 1000000 us",
            "10.0.0.1:40000 0 GET k -> 7 B 1000000 us",
            "10.0.0.1:40001 0 GET k",
            "10.0.0.1:40002 0 SET k v",
            "10.0.0.1:40002 0 GET k",
        ];
        assert_eq!(got, want);
        assert_eq!((counts.connections, counts.found, counts.picked_up, counts.ambiguous), (3, 2, 2, 1));
        assert_eq!(counts.servers_found, ["10.0.0.2:7000".parse().unwrap(), "10.0.0.2:7001".parse().unwrap()]);
        let said = counts.summary(&[]);
        assert!(said.contains("2 connections read on other ports, their server told by its RESP replies (10.0.0.2:7000, 10.0.0.2:7001)"), "{said}");
        assert!(said.contains("1 connection on other ports not read: both ends looked like clients"), "{said}");
        assert!(said.contains("packets of ports other than 6379 not from a RESP server's connections"), "{said}");
        // Ports named: only theirs are read.
        let (got, counts) = read(&frames, &[7001]);
        assert_eq!(got, want[3..]);
        assert_eq!(counts.found, 0);
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
            // On a port not named, probed: the same, and no more.
            let moved: Vec<Vec<u8>> =
                segments.iter().map(|(c, seq, flags, p)| frame(40000 + c, 7000, *seq, *flags, p)).collect();
            let (found, counts) = read(&moved, &[]);
            proptest::prop_assert_eq!(found.len() as u64, counts.requests);
            let mut cut = file::tests::pcap(false, false, 1, &[(1, &frames.concat())]);
            cut.truncate(cut.len() / 2);
            let counts = read_all(&cut[..], &[6379], Stop::never(), |_| -> Result<(), ()> { Ok(()) }).unwrap();
            proptest::prop_assert!(counts.packets <= 1);
        }
    }
}
