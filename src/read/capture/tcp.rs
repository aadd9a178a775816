//! TCP: the segment header, and one direction of a connection put back in sequence order.
//!
//! A [`Reassembly`] takes segments as they were captured and hands out the byte stream in order:
//! retransmitted and overlapping bytes are dropped, segments that arrive early are held (at
//! most [`MAX_HELD`] of them, [`MAX_HELD_BYTES`] in all, and [`MAX_ALL_HELD_BYTES`] on all
//! streams together), and a hole that does not fill in
//! time (a packet the capture lost, a payload the snap length cut) is handed out as a gap of
//! its length, so the reader of the stream can skip it and resynchronise.

/// The most segments held early, per stream.
pub const MAX_HELD: usize = 64;
/// The most bytes held early, per stream.
pub const MAX_HELD_BYTES: usize = 256 * 1024;
/// The most bytes held early on all streams together: 100 000 connections each holding its
/// most would take gigabytes.
pub const MAX_ALL_HELD_BYTES: u64 = 64 << 20;
/// How far ahead of the expected byte a segment may start and still be held: further, and the
/// hole before it is taken as lost at once.
const MAX_AHEAD: u32 = 16 << 20;

/// A TCP segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub syn: bool,
    /// With `syn`, the answer to a SYN: a SYN alone comes from the end that connects.
    pub ack: bool,
    pub fin: bool,
    pub rst: bool,
    pub payload: &'a [u8],
    /// Payload bytes the capture did not keep (the snap length).
    pub missing: u32,
}

/// The segment in an IP payload (`missing` bytes of which the capture cut off).
pub fn parse(ip_payload: &[u8], missing: u32) -> Option<Segment<'_>> {
    let p = ip_payload;
    if p.len() < 20 {
        return None;
    }
    let be16 = |at: usize| u16::from_be_bytes([p[at], p[at + 1]]);
    let header = usize::from(p[12] >> 4) * 4;
    if header < 20 || header > p.len() {
        return None;
    }
    let flags = p[13];
    Some(Segment {
        src_port: be16(0),
        dst_port: be16(2),
        seq: u32::from_be_bytes([p[4], p[5], p[6], p[7]]),
        syn: flags & 0x02 != 0,
        ack: flags & 0x10 != 0,
        fin: flags & 0x01 != 0,
        rst: flags & 0x04 != 0,
        payload: &p[header..],
        missing,
    })
}

/// What a stream hands out, in order.
#[derive(Debug, PartialEq, Eq)]
pub enum Piece<'a> {
    Bytes(&'a [u8]),
    /// Bytes that are not in the capture.
    Gap(u64),
}

/// What a stream counts.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TcpCounts {
    /// Segments wholly seen before (retransmissions), and bytes of overlaps dropped.
    pub retransmitted: u64,
    pub overlap_bytes: u64,
    /// Segments that came before their turn (held, or handed out after a gap).
    pub out_of_order: u64,
    /// Holes in the stream, and their bytes.
    pub gaps: u64,
    pub gap_bytes: u64,
    /// Of the gap bytes, those the snap length cut.
    pub snap_bytes: u64,
    /// The bytes held early now, on all streams.
    pub held_now: u64,
}

/// A segment held until the bytes before it come.
#[derive(Debug)]
struct HeldSegment {
    seq: u32,
    data: Vec<u8>,
    missing: u32,
}

/// One direction of a connection.
#[derive(Debug, Default)]
pub struct Reassembly {
    /// The sequence number of the next byte expected; none before the first segment.
    next: Option<u32>,
    /// Early segments, by sequence number.
    held: Vec<HeldSegment>,
    held_bytes: usize,
}

/// The signed distance from `b` to `a` in sequence space.
fn after(a: u32, b: u32) -> i64 {
    i64::from(a.wrapping_sub(b) as i32)
}

