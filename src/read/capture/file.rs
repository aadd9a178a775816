//! The capture file formats: pcap (both byte orders, micro- and nanosecond timestamps) and
//! pcapng (section header, interface description, enhanced, simple and obsolete packet blocks,
//! any byte order per section, a link type and a timestamp resolution per interface).
//!
//! [`Packets`] reads a stream of either format in bounded memory (one packet at a time, never
//! more than [`MAX_PACKET`] of it kept) and hands out each packet with its link type and its
//! time in nanoseconds. A file cut short, or a block whose length makes no sense, ends the
//! reading with the reason kept in [`Damage`]: what came before still counts.

use std::io::{self, Read};

/// The most of one packet kept: a packet larger than this (no snap length does that) keeps
/// its head, and the rest counts as cut by the snap length.
pub const MAX_PACKET: usize = 256 * 1024;

/// The largest pcapng block taken for real: beyond it the file is damaged.
const MAX_BLOCK: u64 = 64 << 20;

/// pcap's magic numbers as read in little-endian order.
const PCAP_MICROS: u32 = 0xa1b2_c3d4;
const PCAP_NANOS: u32 = 0xa1b2_3c4d;
/// pcapng's section header block type (the same in both byte orders) and byte-order magic.
const PCAPNG_SHB: u32 = 0x0a0d_0d0a;
const PCAPNG_BOM: u32 = 0x1a2b_3c4d;

/// Whether `first` (at least 4 bytes of an input) starts a capture file.
pub fn is_capture(first: &[u8]) -> bool {
    let Some(magic) = first.get(..4) else { return false };
    let le = u32::from_le_bytes([magic[0], magic[1], magic[2], magic[3]]);
    let be = u32::from_be_bytes([magic[0], magic[1], magic[2], magic[3]]);
    [PCAP_MICROS, PCAP_NANOS, PCAPNG_SHB].iter().any(|&m| m == le || m == be)
}

/// One packet as the file holds it.
#[derive(Debug, Clone, Copy)]
pub struct Packet<'a> {
    /// The link type of its interface (LINKTYPE_*).
    pub link: u32,
    /// When it was captured, in nanoseconds since the epoch.
    pub nanos: u64,
    /// The bytes captured (at most the snap length, and at most [`MAX_PACKET`]); what the
    /// capture did not keep is told by the IP header's lengths.
    pub data: &'a [u8],
}

/// Why a capture ended before its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Damage {
    /// The file ended inside a packet or a header (a capture still being written, or cut).
    Truncated,
    /// A header that no capture writes: the rest cannot be read.
    Corrupt(&'static str),
}

/// An interface of a pcapng section: its link type, and its timestamp unit.
#[derive(Debug, Clone, Copy)]
struct Interface {
    link: u32,
    /// Timestamp ticks per second.
    ticks: Ticks,
    /// Seconds added to every timestamp (if_tsoffset).
    offset: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ticks {
    /// 10^-n seconds.
    Decimal(u8),
    /// 2^-n seconds.
    Binary(u8),
}

impl Ticks {
    fn to_nanos(self, ticks: u64) -> u64 {
        match self {
            Ticks::Decimal(n) if n <= 9 => ticks.saturating_mul(10u64.pow(9 - u32::from(n))),
            Ticks::Decimal(n) => ticks / 10u64.saturating_pow(u32::from(n) - 9),
            Ticks::Binary(n) => ((u128::from(ticks) * 1_000_000_000) >> n.min(127)) as u64,
        }
    }
}

/// The format, once the first header is read.
#[derive(Debug, Clone, Copy)]
enum Format {
    Pcap {
        big: bool,
        nanos: bool,
        link: u32,
    },
    /// pcapng: the byte order of the current section.
    Pcapng {
        big: bool,
    },
}

/// Reads packets from a capture stream.
pub struct Packets<R> {
    input: R,
    buf: Vec<u8>,
    /// The unread bytes are `buf[start..end]`.
    start: usize,
    end: usize,
    eof: bool,
    format: Option<Format>,
    interfaces: Vec<Interface>,
    /// The time of the last packet, for simple packet blocks (which have none).
    last_nanos: u64,
    /// Bytes of the current packet past [`MAX_PACKET`], still to be skipped.
    skip: u64,
    pub damage: Option<Damage>,
    /// The bytes read so far.
    pub bytes: u64,
}

impl<R: Read> Packets<R> {
    pub fn new(input: R) -> Packets<R> {
        Packets {
            input,
            buf: vec![0; MAX_PACKET + 64 * 1024],
            start: 0,
            end: 0,
            eof: false,
            format: None,
            interfaces: Vec::new(),
            last_nanos: 0,
            skip: 0,
            damage: None,
            bytes: 0,
        }
    }

