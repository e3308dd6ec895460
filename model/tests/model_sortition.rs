//! Sortition (SORT-*): determinism, credit sums, stake caps, exclusions.

use proptest::prelude::*;
use sa_model::config::LUX_PER_UNIT;
use sa_model::sortition::{draw, hash, mod_be};

proptest! {
    #[test]
    fn draw_is_deterministic_and_sums_to_c_or_capacity(
        seed in any::<[u8; 32]>(),
        step in 0u8..30,
        stakes in proptest::collection::vec(0u64..5, 1..8),
        c in 1u32..20,
    ) {
        let weights: Vec<u64> = stakes.iter().map(|s| s * LUX_PER_UNIT).collect();
        let a = draw(&seed, step, &weights, c);
        let b = draw(&seed, step, &weights, c);
        prop_assert_eq!(a, b);
        let capacity: u32 = stakes.iter().map(|&s| s as u32).sum();
        prop_assert_eq!(a.total(), c.min(capacity));
        for (p, &s) in stakes.iter().enumerate() {
            // A provisioner holds at most one credit per stake unit, and none without stake.
            prop_assert!(u64::from(a.credits(p)) <= s);
        }
    }

    #[test]
    fn mod_be_matches_u128_arithmetic(bytes in any::<[u8; 16]>(), w in 1u64..u64::MAX) {
        let x = u128::from_be_bytes(bytes);
        prop_assert_eq!(u128::from(mod_be(&bytes, w)), x % u128::from(w));
    }
}

#[test]
fn different_steps_draw_differently_somewhere() {
    let weights = vec![LUX_PER_UNIT * 3; 5];
    let seed = hash(&[b"x"]);
    let draws: Vec<_> = (0..9).map(|s| draw(&seed, s, &weights, 4)).collect();
    assert!(draws.windows(2).any(|w| w[0] != w[1]));
}

#[test]
fn zero_weight_is_never_drawn() {
    let weights = vec![0, LUX_PER_UNIT * 2, 0, LUX_PER_UNIT * 2];
    for s in 0..50u8 {
        let c = draw(&hash(&[&[s]]), s, &weights, 4);
        assert_eq!(c.credits(0) + c.credits(2), 0);
        assert_eq!(c.total(), 4);
    }
}

#[test]
fn blake2b_256_known_answer() {
    // BLAKE2b-256 of the empty input (RFC 7693 parameters, 32-byte digest).
    let h = hash(&[]);
    let hex: String = h.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        hex,
        "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8"
    );
}
