//! The process's edges: signals ([`signal`]), standard output as a file ([`output`]), the
//! terminals (their size, and echo off for a password: [`terminal`]), and keepalive on a
//! server's connection ([`socket`]).

pub mod output;
pub mod signal;
pub mod socket;
pub mod terminal;
