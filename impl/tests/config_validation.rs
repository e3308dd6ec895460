//! Genesis files that would break the node later are refused at load, naming the field.

use sa_node::config::{Genesis, Params, MAX_ITERATIONS};
use sa_node::keys::Keypair;
use sa_node::sortition::{step_byte, StepKind};

fn genesis() -> Genesis {
    Genesis::testnet(4, 1_000_000_000_000, Params::default(), 1_000)
}

fn refused(g: &Genesis) -> String {
    g.validate().map(|_| ()).unwrap_err().to_string()
}

#[test]
fn iterations_whose_step_byte_would_wrap_are_refused() {
    // The last allowed iteration's steps fit in one byte and are all distinct.
    let last = MAX_ITERATIONS - 1;
    let steps: Vec<u8> = (0..MAX_ITERATIONS)
        .flat_map(|i| {
            [
                StepKind::Proposal,
                StepKind::Validation,
                StepKind::Ratification,
            ]
            .map(|k| step_byte(i, k))
        })
        .collect();
    let distinct: std::collections::BTreeSet<u8> = steps.iter().copied().collect();
    assert_eq!(distinct.len(), steps.len(), "no two steps share a byte");
    assert_eq!(step_byte(last, StepKind::Ratification), 254);
    let mut g = genesis();
    g.params.max_iterations = MAX_ITERATIONS;
    g.params.relaxed_iterations = 8;
    if let Err(e) = g.validate() {
        panic!("85 iterations must be valid: {e}");
    }
    g.params.max_iterations = MAX_ITERATIONS + 1;
    let e = refused(&g);
    assert!(
        e.contains("params.max_iterations") && e.contains("1..=85"),
        "{e}"
    );
}

#[test]
fn a_total_stake_that_overflows_is_refused_not_a_panic() {
    let mut g = genesis();
    g.provisioners[0].stake = u64::MAX;
    let e = refused(&g);
    assert!(e.contains("provisioners[1].stake"), "{e}");
    assert!(e.contains("overflows"), "{e}");
}

#[test]
fn a_key_without_its_proof_of_possession_is_refused() {
    let mut g = genesis();
    // Provisioner 1's proof, attached to provisioner 2's key.
    g.provisioners[2].pop = Keypair::testnet(1).proof_of_possession();
    let e = refused(&g);
    assert!(e.contains("provisioners[2].pop"), "{e}");
    let mut ring = sa_node::keys::KeyRing::default();
    let k = Keypair::testnet(3);
    assert!(ring
        .insert(k.public, &Keypair::testnet(0).proof_of_possession())
        .is_err());
    assert!(ring.insert(k.public, &k.proof_of_possession()).is_ok());
}

/// Node files: a frame limit under 1 KiB and an idle timeout under a second are refused,
/// naming the field; the defaults load.
#[test]
fn node_files_with_unusable_limits_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let base =
        "secret_key = \"0101010101010101010101010101010101010101010101010101010101010101\"\n\
                genesis = \"genesis.toml\"\nlisten = \"127.0.0.1:7000\"\ndata_dir = \"n\"\n";
    let load = |extra: &str| {
        let f = dir.path().join("node.toml");
        std::fs::write(&f, format!("{base}{extra}")).unwrap();
        sa_node::config::NodeConfig::load(&f).map(|(c, _)| c)
    };
    let c = load("").unwrap();
    assert_eq!((c.max_frame_bytes, c.idle_timeout_ms), (4 << 20, 60_000));
    let e = load("idle_timeout_ms = 999\n").unwrap_err().to_string();
    assert!(
        e.contains("idle_timeout_ms") && e.contains("at least 1000"),
        "{e}"
    );
    let e = load("max_frame_bytes = 100\n").unwrap_err().to_string();
    assert!(e.contains("max_frame_bytes"), "{e}");
}