    /// The bytes read and not handed out yet: with few, the next packet may wait for a read.
    pub fn buffered(&self) -> usize {
        self.end - self.start
    }

    /// Makes `n` bytes available at `start` (fewer at the end of the input): false at the end.
    fn fill(&mut self, n: usize) -> io::Result<bool> {
        debug_assert!(n <= self.buf.len());
        if self.end - self.start >= n {
            return Ok(true);
        }
        if self.start + n > self.buf.len() {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        while self.end - self.start < n && !self.eof {
            match self.input.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(k) => {
                    self.end += k;
                    self.bytes += k as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(self.end - self.start >= n)
    }

    /// Drops `n` bytes of the input (the part of a packet not kept), reading through them.
    fn discard(&mut self, mut n: u64) -> io::Result<bool> {
        while n > 0 {
            if self.start == self.end && !self.fill(1)? {
                return Ok(false);
            }
            let take = ((self.end - self.start) as u64).min(n) as usize;
            self.start += take;
            n -= take as u64;
        }
        Ok(true)
    }

    fn u32_at(&self, at: usize, big: bool) -> u32 {
        let b = [self.buf[at], self.buf[at + 1], self.buf[at + 2], self.buf[at + 3]];
        if big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    }

    fn u16_at(&self, at: usize, big: bool) -> u16 {
        let b = [self.buf[at], self.buf[at + 1]];
        if big {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        }
    }

    /// Whether the input would end here: the end of a capture, not a cut.
    fn at_end(&mut self) -> io::Result<bool> {
        Ok(!self.fill(1)?)
    }

    fn truncated<T>(&mut self) -> io::Result<Option<T>> {
        self.damage = Some(Damage::Truncated);
        Ok(None)
    }

    fn corrupt<T>(&mut self, why: &'static str) -> io::Result<Option<T>> {
        self.damage = Some(Damage::Corrupt(why));
        Ok(None)
    }

    /// The next packet, or `None` at the end (see [`Packets::damage`] for why it ended).
    pub fn next_packet(&mut self) -> io::Result<Option<Packet<'_>>> {
        if self.damage.is_some() {
            return Ok(None);
        }
        if self.skip > 0 {
            let skip = std::mem::take(&mut self.skip);
            if !self.discard(skip)? {
                return self.truncated();
            }
        }
        if self.format.is_none() && !self.start_of_file()? {
            return Ok(None);
        }
        match self.format {
            Some(Format::Pcap { big, nanos, link }) => self.pcap_record(big, nanos, link),
            Some(Format::Pcapng { .. }) => self.pcapng_packet(),
            None => Ok(None),
        }
    }

    /// Reads the file header of a pcap file (a pcapng section header is read as a block).
    fn start_of_file(&mut self) -> io::Result<bool> {
        if !self.fill(4)? {
            if self.end > self.start {
                self.damage = Some(Damage::Truncated);
            }
            return Ok(false);
        }
        let le = self.u32_at(self.start, false);
        let be = self.u32_at(self.start, true);
        if le == PCAPNG_SHB {
            self.format = Some(Format::Pcapng { big: false });
            return Ok(true);
        }
        let (big, nanos) = match (le, be) {
            (PCAP_MICROS, _) => (false, false),
            (PCAP_NANOS, _) => (false, true),
            (_, PCAP_MICROS) => (true, false),
            (_, PCAP_NANOS) => (true, true),
            _ => {
                self.damage = Some(Damage::Corrupt("not a pcap or pcapng file"));
                return Ok(false);
            }
        };
        if !self.fill(24)? {
            self.damage = Some(Damage::Truncated);
            return Ok(false);
        }
        // The link type's upper bits say whether frames carry a check sequence.
        let link = self.u32_at(self.start + 20, big) & 0x0fff_ffff;
        self.start += 24;
        self.format = Some(Format::Pcap { big, nanos, link });
        Ok(true)
    }

    /// One pcap record.
    fn pcap_record(&mut self, big: bool, nanos: bool, link: u32) -> io::Result<Option<Packet<'_>>> {
        if self.at_end()? {
            return Ok(None);
        }
        if !self.fill(16)? {
            return self.truncated();
        }
        let at = self.start;
        let secs = u64::from(self.u32_at(at, big));
        let frac = u64::from(self.u32_at(at + 4, big));
        let captured = self.u32_at(at + 8, big) as u64;
        if captured > MAX_BLOCK {
            return self.corrupt("a packet record longer than any capture writes");
        }
        self.start += 16;
        let nanos = secs * 1_000_000_000 + if nanos { frac } else { frac * 1000 };
        self.packet(link, nanos, captured)
    }

    /// Hands out the next `captured` bytes as a packet, keeping at most [`MAX_PACKET`].
    fn packet(&mut self, link: u32, nanos: u64, captured: u64) -> io::Result<Option<Packet<'_>>> {
        let kept = captured.min(MAX_PACKET as u64) as usize;
        if !self.fill(kept)? {
            return self.truncated();
        }
        self.skip = captured - kept as u64;
        let data = &self.buf[self.start..self.start + kept];
        self.start += kept;
        self.last_nanos = nanos;
        Ok(Some(Packet { link, nanos, data }))
    }

