//! Reading: the first stage. Bytes from files, pipes, FIFOs and standard input ([`input`]), from
//! a server's MONITOR connection ([`connect`]), or from a packet capture ([`capture`]), become
//! lines (a line too long to hold made short by [`compact`]) or, from packets, the requests they
//! carry: the values the wire formats ([`crate::format`]) describe, handed on to the pipeline.

pub mod capture;
pub mod compact;
pub mod connect;
pub mod input;
