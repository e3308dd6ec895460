//! One module per subcommand. A subcommand calls libraries (sa-checker, sa-conformance,
//! sa-testkit, sa-node) and the CLI's shared modules (`config_args`, `output`), never another
//! subcommand (cli/tests/layout.rs).

pub mod campaign;
pub mod check;
pub mod compare;
pub mod conform;
pub mod degrade;
pub mod explore;
pub mod export;
pub mod genesis;
pub mod inspect;
pub mod node;
pub mod odds;
pub mod report;
pub mod simulate;
pub mod soak;
pub mod sweep;
pub mod testnet;
