//! Reading: the first stage. Bytes from files, pipes, FIFOs and standard input ([`sources`]),
//! from a server's MONITOR connection ([`connect`]), or from a packet capture ([`capture`]),
//! become lines ([`lines`]; a line too long to hold made short by [`compact`]) or, from packets,
//! the requests they carry: the values the wire formats ([`crate::format`]) describe. [`input`]
//! hands them on to the pipeline as one stream of [`event`]s, reading on a thread per input
//! ([`threads`]) when there are several or they are live. A single large regular file whose
//! report is written once is cut into [`ranges`] instead, one per core ([`crate::sink::split`]).

pub mod capture;
pub mod compact;
pub mod connect;
pub mod event;
pub mod input;
pub mod lines;
pub mod ranges;
pub mod sources;
pub mod threads;