    /// pcapng blocks up to the next packet.
    fn pcapng_packet(&mut self) -> io::Result<Option<Packet<'_>>> {
        loop {
            if self.at_end()? {
                return Ok(None);
            }
            if !self.fill(12)? {
                return self.truncated();
            }
            let Some(Format::Pcapng { mut big }) = self.format else { return Ok(None) };
            let kind = self.u32_at(self.start, big);
            if kind == PCAPNG_SHB {
                // A new section may change the byte order.
                big = match self.u32_at(self.start + 8, false) {
                    PCAPNG_BOM => false,
                    m if m.swap_bytes() == PCAPNG_BOM => true,
                    _ => return self.corrupt("a pcapng section header with no byte-order magic"),
                };
                self.format = Some(Format::Pcapng { big });
                self.interfaces.clear();
            }
            let len = u64::from(self.u32_at(self.start + 4, big));
            if len < 12 || len % 4 != 0 || len > MAX_BLOCK {
                return self.corrupt("a pcapng block of impossible length");
            }
            match kind {
                1 => self.interface_block(len as usize, big)?,
                6 | 3 | 2 => return self.packet_block(kind, len, big),
                _ => {
                    if !self.discard(len)? {
                        return self.truncated();
                    }
                    continue;
                }
            }
            if self.damage.is_some() {
                return Ok(None);
            }
        }
    }

    /// An interface description block: link type, if_tsresol, if_tsoffset.
    fn interface_block(&mut self, len: usize, big: bool) -> io::Result<()> {
        if len > self.buf.len() || !self.fill(len)? {
            self.damage = Some(Damage::Truncated);
            return Ok(());
        }
        let at = self.start;
        let mut iface = Interface { link: u32::from(self.u16_at(at + 8, big)), ticks: Ticks::Decimal(6), offset: 0 };
        // Options: code, length, value padded to 4 bytes; code 0 ends them.
        let mut opt = at + 16;
        let stop = at + len - 4;
        while opt + 4 <= stop {
            let code = self.u16_at(opt, big);
            let olen = usize::from(self.u16_at(opt + 2, big));
            let value = opt + 4;
            if code == 0 || value + olen > stop {
                break;
            }
            match (code, olen) {
                (9, 1) => {
                    let v = self.buf[value];
                    iface.ticks = if v & 0x80 == 0 { Ticks::Decimal(v) } else { Ticks::Binary(v & 0x7f) };
                }
                (14, 8) => {
                    let hi = u64::from(self.u32_at(value, big));
                    let lo = u64::from(self.u32_at(value + 4, big));
                    iface.offset = (if big { hi << 32 | lo } else { lo << 32 | hi }) as i64;
                }
                _ => {}
            }
            opt = value + olen.div_ceil(4) * 4;
        }
        if self.interfaces.len() < 4096 {
            self.interfaces.push(iface);
        }
        self.start += len;
        Ok(())
    }

