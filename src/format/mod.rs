//! The wire formats a line is written in: a MONITOR line and its quoting ([`monitor`], over the
//! byte scanning of [`scan`]), the printable escaping of keys and arguments in records and
//! reports ([`escape`]), and the summary of an argument too long to keep ([`long_arg`]). Below
//! every stage that reads or writes lines.

pub mod escape;
pub mod long_arg;
pub mod monitor;
pub mod scan;
