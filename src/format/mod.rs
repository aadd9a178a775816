//! The wire formats a line is written in: a MONITOR line ([`monitor`]) and its quoting
//! ([`quoting`]), over the byte scanning of [`scan`]; the printable escaping of keys and
//! arguments in records and reports ([`escape`]); this program's TSV records, written and read
//! back ([`record`]); RESP as servers and clients speak it ([`resp`]); the summary of an argument
//! too long to keep ([`long_arg`]); and the text forms of a timestamp ([`timestamp`]). Below
//! every stage that reads or writes lines.

pub mod escape;
pub mod long_arg;
pub mod monitor;
pub mod quoting;
pub mod record;
pub mod resp;
pub mod scan;
pub mod timestamp;