impl Reassembly {
    /// Takes one segment; hands out whatever it puts in order.
    pub fn segment(&mut self, seg: &Segment<'_>, counts: &mut TcpCounts, out: &mut dyn FnMut(Piece<'_>)) {
        let mut seq = seg.seq;
        if seg.syn {
            seq = seq.wrapping_add(1);
            self.next = Some(seq);
            counts.held_now -= self.held_bytes as u64;
            self.held.clear();
            self.held_bytes = 0;
        }
        if seg.payload.is_empty() && seg.missing == 0 {
            return;
        }
        let next = *self.next.get_or_insert(seq);
        let ahead = after(seq, next);
        if ahead > 0 {
            counts.out_of_order += 1;
            if ahead as u64 > u64::from(MAX_AHEAD) {
                // Too far ahead to wait for: what is missing is lost.
                self.skip_to(seq, counts, out);
                self.deliver(seq, seg.payload, seg.missing, counts, out);
            } else {
                self.hold(seq, seg.payload, seg.missing, counts, out);
            }
        } else {
            self.deliver(seq, seg.payload, seg.missing, counts, out);
        }
        self.drain(counts, out);
    }

    /// Hands out the part of a segment starting at `seq` that is new.
    fn deliver(&mut self, seq: u32, data: &[u8], missing: u32, counts: &mut TcpCounts, out: &mut dyn FnMut(Piece<'_>)) {
        let Some(next) = self.next else { return };
        let len = data.len() as u64 + u64::from(missing);
        let seen = (-after(seq, next)).max(0) as u64;
        if seen >= len {
            counts.retransmitted += 1;
            return;
        }
        counts.overlap_bytes += seen;
        let skip = seen.min(data.len() as u64) as usize;
        if skip < data.len() {
            out(Piece::Bytes(&data[skip..]));
        }
        let cut = len - seen.max(data.len() as u64);
        if cut > 0 {
            counts.gaps += 1;
            counts.gap_bytes += cut;
            counts.snap_bytes += cut;
            out(Piece::Gap(cut));
        }
        self.next = Some(next.wrapping_add((len - seen) as u32));
    }

    fn hold(&mut self, seq: u32, data: &[u8], missing: u32, counts: &mut TcpCounts, out: &mut dyn FnMut(Piece<'_>)) {
        if self.held.iter().any(|h| h.seq == seq) {
            counts.retransmitted += 1;
            return;
        }
        while self.held.len() >= MAX_HELD
            || self.held_bytes + data.len() > MAX_HELD_BYTES
            || counts.held_now + data.len() as u64 > MAX_ALL_HELD_BYTES
        {
            // Full: the earliest hole is taken as lost.
            let Some(first) = self.earliest(seq) else { break };
            self.skip_to(first, counts, out);
            self.drain(counts, out);
            if self.next.is_some_and(|n| after(seq, n) <= 0) {
                self.deliver(seq, data, missing, counts, out);
                return;
            }
        }
        let at = self.held.partition_point(|h| after(h.seq, seq) < 0);
        self.held.insert(at, HeldSegment { seq, data: data.to_vec(), missing });
        self.held_bytes += data.len();
        counts.held_now += data.len() as u64;
    }

    /// The earliest of the held segments and a segment at `seq`.
    fn earliest(&self, seq: u32) -> Option<u32> {
        let first = self.held.first().map_or(seq, |h| h.seq);
        Some(if after(seq, first) < 0 { seq } else { first })
    }

    /// Hands out the held segments that are now in turn.
    fn drain(&mut self, counts: &mut TcpCounts, out: &mut dyn FnMut(Piece<'_>)) {
        while let (Some(next), Some(first)) = (self.next, self.held.first()) {
            if after(first.seq, next) > 0 {
                break;
            }
            let h = self.held.remove(0);
            self.held_bytes -= h.data.len();
            counts.held_now -= h.data.len() as u64;
            self.deliver(h.seq, &h.data, h.missing, counts, out);
        }
    }

    /// Declares the bytes up to `seq` lost.
    fn skip_to(&mut self, seq: u32, counts: &mut TcpCounts, out: &mut dyn FnMut(Piece<'_>)) {
        let Some(next) = self.next else { return };
        let lost = after(seq, next);
        if lost > 0 {
            counts.gaps += 1;
            counts.gap_bytes += lost as u64;
            out(Piece::Gap(lost as u64));
            self.next = Some(seq);
        }
    }

    /// The bytes it holds early (counted in [`TcpCounts::held_now`] of the counts it was given).
    pub fn held_bytes(&self) -> usize {
        self.held_bytes
    }

    /// The stream ends (FIN, RST, the end of the capture): what is held comes out, with the
    /// holes before it as gaps.
    pub fn flush(&mut self, counts: &mut TcpCounts, out: &mut dyn FnMut(Piece<'_>)) {
        while let Some(first) = self.held.first().map(|h| h.seq) {
            self.skip_to(first, counts, out);
            self.drain(counts, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(seq: u32, payload: &[u8]) -> Segment<'_> {
        Segment { src_port: 1, dst_port: 2, seq, syn: false, ack: true, fin: false, rst: false, payload, missing: 0 }
    }

    /// The stream's output for `segments`, gaps shown as `<N>`.
    fn stream(segments: &[Segment<'_>]) -> (String, TcpCounts) {
        let mut s = Reassembly::default();
        let mut counts = TcpCounts::default();
        let mut text = String::new();
        let mut out = |p: Piece<'_>| match p {
            Piece::Bytes(b) => text.push_str(std::str::from_utf8(b).unwrap()),
            Piece::Gap(n) => text.push_str(&format!("<{n}>")),
        };
        for g in segments {
            s.segment(g, &mut counts, &mut out);
        }
        s.flush(&mut counts, &mut out);
        (text, counts)
    }

    #[test]
    fn in_order_retransmitted_overlapping_and_early_segments() {
        let syn = Segment { syn: true, ..seg(u32::MAX - 2, b"") };
        // Sequence numbers wrap around inside the stream.
        let (text, counts) =
            stream(&[syn, seg(u32::MAX - 1, b"abc"), seg(3, b"fgh"), seg(u32::MAX - 1, b"abc"), seg(0, b"cdefg")]);
        assert_eq!(text, "abcdefgh");
        assert_eq!((counts.retransmitted, counts.out_of_order, counts.gaps), (1, 1, 0));
        assert_eq!(counts.overlap_bytes, 1 + 2);
    }

    #[test]
    fn a_hole_that_never_fills_is_a_gap() {
        let (text, counts) = stream(&[seg(100, b"ab"), seg(110, b"kl"), seg(104, b"ef")]);
        assert_eq!(text, "ab<2>ef<4>kl");
        assert_eq!((counts.gaps, counts.gap_bytes), (2, 6));
        // A snap length that cut a payload.
        let (text, counts) = stream(&[Segment { missing: 5, ..seg(1, b"ab") }, seg(8, b"xy")]);
        assert_eq!(text, "ab<5>xy");
        assert_eq!(counts.snap_bytes, 5);
    }

    #[test]
    fn early_segments_are_held_within_bounds() {
        let data = vec![b'x'; 1000];
        let mut segments = vec![seg(0, b"a")];
        // 300 early segments, a byte apart from each other: more than are held.
        for i in 0..300u32 {
            segments.push(seg(2 + i * 1001, &data));
        }
        let (text, counts) = stream(&segments);
        assert_eq!(text.len(), 1 + 300 * (3 + 1000));
        assert_eq!(counts.gaps, 300);
        // Far ahead: lost at once.
        let (text, _) = stream(&[seg(0, b"a"), seg(MAX_AHEAD + 10, b"b")]);
        assert_eq!(text, format!("a<{}>b", MAX_AHEAD + 9));
    }
}