    /// An enhanced (6), simple (3) or obsolete (2) packet block.
    fn packet_block(&mut self, kind: u32, len: u64, big: bool) -> io::Result<Option<Packet<'_>>> {
        let fixed = match kind {
            6 | 2 => 28,
            _ => 12,
        };
        if len < fixed + 4 || !self.fill(fixed as usize)? {
            return if len < fixed + 4 { self.corrupt("a pcapng packet block too short") } else { self.truncated() };
        }
        let at = self.start;
        let (iface, nanos, captured) = if kind == 3 {
            let wire_len = self.u32_at(at + 8, big);
            (0, None, (len - 16).min(u64::from(wire_len)))
        } else {
            let iface = if kind == 6 { self.u32_at(at + 8, big) as usize } else { self.u16_at(at + 8, big) as usize };
            let ticks = u64::from(self.u32_at(at + 12, big)) << 32 | u64::from(self.u32_at(at + 16, big));
            (iface, Some(ticks), u64::from(self.u32_at(at + 20, big)))
        };
        if captured > len - fixed - 4 {
            return self.corrupt("a pcapng packet longer than its block");
        }
        let Some(&interface) = self.interfaces.get(iface) else {
            return self.corrupt("a pcapng packet of an interface never described");
        };
        let nanos = match nanos {
            Some(ticks) => {
                let n = interface.ticks.to_nanos(ticks);
                n.saturating_add_signed(interface.offset.saturating_mul(1_000_000_000))
            }
            None => self.last_nanos,
        };
        self.start += fixed as usize;
        // What follows the packet: its padding, options and the block's closing length.
        let trailer = len - fixed - captured;
        match self.packet(interface.link, nanos, captured)? {
            Some(_) => {
                self.skip += trailer;
                let kept = captured.min(MAX_PACKET as u64) as usize;
                let data = &self.buf[self.start - kept..self.start];
                Ok(Some(Packet { link: interface.link, nanos, data }))
            }
            None => Ok(None),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A pcap file of `packets` (time in microseconds or nanoseconds, bytes).
    pub fn pcap(big: bool, nanos: bool, link: u32, packets: &[(u64, &[u8])]) -> Vec<u8> {
        let w32 = |out: &mut Vec<u8>, v: u32| out.extend(if big { v.to_be_bytes() } else { v.to_le_bytes() });
        let w16 = |out: &mut Vec<u8>, v: u16| out.extend(if big { v.to_be_bytes() } else { v.to_le_bytes() });
        let mut out = Vec::new();
        w32(&mut out, if nanos { PCAP_NANOS } else { PCAP_MICROS });
        w16(&mut out, 2);
        w16(&mut out, 4);
        w32(&mut out, 0);
        w32(&mut out, 0);
        w32(&mut out, 262144);
        w32(&mut out, link);
        let unit = if nanos { 1_000_000_000 } else { 1_000_000 };
        for (t, data) in packets {
            w32(&mut out, (t / unit) as u32);
            w32(&mut out, (t % unit) as u32);
            w32(&mut out, data.len() as u32);
            w32(&mut out, data.len() as u32);
            out.extend_from_slice(data);
        }
        out
    }

    /// (link type, time, bytes) of each packet.
    type Read = Vec<(u32, u64, Vec<u8>)>;

    fn all(data: &[u8]) -> (Read, Option<Damage>) {
        let mut packets = Packets::new(data);
        let mut out = Vec::new();
        while let Some(p) = packets.next_packet().unwrap() {
            out.push((p.link, p.nanos, p.data.to_vec()));
        }
        (out, packets.damage)
    }

    #[test]
    fn pcap_in_both_byte_orders_and_resolutions() {
        for big in [false, true] {
            let file = pcap(big, false, 1, &[(1_700_000_000_123_456, b"abc"), (1_700_000_001_000_001, b"")]);
            assert!(is_capture(&file));
            let (got, damage) = all(&file);
            assert_eq!(damage, None);
            assert_eq!(got, [(1, 1_700_000_000_123_456_000, b"abc".to_vec()), (1, 1_700_000_001_000_001_000, vec![])]);
            let file = pcap(big, true, 276, &[(1_700_000_000_123_456_789, b"x")]);
            assert_eq!(all(&file).0, [(276, 1_700_000_000_123_456_789, b"x".to_vec())]);
        }
    }

    #[test]
    fn a_cut_pcap_keeps_what_came_before() {
        let file = pcap(false, false, 1, &[(1, b"first"), (2, b"second")]);
        for cut in 25..file.len() {
            let (got, damage) = all(&file[..cut]);
            let whole = if cut >= file.len() - 22 { 1 } else { 0 };
            assert_eq!(got.len(), whole, "cut at {cut}");
            let at_boundary = cut == 24 || cut == file.len() - 22;
            assert_eq!(damage.is_none(), at_boundary, "cut at {cut}");
        }
        assert!(!is_capture(b"1700000000.000000 [0 127.0.0.1:1] \"get\" \"k\""));
        assert_eq!(all(b"\xd4\xc3\xb2").1, Some(Damage::Truncated));
    }

    /// A pcapng block of `kind` with `body`, in byte order `big`.
    pub fn block(big: bool, kind: u32, body: &[u8]) -> Vec<u8> {
        let w32 = |v: u32| if big { v.to_be_bytes() } else { v.to_le_bytes() };
        let padded = body.len().div_ceil(4) * 4;
        let len = (12 + padded) as u32;
        let mut out = w32(kind).to_vec();
        out.extend(w32(len));
        out.extend_from_slice(body);
        out.resize(8 + padded, 0);
        out.extend(w32(len));
        out
    }

    /// A pcapng section: its header, one interface per (link, tsresol), then `packets`
    /// (interface, ticks, bytes) as enhanced packet blocks (a simple one for interface `u32::MAX`).
    pub fn pcapng(big: bool, interfaces: &[(u16, Option<u8>)], packets: &[(u32, u64, &[u8])]) -> Vec<u8> {
        let w32 = |v: u32| if big { v.to_be_bytes() } else { v.to_le_bytes() };
        let w16 = |v: u16| if big { v.to_be_bytes() } else { v.to_le_bytes() };
        let mut shb = w32(PCAPNG_BOM).to_vec();
        shb.extend(w16(1));
        shb.extend(w16(0));
        shb.extend([0xff; 8]);
        let mut out = block(big, PCAPNG_SHB, &shb);
        for &(link, resol) in interfaces {
            let mut idb = w16(link).to_vec();
            idb.extend(w16(0));
            idb.extend(w32(262144));
            if let Some(r) = resol {
                idb.extend(w16(9));
                idb.extend(w16(1));
                idb.extend([r, 0, 0, 0]);
                idb.extend([0; 4]);
            }
            out.extend(block(big, 1, &idb));
        }
        for &(iface, ticks, data) in packets {
            if iface == u32::MAX {
                let mut spb = w32(data.len() as u32).to_vec();
                spb.extend_from_slice(data);
                out.extend(block(big, 3, &spb));
                continue;
            }
            let mut epb = w32(iface).to_vec();
            epb.extend(w32((ticks >> 32) as u32));
            epb.extend(w32(ticks as u32));
            epb.extend(w32(data.len() as u32));
            epb.extend(w32(data.len() as u32));
            epb.extend_from_slice(data);
            out.extend(block(big, 6, &epb));
        }
        out
    }

    #[test]
    fn pcapng_interfaces_resolutions_and_sections() {
        for big in [false, true] {
            let mut file = pcapng(
                big,
                &[(1, None), (113, Some(9)), (276, Some(0x80 | 10))],
                &[(0, 1_000_001, b"a"), (1, 2_000_000_003, b"bb"), (2, 3 << 10, b"ccc"), (u32::MAX, 0, b"dddd")],
            );
            // A second section in the other byte order, with its own interfaces.
            file.extend(pcapng(!big, &[(101, None)], &[(0, 5, b"e")]));
            assert!(is_capture(&file));
            let (got, damage) = all(&file);
            assert_eq!(damage, None);
            let want = [
                (1, 1_000_001_000, b"a".to_vec()),
                (113, 2_000_000_003, b"bb".to_vec()),
                (276, 3_000_000_000, b"ccc".to_vec()),
                // A simple packet block is of the first interface, at the last time seen.
                (1, 3_000_000_000, b"dddd".to_vec()),
                (101, 5_000, b"e".to_vec()),
            ];
            assert_eq!(got, want);
            for cut in 1..file.len() {
                let (got, _) = all(&file[..cut]);
                assert_eq!(got[..], want[..got.len()], "cut at {cut}");
            }
        }
        let file = pcapng(false, &[], &[(0, 1, b"a")]);
        assert!(matches!(all(&file).1, Some(Damage::Corrupt(_))));
    }

    #[test]
    fn a_packet_over_the_limit_keeps_its_head() {
        let big = vec![7u8; MAX_PACKET + 1000];
        let file = pcap(false, false, 1, &[(1, &big), (2, b"next")]);
        let (got, damage) = all(&file);
        assert_eq!(damage, None);
        assert_eq!(got[0].2.len(), MAX_PACKET);
        assert_eq!(got[1].2, b"next");
    }
}
