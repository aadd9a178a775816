//! The integration tests: one binary, one module per area. `cargo test --test it NAME::` runs one area.

mod common;

mod accuracy;
mod capture;
mod cli;
mod cluster;
mod column_stores;
mod command_table;
mod commands_file;
mod connect;
mod connect_tls;
mod credentials;
mod docs;
mod fresh_machine;
mod golden;
mod hostile;
mod imports;
mod layout;
mod live;
mod memory;
mod numbers;
mod properties;
mod ranges;
mod readme;
mod redis_e2e;
mod rolling;
mod screen;
