//! The process's edges: signals ([`signal`]) and standard output as a file ([`output`]).

pub mod output;
pub mod signal;
